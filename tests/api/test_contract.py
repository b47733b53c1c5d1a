"""The OpenAPI contract, checked by schemathesis against the real app on both stores.

Every documented operation gets generated requests (bounded per operation so CI stays short);
no answer may be a server error, and every answer must match its documented status codes,
content types and schemas. Requests carry an organization admin's API key; the platform-admin
and authority operations still run (their 403 answers must be documented problems too).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from tests.factories import api_headers, make_org, make_product
from truyxuat.app import create_app
from truyxuat.config import Settings
from truyxuat.epcis.validation import SCHEMA_ENV

EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The document does not depend on the store: read it once, to name one test per operation.
_DOCUMENT = create_app(Settings(database_url="sqlite://", secret_key="contract")).openapi()
SCHEMA = schemathesis.openapi.from_dict(_DOCUMENT)
OPERATIONS = [
    (path, method.upper())
    for path, operations in sorted(_DOCUMENT["paths"].items())
    for method in sorted(operations)
]


@pytest.fixture(autouse=True)
def _epcis_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEMA_ENV, str(SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"))


@pytest.fixture
def caller(db: Session) -> dict[str, str]:
    org = make_org(db)
    make_product(db, org)
    headers = api_headers(db, org)
    db.flush()
    return headers


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_operation_keeps_its_contract(
    app: FastAPI, caller: dict[str, str], path: str, method: str
) -> None:
    operation = SCHEMA[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def keeps_contract(case: Any) -> None:
        case.call_and_validate(app=app, headers=caller, checks=CHECKS)

    keeps_contract()
