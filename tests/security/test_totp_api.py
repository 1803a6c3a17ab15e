"""The second factor on the REST sign-in (issue 20): with UCHET_TOTP_FOR_ADMINS on,
a user holding administration rights gets no JWT from `/api/v1/security/login`
for his password alone — the body must carry `totp`, the current code of his app
or an unused recovery code (each admitting once). Without it, with a wrong one or
before enrolment: 401 with the reason in Russian. Users without admin rights, and
everyone when the parameter is off, sign in as before."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from models.security_log import SecurityEvent
from tests.security.test_totp import _enrol_with_codes, next_code

LOGIN = "/api/v1/security/login"


@pytest.fixture
def totp_on(app):
    app.config["UCHET_TOTP_FOR_ADMINS"] = True
    yield
    app.config["UCHET_TOTP_FOR_ADMINS"] = False


def _api_login(app, username: str, **extra):
    return app.test_client().post(LOGIN, json={
        "username": username, "password": "demo", "provider": "db", **extra})


def _reads_users(app, response) -> bool:
    """Return True when the token of `response` reads the users' API."""
    token = response.get_json()["access_token"]
    answer = app.test_client().get("/api/v1/user/",
                                   headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 200


def test_an_enrolled_admin_needs_the_code_for_a_token(app, totp_on, session, login):
    secret, _codes = _enrol_with_codes(login("admin"))

    without = _api_login(app, "admin")
    assert without.status_code == 401
    assert "access_token" not in without.get_json()
    assert without.get_json()["message"] == "Нужен код второго фактора (поле totp)"
    assert _api_login(app, "admin", totp=None).status_code == 401

    wrong = _api_login(app, "admin", totp="000000")
    assert wrong.status_code == 401
    assert wrong.get_json()["message"] == "Неверный код второго фактора"
    session.expire_all()
    assert session.scalar(select(SecurityEvent.username).where(
        SecurityEvent.kind == "totp_failed", SecurityEvent.target == "admin")) == "admin"

    right = _api_login(app, "admin", totp=next_code(secret), refresh=True)
    assert right.status_code == 200, right.get_data(as_text=True)
    assert right.get_json()["refresh_token"]
    assert _reads_users(app, right)

    replayed = _api_login(app, "admin", totp=next_code(secret))
    assert replayed.status_code == 401 and "access_token" not in replayed.get_json()
    assert replayed.get_json()["message"] == "Неверный код второго фактора"


def test_a_recovery_code_admits_once(app, totp_on, session, login):
    _secret, codes = _enrol_with_codes(login("admin"))
    first = _api_login(app, "admin", totp=codes[0])
    assert first.status_code == 200 and _reads_users(app, first)
    again = _api_login(app, "admin", totp=codes[0])
    assert again.status_code == 401
    assert again.get_json()["message"] == "Неверный код второго фактора"
    session.expire_all()
    assert session.scalar(select(SecurityEvent.id).where(
        SecurityEvent.kind == "totp_recovery_used", SecurityEvent.target == "admin"))


def test_an_admin_who_has_not_enrolled_gets_no_token(app, totp_on):
    response = _api_login(app, "admin", totp="123456")
    assert response.status_code == 401
    assert response.get_json()["message"].startswith("Подключите второй фактор")


def test_a_wrong_password_with_a_right_code_gets_no_token(app, totp_on, login):
    secret, _codes = _enrol_with_codes(login("admin"))
    response = app.test_client().post(LOGIN, json={
        "username": "admin", "password": "wrong", "provider": "db",
        "totp": pyotp.TOTP(secret).now()})
    assert response.status_code == 401


def test_a_code_that_is_not_text_is_a_400(app, totp_on):
    assert _api_login(app, "admin", totp=123456).status_code == 400
    assert _api_login(app, "admin", totp="1" * 33).status_code == 400


def test_a_user_without_admin_rights_is_not_asked(app, totp_on):
    response = _api_login(app, "registrar")
    assert response.status_code == 200 and response.get_json()["access_token"]


def test_the_parameter_off_asks_nobody(app):
    response = _api_login(app, "admin")
    assert response.status_code == 200 and _reads_users(app, response)


def test_the_openapi_document_declares_the_code(app):
    token = _api_login(app, "admin").get_json()["access_token"]
    spec = app.test_client().get("/api/v1/_openapi",
                                 headers={"Authorization": f"Bearer {token}"}).get_json()
    body = spec["paths"]["/api/v1/security/login"]["post"]["requestBody"]
    assert "totp" in body["content"]["application/json"]["schema"]["properties"]


def test_a_token_issued_without_the_code_stops_when_the_parameter_is_switched_on(app):
    """A token issued before the switch (parameter off) admits an administrator
    no longer, access or refresh; a registrar's old token still works."""
    admin = _api_login(app, "admin", refresh=True).get_json()
    registrar = _api_login(app, "registrar").get_json()["access_token"]
    app.config["UCHET_TOTP_FOR_ADMINS"] = True
    try:
        api = app.test_client()
        assert api.get("/api/v1/user/", headers={
            "Authorization": f"Bearer {admin['access_token']}"}).status_code == 401
        assert api.post("/api/v1/security/refresh", headers={
            "Authorization": f"Bearer {admin['refresh_token']}"}).status_code == 401
        assert api.get("/api/v1/patients/", headers={
            "Authorization": f"Bearer {registrar}"}).status_code == 200
    finally:
        app.config["UCHET_TOTP_FOR_ADMINS"] = False


def test_a_refreshed_token_keeps_the_mark_of_the_code(app, totp_on, login):
    secret, _codes = _enrol_with_codes(login("admin"))
    refresh = _api_login(app, "admin", totp=next_code(secret),
                         refresh=True).get_json()["refresh_token"]
    renewed = app.test_client().post("/api/v1/security/refresh",
                                     headers={"Authorization": f"Bearer {refresh}"})
    assert renewed.status_code == 200
    assert _reads_users(app, renewed)
