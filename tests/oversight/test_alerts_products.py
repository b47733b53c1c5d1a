"""A product's storage temperature range, which the cold-chain rule checks readings against:
set and changed over the API, the product form (decimal comma) and the import; a lowest limit
above the highest is refused with a readable message."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, gtin_for, make_org, make_user
from tests.registry.test_imports import _csv, _post
from tests.web.conftest import Browser
from truyxuat.auth.models import Role
from truyxuat.registry.models import Product

PROBLEM = "application/problem+json"


def test_the_api_sets_changes_and_clears_the_storage_range(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    body = {"gtin": gtin_for(org, 41), "names": {"vi": "Tôm sú đông lạnh"}, "temperature_max": -18}
    created = client.post("/api/v1/products", json=body, headers=headers)
    assert created.status_code == 201, created.text
    product = created.json()
    assert (product["temperature_min"], product["temperature_max"]) == (None, -18.0)
    path = f"/api/v1/products/{product['id']}"
    patched = client.patch(path, json={"temperature_min": -25.5}, headers=headers)
    assert patched.status_code == 200 and patched.json()["temperature_min"] == -25.5
    wrong = client.patch(path, json={"temperature_min": -10}, headers=headers)
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith(PROBLEM)
    assert wrong.json()["errors"][0]["pointer"].endswith("temperature_max")
    cleared = client.patch(path, json={"temperature_max": None}, headers=headers)
    assert cleared.json()["temperature_max"] is None
    assert client.get(path, headers=headers).json()["temperature_min"] == -25.5


def test_the_product_form_reads_a_decimal_comma_and_explains_a_reversed_range(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    browser = Browser(client, db).login(make_user(db, org, Role.org_admin), "vi")
    form = {
        "org_id": str(org.id),
        "gtin": gtin_for(org, 42),
        "name_vi": "Sữa tươi thanh trùng",
        "temperature_min": "6",
        "temperature_max": "2",
    }
    refused = browser.post("/registry/products/new", form)
    assert refused.status_code == 422
    assert "Nhiệt độ bảo quản cao nhất không được thấp hơn nhiệt độ thấp nhất" in refused.text
    created = browser.post(
        "/registry/products/new", {**form, "temperature_min": "2", "temperature_max": "6,5"}
    )
    assert created.status_code == 303, created.text
    product = db.scalar(select(Product).where(Product.gtin == gtin_for(org, 42).zfill(14)))
    assert product is not None and (product.temperature_min, product.temperature_max) == (2, 6.5)
    page = browser.get(created.headers["location"]).text
    assert 'id="storage-temperature"' in page and "6,5" in page
    edit = browser.get(f"/registry/products/{product.id}/edit").text
    assert 'name="temperature_max"' in edit
    saved = browser.post(
        f"/registry/products/{product.id}/edit",
        {"name_vi": "Sữa tươi thanh trùng", "temperature_min": "1", "temperature_max": "6,5"},
    )
    assert saved.status_code == 303
    db.refresh(product)
    assert product.temperature_min == 1


def test_the_products_import_reads_the_storage_range(client: TestClient, db: Session) -> None:
    org = make_org(db)
    rows = [
        ["GTIN", "name_vi", "Nhiệt độ thấp nhất", "Nhiệt độ cao nhất"],
        [gtin_for(org, 43), "Cá tra phi lê đông lạnh", "-25", "-18,5"],
    ]
    response = _post(client, "products", _csv(rows).encode(), api_headers(db, org))
    assert response.status_code == 200, response.text
    product = db.scalar(select(Product).where(Product.gtin == gtin_for(org, 43).zfill(14)))
    assert product is not None and product.temperature_max == -18.5
