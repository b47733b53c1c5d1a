"""Products over HTTP: GTIN rules, multilingual names, OCOP, listing, images, tenant isolation."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import api_headers, gtin_for, make_authority, make_org, make_product
from truyxuat.auth.models import AuditEntry, Role
from truyxuat.registry.models import MoitGroup, Organization, Product, ProductImage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(32)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)


def _product_body(gtin: str, **extra: object) -> dict[str, object]:
    return {
        "gtin": gtin,
        "names": {"vi": "Vải thiều Lục Ngạn", "EN": "Luc Ngan lychee", "zh": "陆岸荔枝"},
        **extra,
    }


def test_create_product_stores_gtin14_and_shows_shortest_form(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    gtin13 = gtin_for(org, 42)
    response = client.post(
        "/api/v1/products",
        json=_product_body(
            gtin13,
            descriptions={"vi": "Vải tươi loại 1"},
            category="fruit",
            ocop_stars=4,
            ocop_year=2023,
            net_content="1 kg",
            origin_province_code="24",
        ),
        headers=api_headers(db, org, Role.org_staff),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["gtin"] == "0" + gtin13
    assert body["gtin_display"] == gtin13
    assert body["org_id"] == str(org.id)
    assert body["names"] == {"vi": "Vải thiều Lục Ngạn", "en": "Luc Ngan lychee", "zh": "陆岸荔枝"}
    assert body["images"] == [] and body["image_urls"] == []
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_type == "product", AuditEntry.entity_id == body["id"]
        )
    )
    assert entry is not None and entry.action == "create"


def test_create_product_accepts_gtin8_gtin12_and_gtin14_without_prefix(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    org.gs1_company_prefix = None
    headers = api_headers(db, org)
    for gtin, display in [
        ("96385074", "96385074"),
        ("036000291452", "036000291452"),
        ("18934567890127", "18934567890127"),
    ]:
        response = client.post("/api/v1/products", json=_product_body(gtin), headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["gtin"] == gtin.zfill(14)
        assert response.json()["gtin_display"] == display


def test_create_product_rejects_bad_check_digit_naming_the_expected_one(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    good = gtin_for(org, 5)
    wrong = good[:-1] + str((int(good[-1]) + 3) % 10)
    response = client.post(
        "/api/v1/products", json=_product_body(wrong), headers=api_headers(db, org)
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "gtin"
    assert f"expected {good[-1]}" in error["message"]


def test_create_product_rejects_gtin_outside_company_prefix(
    client: TestClient, db: Session
) -> None:
    org, other = make_org(db), make_org(db)
    response = client.post(
        "/api/v1/products", json=_product_body(gtin_for(other, 1)), headers=api_headers(db, org)
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "gtin"
    assert str(org.gs1_company_prefix) in error["message"]


def test_create_product_rejects_duplicate_gtin(client: TestClient, db: Session) -> None:
    org = make_org(db)
    existing = make_product(db, org)
    response = client.post(
        "/api/v1/products", json=_product_body(existing.gtin[1:]), headers=api_headers(db, org)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "gtin"


def test_create_product_requires_a_vietnamese_name_and_valid_language_tags(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    no_vi = client.post(
        "/api/v1/products",
        json={"gtin": gtin_for(org, 1), "names": {"en": "Lychee"}},
        headers=headers,
    )
    assert no_vi.status_code == 422
    assert no_vi.json()["errors"][0]["field"] == "names"
    bad_tag = client.post(
        "/api/v1/products",
        json={"gtin": gtin_for(org, 1), "names": {"vi": "Vải", "english!": "Lychee"}},
        headers=headers,
    )
    assert bad_tag.status_code == 422
    assert bad_tag.json()["errors"][0]["loc"][0] == "names"


def test_create_product_checks_ocop_rating(client: TestClient, db: Session) -> None:
    org = make_org(db)
    headers = api_headers(db, org)
    cases = [
        ({"ocop_stars": 6, "ocop_year": 2023}, "ocop_stars"),
        ({"ocop_stars": 2, "ocop_year": 2023}, "ocop_stars"),
        ({"ocop_stars": 4}, "ocop_year"),
        ({"ocop_year": 2023}, "ocop_stars"),
        ({"ocop_stars": 4, "ocop_year": 2017}, "ocop_year"),
        ({"ocop_stars": 4, "ocop_year": date.today().year + 2}, "ocop_year"),
    ]
    for extra, field in cases:
        response = client.post(
            "/api/v1/products", json=_product_body(gtin_for(org, 2), **extra), headers=headers
        )
        assert response.status_code == 422, extra
        assert response.json()["errors"][0]["field"] == field, extra
    assert db.scalar(select(Product).where(Product.org_id == org.id)) is None


def test_create_product_rejects_unknown_origin_province(client: TestClient, db: Session) -> None:
    org = make_org(db)
    response = client.post(
        "/api/v1/products",
        json=_product_body(gtin_for(org, 3), origin_province_code="XX"),
        headers=api_headers(db, org),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "origin_province_code"


def test_update_product_changes_names_and_audits_the_diff(client: TestClient, db: Session) -> None:
    org = make_org(db)
    product = make_product(db, org)
    response = client.patch(
        f"/api/v1/products/{product.id}",
        json={"names": {"vi": "Tên mới"}, "moit_group": "beer"},
        headers=api_headers(db, org),
    )
    assert response.status_code == 200, response.text
    assert response.json()["names"] == {"vi": "Tên mới"}
    assert response.json()["moit_group"] == "beer"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.entity_id == str(product.id), AuditEntry.action == "update"
        )
    )
    assert entry is not None and "names" in entry.changes
    dropped = client.patch(
        f"/api/v1/products/{product.id}",
        json={"names": {"en": "No Vietnamese"}},
        headers=api_headers(db, org),
    )
    assert dropped.status_code == 422


def test_list_products_filters_and_searches_names(client: TestClient, db: Session) -> None:
    org, other = make_org(db), make_org(db)
    beer = make_product(
        db, org, names={"vi": "Bia Hạ Long", "en": "Ha Long beer"}, moit_group=MoitGroup.beer
    )
    ocop = make_product(
        db, org, names={"vi": "Chả mực Hạ Long"}, category="seafood", ocop_stars=5, ocop_year=2022
    )
    make_product(db, other, names={"vi": "Bia của B"}, moit_group=MoitGroup.beer)
    headers = api_headers(db, org)

    def ids(params: dict[str, str]) -> list[str]:
        body = client.get("/api/v1/products", params=params, headers=headers).json()
        return [item["id"] for item in body["items"]]

    assert set(ids({})) == {str(beer.id), str(ocop.id)}
    assert ids({"moit_group": "beer"}) == [str(beer.id)]
    assert ids({"ocop": "true"}) == [str(ocop.id)]
    assert ids({"ocop": "false"}) == [str(beer.id)]
    assert ids({"category": "seafood"}) == [str(ocop.id)]
    assert ids({"q": "chả mực"}) == [str(ocop.id)]
    assert ids({"q": "beer"}) == [str(beer.id)]
    assert ids({"q": beer.gtin[1:]}) == [str(beer.id)]
    assert ids({"org_id": str(other.id)}) == []


def test_delete_product_deactivates_it_and_hides_it_from_the_list(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    product = make_product(db, org)
    headers = api_headers(db, org)
    assert client.delete(f"/api/v1/products/{product.id}", headers=headers).status_code == 204
    shown = client.get(f"/api/v1/products/{product.id}", headers=headers).json()
    assert shown["is_active"] is False
    assert client.get("/api/v1/products", headers=headers).json()["total"] == 0
    listed = client.get("/api/v1/products?include_inactive=true", headers=headers).json()
    assert listed["total"] == 1


def test_other_tenant_gets_404_on_every_product_endpoint(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    product = make_product(db, org_b, names={"vi": "Sản phẩm của B"})
    image = _attach_image(client, db, org_b, product)
    headers = api_headers(db, org_a)
    url = f"/api/v1/products/{product.id}"
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, json={"category": "x"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    upload = client.post(
        f"{url}/images", files={"file": ("a.png", PNG, "image/png")}, headers=headers
    )
    assert upload.status_code == 404
    assert client.delete(f"{url}/images/{image['id']}", headers=headers).status_code == 404
    assert client.get(image["url"], headers=headers).status_code == 404
    listed = client.get("/api/v1/products", headers=headers).json()
    assert listed["total"] == 0
    db.expire_all()
    unchanged = db.get(Product, product.id)
    assert unchanged is not None
    assert unchanged.names == {"vi": "Sản phẩm của B"} and unchanged.is_active
    assert unchanged.category == ""
    assert db.scalar(select(ProductImage).where(ProductImage.product_id == product.id))


def test_staff_cannot_create_product_in_another_org(client: TestClient, db: Session) -> None:
    org_a, org_b = make_org(db), make_org(db)
    response = client.post(
        "/api/v1/products",
        json=_product_body(gtin_for(org_b, 1), org_id=str(org_b.id)),
        headers=api_headers(db, org_a, Role.org_staff),
    )
    assert response.status_code in (403, 404)
    assert db.scalar(select(Product).where(Product.org_id == org_b.id)) is None


def test_authority_sees_products_in_its_province_only_and_cannot_change_them(
    client: TestClient, db: Session
) -> None:
    inside, outside = make_org(db, province_code="24"), make_org(db, province_code="96")
    near = make_product(db, inside)
    far = make_product(db, outside)
    headers = api_headers(db, make_authority(db, province_code="24"), Role.authority)
    assert client.get(f"/api/v1/products/{near.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/products/{far.id}", headers=headers).status_code == 404
    listed = client.get("/api/v1/products", headers=headers).json()
    assert [item["id"] for item in listed["items"]] == [str(near.id)]
    patch = client.patch(f"/api/v1/products/{near.id}", json={"category": "x"}, headers=headers)
    assert patch.status_code == 403


def _attach_image(
    client: TestClient, db: Session, org: Organization, product: Product
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/products/{product.id}/images",
        files={"file": ("vai.png", PNG, "image/png")},
        data={"alt": "Quả vải"},
        headers=api_headers(db, org),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_product_images_upload_show_serve_and_delete(client: TestClient, db: Session) -> None:
    org = make_org(db)
    product = make_product(db, org)
    headers = api_headers(db, org)
    first = _attach_image(client, db, org, product)
    second = client.post(
        f"/api/v1/products/{product.id}/images",
        files={"file": ("anh.jpg", JPEG, "image/jpeg")},
        headers=headers,
    ).json()
    assert first["alt"] == {"vi": "Quả vải"} and first["content_type"] == "image/png"
    assert second["position"] == first["position"] + 1
    shown = client.get(f"/api/v1/products/{product.id}", headers=headers).json()
    assert shown["image_urls"] == [first["url"], second["url"]]
    served = client.get(first["url"], headers=headers)
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    deleted = client.delete(f"/api/v1/products/{product.id}/images/{first['id']}", headers=headers)
    assert deleted.status_code == 204
    shown = client.get(f"/api/v1/products/{product.id}", headers=headers).json()
    assert [image["id"] for image in shown["images"]] == [second["id"]]
    assert client.get(first["url"], headers=headers).status_code == 404
    actions = set(
        db.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(product.id)))
    )
    assert {"add_image", "remove_image"} <= actions
