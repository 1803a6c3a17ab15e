"""Sessions and tokens end when they should: a cookie or token captured before a
logout, a password change or reset or a deactivation no longer works; an idle
session ends; changing one's own password needs the current one (issue 20, item 3)."""

from __future__ import annotations

from sqlalchemy import select

PAGE = "/patientview/list/"
API = "/api/v1/unit/"


def _user(session, username):
    from models.user import AppUser

    return session.scalar(select(AppUser).where(AppUser.username == username))


def _thief(app, victim):
    """Return a client holding a copy of `victim`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", victim.get_cookie("session").value)
    return thief


def _signed_in(client) -> bool:
    response = client.get(PAGE)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _tokens(client, username="branch_head", password="demo"):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return body["access_token"], body["refresh_token"]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_cookie_captured_before_logout_no_longer_works(app, login):
    registrar = login("registrar")
    thief = _thief(app, registrar)
    assert _signed_in(thief)
    registrar.get("/logout/")
    assert not _signed_in(thief)
    assert not _signed_in(registrar)


def test_an_admin_password_reset_ends_cookie_access_and_refresh_tokens(app, session, login):
    head = login("branch_head")
    access, refresh = _tokens(app.test_client())
    assert app.test_client().get(API, headers=_bearer(access)).status_code == 200
    target = _user(session, "branch_head").id
    response = login("admin").post(f"/resetpassword/form?pk={target}", data={
        "password": "Nov0e-parol!", "conf_password": "Nov0e-parol!"})
    assert response.status_code == 302
    assert not _signed_in(head)
    api = app.test_client()
    assert api.get(API, headers=_bearer(access)).status_code == 401
    assert api.post("/api/v1/security/refresh", headers=_bearer(refresh)).status_code == 401
    # The new password opens a new session and new tokens.
    assert _signed_in(login("branch_head", "Nov0e-parol!"))
    fresh, _ = _tokens(app.test_client(), password="Nov0e-parol!")
    assert api.get(API, headers=_bearer(fresh)).status_code == 200


def test_tokens_still_refresh_while_nothing_changed(app):
    _, refresh = _tokens(app.test_client())
    api = app.test_client()
    renewed = api.post("/api/v1/security/refresh", headers=_bearer(refresh))
    assert renewed.status_code == 200
    assert api.get(API, headers=_bearer(renewed.get_json()["access_token"])).status_code == 200


def test_own_password_change_needs_the_current_password(app, session, login):
    registrar = login("registrar")
    thief = _thief(app, registrar)
    for current in ("", "wrong"):
        page = registrar.post("/resetmypassword/form", data={
            "current_password": current, "password": "Nov0e-parol!",
            "conf_password": "Nov0e-parol!"})
        assert page.status_code == 200
        if current:
            assert "Текущий пароль указан неверно" in page.get_data(as_text=True)
    assert _signed_in(thief)  # nothing changed yet
    login("registrar", "demo")  # the old password still works
    response = registrar.post("/resetmypassword/form", data={
        "current_password": "demo", "password": "Nov0e-parol!",
        "conf_password": "Nov0e-parol!"})
    assert response.status_code == 302
    # The session the change was made in goes on; a copy taken before does not.
    assert _signed_in(registrar)
    assert not _signed_in(thief)
    login("registrar", "Nov0e-parol!")


def test_deactivation_ends_the_session_and_the_tokens(app, session, login):
    head, admin = login("branch_head"), login("admin")
    access, refresh = _tokens(app.test_client())
    target = _user(session, "branch_head").id
    response = admin.put(f"/api/v1/user/{target}", json={"active": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert not _signed_in(head)
    api = app.test_client()
    assert api.get(API, headers=_bearer(access)).status_code == 401
    assert api.post("/api/v1/security/refresh", headers=_bearer(refresh)).status_code == 401
    # Reactivated, the account needs a new sign-in: the old session stays ended.
    assert admin.put(f"/api/v1/user/{target}", json={"active": True}).status_code == 200
    assert not _signed_in(head)
    assert api.get(API, headers=_bearer(access)).status_code == 401


def test_an_idle_session_ends(app, login):
    registrar = login("registrar")
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    with registrar.session_transaction() as cookie:
        cookie["_uchet_seen"] -= idle - 120  # active two minutes before the limit
    assert _signed_in(registrar)
    with registrar.session_transaction() as cookie:
        cookie["_uchet_seen"] -= idle + 1
    assert not _signed_in(registrar)
