"""Settings read from the environment (prefix TRUYXUAT_), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting the platform reads; each is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="TRUYXUAT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/truyxuat.db"
    secret_key: str = ""
    """Signs session cookies; generated into var/secret_key on first use when not set."""
    data_dir: Path = Path("var")
    """Uploaded files (images, certificate documents) live under here."""
    default_locale: str = "vi"
    public_base_url: str = "http://127.0.0.1:8000"
    session_max_age: int = 8 * 3600
    cookie_secure: bool = False
    max_upload_bytes: int = 10 * 1024 * 1024
    epcis_schema: Path | None = None
    """The GS1 EPCIS 2.0 JSON schema file that capture validates against (not bundled)."""
    epcis_xsd: Path | None = None
    """The GS1 EPCIS 2.0 XSD (EPCglobal-epcis-2_0.xsd) XML capture validates against."""
    capture_max_bytes: int = 50 * 1024 * 1024
    """The largest EPCIS document (or single event) capture takes; larger is 413."""
    resolver_base: str = "http://127.0.0.1:8000"
    """The GS1 Digital Link resolver printed in every stamp's QR code (no trailing slash)."""
    stamp_run_max: int = 1_000_000
    resolver_copy_distance_km: float = 100.0
    """Scans of one serial farther apart than this warn of a copied stamp."""
    resolver_copy_days: int = 120
    """A serial first scanned longer ago than this warns of a copied stamp."""
    resolver_cache_seconds: float = 30.0
    """How long a lot's passport (journey, certificates, map) is reused before being re-read."""
    scan_rate_per_second: float = 10.0
    """Consumer scans (resolver requests) one client address may make per second, sustained
    (0 turns the limit off); each serving process counts on its own."""
    scan_rate_burst: int = 60
    """Scans one client address may make at once before the per-second rate applies."""
    public_form_rate_per_minute: float = 30.0
    """Passport form posts (PIN check, fake report, photo) per client address per minute."""
    public_form_rate_burst: int = 20
    """Passport form posts one client address may make at once."""
    ledger_origin: str = "truyxuat.example/ledger"
    """The ledger's name: the origin line of its checkpoints and its signing key's name."""
    ledger_key: str = ""
    """Base64 Ed25519 seed signing checkpoints; generated into var/ledger_key when unset."""
    ledger_witness_name: str = "truyxuat.example/witness"
    """The name this node cosigns other logs' checkpoints under, as a witness."""
    ledger_witness_key: str = ""
    """Base64 Ed25519 seed for cosignatures; generated into var/ledger_witness_key when unset."""
    ledger_witness_logs: list[str] = []
    """Verifier keys of the logs this node witnesses (POST /ledger/cosign)."""
    ledger_witnesses: list[str] = []
    """Verifier keys of the witnesses whose cosignatures this ledger accepts and shows."""
    ledger_witness_urls: list[str] = []
    """Base URLs of witness nodes asked to cosign each new checkpoint in the background."""
    ledger_integrate_interval: float = 1.0
    """Seconds between background integrations of new ledger entries (0 turns it off)."""
    node_role: Literal["enterprise", "province", "national"] = "enterprise"
    """What this node is in the federation: an enterprise's, a province's or the nation's."""
    node_name: str = ""
    """This node's name in the federation (defaults to the ledger origin)."""
    node_base_url: str = ""
    """Where other nodes reach this one (defaults to public_base_url)."""
    node_upstream_urls: list[str] = []
    """Base URLs of the nodes this one pushes its events and master data to."""
    node_upstream_api_key: str = ""
    """The API key this node presents upstream (created there with `truyxuat apikey create`)."""
    sync_batch_size: int = 5000
    """Ledger entries (events) per batch sent upstream."""
    sync_max_attempts: int = 6
    """Tries of one batch (exponential backoff with jitter between them) before a run stops."""
    sync_backoff_seconds: float = 0.5
    """The first retry's delay; each further retry doubles it (with full jitter)."""
    sync_timeout_seconds: float = 60.0
    """How long one upstream request may take before it counts as failed and is retried."""
    portal_url: str = ""
    """The national portal's registration API (empty: the portal connector is off)."""
    portal_token_url: str = ""
    """The portal's OAuth2 token endpoint (client credentials grant)."""
    portal_client_id: str = ""
    """This node's OAuth2 client ID at the portal."""
    portal_client_secret: str = ""
    """This node's OAuth2 client secret at the portal."""

    def resolved_secret_key(self) -> str:
        """Returns the session-signing key, creating a random one in the data dir if unset."""
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    """Returns the process-wide settings (read once from the environment)."""
    return Settings()
