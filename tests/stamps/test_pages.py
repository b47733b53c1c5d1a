"""Stamp pages over HTTP on both stores: order a run, see it, download its files, activate, void."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_authority, make_org, make_product, make_user
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.auth.principal import Grant, Principal
from truyxuat.config import Settings
from truyxuat.registry.models import Organization, Product
from truyxuat.stamps import service
from truyxuat.stamps.models import RunState, Stamp, StampRun, StampState
from truyxuat.stamps.schemas import StampRunIn


@pytest.fixture
def browser(client: TestClient, db: Session) -> Browser:
    """A page client; call .login(user) first."""
    return Browser(client, db)


def _producer(browser: Browser, db: Session, lang: str = "vi") -> tuple[Organization, Product]:
    """Signs in an organization admin who has one product."""
    org = make_org(db, province_code="24")
    product = make_product(db, org, names={"vi": "Vải thiều Lục Ngạn", "en": "Luc Ngan lychee"})
    browser.login(make_user(db, org, Role.org_admin), lang)
    return org, product


def _order(browser: Browser, product: Product, count: str = "8", **extra: str) -> uuid.UUID:
    """Orders a run through the form and returns its id from the redirect."""
    response = browser.post(
        "/stamps/new", {"product_id": str(product.id), "count": count, "kind": "qr", **extra}
    )
    assert response.status_code == 303, response.text
    return uuid.UUID(response.headers["location"].split("?")[0].rsplit("/", 1)[1])


def test_stamp_pages_need_a_login(client: TestClient) -> None:
    response = client.get("/stamps", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("vi", ("Đợt in tem", "Đặt in tem", "Sản phẩm", "Số tem")),
        ("en", ("Stamp print runs", "Order stamps", "Product", "Number of stamps")),
    ],
)
def test_pages_render_in_both_languages(
    browser: Browser, db: Session, lang: str, words: tuple[str, ...]
) -> None:
    _org, product = _producer(browser, db, lang)
    run_id = _order(browser, product, lot="L2026")
    listing = browser.get("/stamps")
    assert listing.status_code == 200 and words[0] in listing.text and "L2026" in listing.text
    form = browser.get("/stamps/new")
    assert form.status_code == 200 and words[1] in form.text and words[3] in form.text
    assert product.names[lang] in form.text
    detail = browser.get(f"/stamps/{run_id}")
    assert detail.status_code == 200 and words[2] in detail.text
    assert detail.text.count('<svg viewBox="0 0') == 6


def test_ordering_a_run_through_the_form_issues_its_stamps(browser: Browser, db: Session) -> None:
    _org, product = _producer(browser, db)
    run_id = _order(browser, product, count="12", lot="L1")
    run = db.get(StampRun, run_id)
    assert run is not None and run.count == 12 and run.state is RunState.generated
    assert run.lot == "L1"
    page = browser.get(f"/stamps/{run_id}?done=issued&n=12")
    assert "12 tem đã được tạo" in page.text


def test_bad_count_is_shown_in_vietnamese_and_nothing_is_created(
    browser: Browser, db: Session
) -> None:
    _org, product = _producer(browser, db)
    for count, message in (("0", "Hãy đặt ít nhất một tem"), ("abc", "Nhập một số nguyên")):
        response = browser.post(
            "/stamps/new", {"product_id": str(product.id), "count": count, "kind": "qr"}
        )
        assert response.status_code == 422
        assert 'id="err-count"' in response.text and message in response.text
    assert db.scalar(select(func.count()).select_from(StampRun)) == 0


def test_another_organizations_run_is_not_found(browser: Browser, db: Session) -> None:
    other = make_org(db)
    theirs = make_product(db, other)
    owner = Principal(label="t", grants=(Grant(other.id, Role.org_admin, other.province_code),))
    run = service.issue_run(db, owner, StampRunIn(product_id=theirs.id, count=2), Settings()).run
    _producer(browser, db)
    assert browser.get(f"/stamps/{run.id}").status_code == 404
    assert browser.get(f"/stamps/{run.id}/codes.csv").status_code == 404
    assert str(run.id) not in browser.get("/stamps").text
    response = browser.post(f"/stamps/{run.id}/void", {"reason": "lost"})
    assert response.status_code == 404


def test_pdf_and_csv_downloads_list_the_stamp_uris(browser: Browser, db: Session) -> None:
    _org, product = _producer(browser, db)
    run_id = _order(browser, product, count="5")
    pdf = browser.get(f"/stamps/{run_id}/stamps.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    roll = browser.get(f"/stamps/{run_id}/stamps.pdf?layout=roll")
    assert roll.content.startswith(b"%PDF")
    response = browser.get(f"/stamps/{run_id}/codes.csv")
    assert response.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(response.text)))
    serials = set(db.scalars(select(Stamp.serial).where(Stamp.run_id == run_id)))
    assert {row["serial"] for row in rows} == serials
    assert all(row["uri"].endswith(f"/01/{product.gtin}/21/{row['serial']}") for row in rows)
    xlsx = browser.get(f"/stamps/{run_id}/codes.xlsx")
    assert xlsx.content.startswith(b"PK")
    assert db.get(StampRun, run_id).state is RunState.printed  # type: ignore[union-attr]


def test_activate_then_void_a_range_with_result_messages(browser: Browser, db: Session) -> None:
    _org, product = _producer(browser, db)
    run_id = _order(browser, product, count="6")
    serials = list(
        db.scalars(select(Stamp.serial).where(Stamp.run_id == run_id).order_by(Stamp.seq))
    )
    missing = browser.post(f"/stamps/{run_id}/activate", {"lot": ""})
    assert missing.status_code == 422 and "err-lot" in missing.text
    unknown = browser.post(
        f"/stamps/{run_id}/activate", {"lot": "L9", "from_serial": "NOPE", "to_serial": serials[1]}
    )
    assert unknown.status_code == 422 and "NOPE" in unknown.text
    response = browser.post(f"/stamps/{run_id}/activate", {"lot": "L9"})
    assert response.status_code == 303
    page = browser.get(response.headers["location"])
    assert "6 tem đã được kích hoạt" in page.text and 'data-state="activated"' in page.text
    response = browser.post(
        f"/stamps/{run_id}/void",
        {"from_serial": serials[0], "to_serial": serials[1], "reason": "Rách tem"},
    )
    assert response.status_code == 303
    assert "2 tem đã bị hủy" in browser.get(response.headers["location"]).text
    states = db.scalars(select(Stamp.state).where(Stamp.run_id == run_id)).all()
    assert states.count(StampState.voided) == 2


def test_anticounterfeit_pins_are_shown_once_and_print_from_the_uploaded_file(
    browser: Browser, db: Session
) -> None:
    _org, product = _producer(browser, db)
    response = browser.post(
        "/stamps/new", {"product_id": str(product.id), "count": "3", "kind": "anticounterfeit"}
    )
    assert response.status_code == 200 and "data:text/csv;base64," in response.text
    run = db.scalar(select(StampRun))
    assert run is not None
    assert browser.get(f"/stamps/{run.id}").text.count("data:text/csv") == 0
    assert browser.get(f"/stamps/{run.id}/stamps.pdf").status_code == 409
    bad = browser.post(
        f"/stamps/{run.id}/stamps.pdf", {}, files={"pins": ("p.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert bad.status_code == 422 and "err-pins" in bad.text
    serials = db.scalars(select(Stamp.serial).where(Stamp.run_id == run.id)).all()
    pins = "serial,pin\n" + "".join(f"{s},1234567{i}\n" for i, s in enumerate(serials))
    pdf = browser.post(
        f"/stamps/{run.id}/stamps.pdf",
        {"layout": "sheet"},
        files={"pins": ("pins.csv", pins.encode(), "text/csv")},
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_authority_sees_its_provinces_runs(browser: Browser, db: Session) -> None:
    producer = make_org(db, province_code="24")
    product = make_product(db, producer)
    owner = Principal(label="t", grants=(Grant(producer.id, Role.org_admin, "24"),))
    run = service.issue_run(db, owner, StampRunIn(product_id=product.id, count=2), Settings()).run
    authority = make_authority(db, province_code="24")
    browser.login(make_user(db, authority, Role.authority))
    assert f"/stamps/{run.id}" in browser.get("/stamps").text
    detail = browser.get(f"/stamps/{run.id}")
    assert detail.status_code == 200 and "/activate" not in detail.text
