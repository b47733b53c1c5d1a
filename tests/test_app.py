"""The app answers health checks, serves its OpenAPI and speaks problem+json."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import api_headers, make_org


def test_healthz_answers_200(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_lists_registry_paths(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/organizations" in paths


def test_unknown_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_api_without_credentials_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/organizations")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_home_page_renders_in_vietnamese_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="vi">' in response.text


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_machine_paths_answer_problems_as_json_unless_a_browser_asks(client: TestClient) -> None:
    machine = client.post("/epcis/queries", content=b"\xff{", headers={"Accept": "*/*"})
    assert machine.headers["content-type"].startswith("application/problem+json")
    browser = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert browser.headers["content-type"].startswith("text/html")


def test_openapi_documents_errors_as_problem_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    responses = document["paths"]["/api/v1/facilities"]["get"]["responses"]
    for status in ("401", "403", "404", "422", "429"):
        assert list(responses[status]["content"]) == ["application/problem+json"]


def test_hsts_is_sent_only_over_https(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    secure = client.get("https://testserver/healthz")
    assert secure.headers["strict-transport-security"].startswith("max-age=")


def test_nul_characters_are_a_validation_problem_not_a_crash(
    client: TestClient, db: Session
) -> None:
    org = make_org(db)
    response = client.get(
        "/api/v1/organizations", params={"q": "a\x00b"}, headers=api_headers(db, org)
    )
    if db.get_bind().dialect.name == "postgresql":
        assert response.status_code == 422
        assert "NUL" in response.json()["errors"][0]["message"]
    else:
        assert response.status_code == 200  # SQLite stores and compares NUL like any character


def test_error_pages_speak_the_language_the_reader_chose(client: TestClient) -> None:
    client.cookies.set("truyxuat_lang", "en")
    page = client.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "vi"})
    assert page.status_code == 404 and "Not found" in page.text
    problem = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "vi"})
    assert problem.json()["title"] == "Not found"
    client.cookies.set("truyxuat_lang", "vi")
    assert client.get("/api/v1/no-such-thing").json()["title"] == "Không tìm thấy"
