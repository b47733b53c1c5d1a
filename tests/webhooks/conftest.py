"""The real webhook receiver on 127.0.0.1 and the GS1 schema, shared with the EPCIS tests."""

from tests.epcis.test_subscriptions import _schema, receiver  # noqa: F401
