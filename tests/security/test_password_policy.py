"""The password policy (issue 20): at least 10 characters, not a common password,
long ones (up to 128) accepted, on all three forms that set a password — a new
user, an administrator's reset, one's own change — with the reason in Russian at
the field; a refused password leaves the old one working."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from models.user import AppUser

LONG = "Длинная-фраза из нескольких слов, которую легко запомнить 2026 " * 2  # 126 chars


def _user(session, name):
    session.expire_all()
    return session.scalar(select(AppUser).where(AppUser.username == name))


def _reset(client, pk, password):
    return client.post(f"/resetpassword/form?pk={pk}",
                       data={"password": password, "conf_password": password})


def _own(client, password):
    return client.post("/resetmypassword/form", data={
        "current_password": "demo", "password": password, "conf_password": password})


def _add(client, username, password):
    return client.post("/users/add", data={
        "first_name": "Тест", "last_name": "Политики", "username": username,
        "email": f"{username}@example.org", "active": "y",
        "password": password, "conf_password": password})


@pytest.mark.parametrize("password, reason", [
    ("Short-1", "не короче 10 символов"),
    ("1234567890", "самых распространённых паролей"),
    ("qwertyuiop", "самых распространённых паролей"),
    ("x" * 129, "не длиннее 128 символов"),
])
def test_an_administrator_cannot_set_a_weak_password(session, login, password, reason):
    target = _user(session, "registrar")
    before = target.password
    response = _reset(login("admin"), target.id, password)
    assert response.status_code == 200
    assert reason in html.unescape(response.get_data(as_text=True))
    assert _user(session, "registrar").password == before
    login("registrar")  # the old password still works


def test_a_long_passphrase_is_accepted(session, login):
    target = _user(session, "registrar")
    assert len(LONG) > 64
    assert _reset(login("admin"), target.id, LONG).status_code == 302
    login("registrar", LONG)


def test_ones_own_change_follows_the_policy(session, login):
    registrar = login("registrar")
    refused = _own(registrar, "password12")
    assert refused.status_code == 200
    assert "самых распространённых паролей" in html.unescape(refused.get_data(as_text=True))
    assert _own(registrar, "Zelyonaya-lampa-7").status_code == 302


def test_a_new_user_needs_a_policy_password(session, login):
    admin = login("admin")
    refused = _add(admin, "policy_user", "short")
    assert "не короче 10 символов" in html.unescape(refused.get_data(as_text=True))
    assert _user(session, "policy_user") is None
    _add(admin, "policy_user", "Zelyonaya-lampa-7")
    assert _user(session, "policy_user") is not None


def test_the_minimum_length_is_a_parameter(app, session, login):
    app.config["UCHET_PASSWORD_MIN_LENGTH"] = 14
    try:
        response = _reset(login("admin"), _user(session, "registrar").id, "Zelyonaya-lamp")
        assert response.status_code == 302
        response = _reset(login("admin"), _user(session, "registrar").id, "Zelyonaya-lam")
        assert "не короче 14 символов" in html.unescape(response.get_data(as_text=True))
    finally:
        app.config["UCHET_PASSWORD_MIN_LENGTH"] = 10
