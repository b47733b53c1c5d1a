"""Imports every domain's tables so the metadata (and Alembic) sees the whole schema."""

from truyxuat.auth import models as auth_models
from truyxuat.db import Base
from truyxuat.epcis import models as epcis_models  # noqa: F401
from truyxuat.federation import models as federation_models  # noqa: F401
from truyxuat.ledger import models as ledger_models  # noqa: F401
from truyxuat.oversight import models as oversight_models  # noqa: F401
from truyxuat.recall import models as recall_models  # noqa: F401
from truyxuat.registry import models as registry_models
from truyxuat.resolver import models as resolver_models  # noqa: F401
from truyxuat.stamps import models as stamps_models  # noqa: F401
from truyxuat.trace import models as trace_models  # noqa: F401
from truyxuat.webhooks import models as webhooks_models  # noqa: F401

__all__ = ["Base", "auth_models", "registry_models"]
