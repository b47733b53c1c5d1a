"""Recall pages over HTTP on both stores: open from the form, see what it reaches, acknowledge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.trace.chain import build_chain
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.recall.models import Recall, RecallRecipient


def test_open_from_the_form_then_the_recipient_acknowledges(
    client: TestClient, db: Session
) -> None:
    chain = build_chain(db)
    packer = Browser(client, db).login(make_user(db, chain.packer, Role.org_admin), "vi")
    assert packer.get("/recalls").status_code == 200
    bad = packer.post("/recalls", {"epc": "", "reason": "x"})
    assert bad.status_code == 422 and 'id="error-epc"' in bad.text
    response = packer.post(
        "/recalls", {"epc": chain.p1, "reason": "Nhiễm Listeria", "severity": "class_i"}
    )
    assert response.status_code == 303, response.text
    recall = db.scalars(select(Recall)).one()
    detail = packer.get(response.headers["location"])
    assert "Nhiễm Listeria" in detail.text and chain.s1 in detail.text
    assert 'id="ack-form"' not in detail.text
    importer = Browser(client, db).login(make_user(db, chain.importer, Role.org_staff), "en")
    page = importer.get(f"/recalls/{recall.id}")
    assert 'id="ack-form"' in page.text
    done = importer.post(f"/recalls/{recall.id}/acknowledge", {"note": "Quarantined"})
    assert done.status_code == 303
    row = db.scalars(
        select(RecallRecipient).where(RecallRecipient.org_id == chain.importer.id)
    ).one()
    assert row.acknowledged_at is not None and row.note == "Quarantined"
    assert 'id="close-form"' not in page.text
    buyer = Browser(client, db).login(make_user(db, chain.buyer, Role.org_admin), "en")
    assert buyer.get(f"/recalls/{recall.id}").status_code == 404
    packer = Browser(client, db).login(make_user(db, chain.packer, Role.org_admin), "en")
    assert 'id="close-form"' in packer.get(f"/recalls/{recall.id}").text
    assert packer.post(f"/recalls/{recall.id}/close", {}).status_code == 303
    db.refresh(recall)
    assert recall.state.value == "closed"
