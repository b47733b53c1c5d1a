"""Helpers for page tests: sign a user in through the real login form and read CSRF tokens."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import PASSWORD
from truyxuat.auth.models import User

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A TestClient signed in as one user, posting forms with the page's CSRF token."""

    def __init__(self, client: TestClient, db: Session) -> None:
        self.client = client
        self.db = db
        self.csrf = ""

    def login(self, user: User, lang: str = "vi") -> Browser:
        """Signs in through the login form and remembers the session's CSRF token."""
        self.db.flush()
        self.client.cookies.clear()
        self.client.cookies.set("truyxuat_lang", lang)
        response = self.client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.csrf = csrf_of(response.text)
        return self

    def get(self, url: str) -> httpx.Response:
        """GETs a page (the test's pending rows are flushed first)."""
        self.db.flush()
        return self.client.get(url)

    def post(
        self, url: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None
    ) -> httpx.Response:
        """POSTs a form with the CSRF token, without following the redirect."""
        self.db.flush()
        return self.client.post(
            url, data={"csrf_token": self.csrf, **data}, files=files, follow_redirects=False
        )


@pytest.fixture
def browser(client: TestClient, db: Session) -> Browser:
    """A page client; call .login(user) first."""
    return Browser(client, db)
