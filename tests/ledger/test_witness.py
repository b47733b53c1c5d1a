"""Witnessing: this node cosigns another log's checkpoints only while they stay consistent."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.ledger.conftest import capture
from truyxuat.config import Settings
from truyxuat.epcis.models import EpcisEvent
from truyxuat.ledger import service
from truyxuat.ledger.keys import log_signer, witness_signer
from truyxuat.ledger.notes import ED25519, Checkpoint, Signer, split_note


def trust_ourselves(settings: Settings) -> None:
    """This node witnesses its own log and accepts its own witness (two roles, two keys)."""
    settings.ledger_witness_logs = [log_signer(settings).verifier.vkey()]
    settings.ledger_witnesses = [witness_signer(settings).verifier.vkey()]


def ask(client: TestClient, old: int, proof: list[bytes], note: str) -> Response:
    """POSTs a cosign request in the tlog-witness body layout."""
    body = f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof)
    return client.post("/ledger/cosign", content=body + "\n" + note)


def note_of(db: Session) -> tuple[int, str]:
    """The latest checkpoint's size and note (our signature only)."""
    latest = service.latest_checkpoint(db)
    assert latest is not None
    return latest.tree_size, latest.body + "\n" + latest.signature


def test_a_witness_cosigns_consistent_checkpoints_and_refuses_a_fork(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Cosigned checkpoints show their cosignature; a fork or a rollback gets 409."""
    trust_ourselves(settings)
    capture(db, settings, 3)
    first_size, first_note = note_of(db)
    response = ask(client, 0, [], first_note)
    assert response.status_code == 200, response.text
    latest = service.latest_checkpoint(db)
    assert latest is not None
    assert service.add_cosignature(db, settings, latest, response.text) == (
        settings.ledger_witness_name
    )
    db.flush()
    shown = client.get("/ledger/checkpoint").text
    _, signatures = split_note(shown)
    assert [s.name for s in signatures] == [settings.ledger_origin, settings.ledger_witness_name]

    capture(db, settings, 2, first=10)
    size, note = note_of(db)
    stale = ask(client, 0, [], note)
    assert stale.status_code == 409
    assert stale.headers["Ledger-Tree-Size"] == str(first_size)
    assert stale.headers["content-type"].startswith("application/problem+json")
    good = ask(client, first_size, service.consistency_proof(db, first_size, size), note)
    assert good.status_code == 200, good.text

    # A fork: the log's own key signs a bigger tree that does not extend what was cosigned.
    forged = Checkpoint(settings.ledger_origin, size + 5, os.urandom(32)).body()
    fork_note = forged + "\n" + log_signer(settings).sign_line(forged.encode())
    proof = service.consistency_proof(db, 1, size)
    refused = ask(client, size, proof[:1] * len(proof), fork_note)
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/conflict"
    older = Checkpoint(settings.ledger_origin, first_size, os.urandom(32)).body()
    rollback = ask(client, size, [], older + "\n" + log_signer(settings).sign_line(older.encode()))
    assert rollback.status_code == 409


def test_a_witness_refuses_logs_it_does_not_follow_and_bad_signatures(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """Unknown origins are 404, a checkpoint signed by another key 422."""
    trust_ourselves(settings)
    stranger = Signer("elsewhere.example/ledger", ED25519, Ed25519PrivateKey.generate())
    body = Checkpoint("elsewhere.example/ledger", 1, os.urandom(32)).body()
    assert ask(client, 0, [], body + "\n" + stranger.sign_line(body.encode())).status_code == 404
    impostor = Signer(settings.ledger_origin, ED25519, Ed25519PrivateKey.generate())
    ours = Checkpoint(settings.ledger_origin, 1, os.urandom(32)).body()
    response = ask(client, 0, [], ours + "\n" + impostor.sign_line(ours.encode()))
    assert response.status_code == 422
    assert client.post("/ledger/cosign", content="garbage").status_code == 422


def test_a_cosigned_bundle_names_its_witness(db: Session, settings: Settings) -> None:
    """The bundle carries the witness key; verify-bundle reports who cosigned."""
    trust_ourselves(settings)
    capture(db, settings, 2)
    latest = service.latest_checkpoint(db)
    assert latest is not None
    line = service.cosign(db, settings, old_size=0, proof=[], note=note_of(db)[1])
    service.add_cosignature(db, settings, latest, line)
    digest = db.scalars(select(EpcisEvent.event_hash)).first()
    assert digest is not None
    bundle = service.proof_bundle(db, digest)
    assert bundle is not None
    lines = service.verify_bundle(bundle)
    assert lines[-1] == f"cosigned by {settings.ledger_witness_name}"


def test_bundles_prefer_the_newest_cosigned_checkpoint(db: Session, settings: Settings) -> None:
    """A later checkpoint nobody cosigned yet does not displace a witnessed one."""
    trust_ourselves(settings)
    capture(db, settings, 2)
    witnessed = service.latest_checkpoint(db)
    assert witnessed is not None
    line = service.cosign(db, settings, old_size=0, proof=[], note=note_of(db)[1])
    service.add_cosignature(db, settings, witnessed, line)
    digest = db.scalars(select(EpcisEvent.event_hash)).first()
    assert digest is not None
    capture(db, settings, 2, first=50)
    bundle = service.proof_bundle(db, digest)
    assert bundle is not None
    assert bundle["tree_size"] == witnessed.tree_size
    assert bundle["witness_keys"]


def test_the_log_asks_a_witness_and_catches_it_up_with_a_consistency_proof(
    client: TestClient, db: Session, settings: Settings
) -> None:
    """request_cosignature retries from the size the witness knows and stores the line."""
    trust_ourselves(settings)
    capture(db, settings, 2)
    assert service.request_cosignature(db, settings, "http://testserver", client) == (
        settings.ledger_witness_name
    )
    capture(db, settings, 3, first=20)
    service.request_cosignature(db, settings, "http://testserver", client)
    latest = service.latest_checkpoint(db)
    assert latest is not None
    assert len(service.checkpoint_witnesses(db, latest)) == 1
    settings.ledger_witnesses = []
    capture(db, settings, 1, first=40)
    with pytest.raises(service.LedgerError):
        service.request_cosignature(db, settings, "http://testserver", client)
