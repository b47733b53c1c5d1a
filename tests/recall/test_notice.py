"""The public recall banner lookup a passport makes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_org
from truyxuat.recall.models import (
    Recall,
    RecallItem,
    RecallItemKind,
    RecallSeverity,
    RecallState,
)
from truyxuat.recall.service import recall_notice


def _recall(db: Session, *, drill: bool = False, state: RecallState = RecallState.open) -> Recall:
    org = make_org(db, name="Nhà máy bia Hà Nội")
    recall = Recall(
        org_id=org.id,
        epc="https://id.gs1.org/01/08930000000019/10/MALT-1",
        gtin="08930000000019",
        lot="MALT-1",
        reason="Aflatoxin",
        severity=RecallSeverity.class_i,
        state=state,
        drill=drill,
        summary={},
    )
    db.add(recall)
    db.flush()
    db.add(
        RecallItem(
            recall_id=recall.id,
            kind=RecallItemKind.lot,
            ref="https://id.gs1.org/01/08930000000024/10/BEER-1",
            gtin="08930000000024",
            lot="BEER-1",
            depth=1,
        )
    )
    db.flush()
    return recall


def test_notice_of_an_open_recall_reaching_the_lot(db: Session) -> None:
    recall = _recall(db)
    notice = recall_notice(db, "08930000000024", "BEER-1")
    assert notice is not None
    assert notice.recall_id == recall.id
    assert (notice.reason, notice.severity, notice.state) == ("Aflatoxin", "class_i", "open")
    assert notice.opened_by == "Nhà máy bia Hà Nội"
    assert recall_notice(db, "08930000000024", None) is not None
    assert recall_notice(db, "08930000000024", "BEER-2") is None
    assert recall_notice(db, "08930000000031", "BEER-1") is None


def test_drills_and_closed_recalls_raise_no_banner(db: Session) -> None:
    _recall(db, drill=True)
    _recall(db, state=RecallState.closed)
    assert recall_notice(db, "08930000000024", "BEER-1") is None
