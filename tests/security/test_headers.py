"""Issue 20, item 6: security headers on every answer, and no caching of pages and API
answers that carry personal data (static files may be cached)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.headers import HSTS, security_headers

PERSONAL = ("/patientview/list/", "/api/v1/patients/", "/voucherview/list/",
            "/api/v1/vouchers/")


def assert_protected(response):
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "default-src 'self'" in policy
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "same-origin"


def test_the_login_page_cannot_be_framed_or_sniffed(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_protected(response)
    assert "Strict-Transport-Security" not in response.headers, "HSTS only in production"


@pytest.mark.parametrize("url", PERSONAL)
def test_personal_data_is_never_stored_by_a_cache(login, url):
    response = login("admin").get(url)
    assert response.status_code == 200
    assert_protected(response)
    assert response.headers.get("Cache-Control") == "no-store"


def test_refusals_and_errors_carry_the_headers_too(login):
    client = login("admin")
    for response in (client.get("/patientview/show/999999999"),
                     client.get("/api/v1/patients/abc"), client.get("/no/such/page")):
        assert response.status_code in (400, 404), response.request.path
        assert_protected(response)
        assert response.headers.get("Cache-Control") == "no-store"


def test_static_files_may_be_cached(client, app):
    folder = Path(app.static_folder)
    path = next(folder.rglob("*.css")).relative_to(folder).as_posix()
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    response.close()


def test_hsts_in_production_only(app):
    with app.test_request_context("/"):
        production = security_headers(app.response_class("x"), production=True)
        development = security_headers(app.response_class("x"), production=False)
    assert production.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in development.headers
