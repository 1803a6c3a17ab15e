"""Deny by default: every registered endpoint, UI and API, refuses a visitor who
lacks a permission, unless it is on an explicit allow-list with a reason."""

from __future__ import annotations

import re

import pytest

from tests.support import make_role, make_user, unit

# endpoint -> why an anonymous visitor may reach it
PUBLIC = {
    "static": "the app's CSS and images",
    "appbuilder.static": "FAB's CSS and JavaScript",
    "AuthDBView.login": "the login page",
    "AuthDBView.logout": "logging out changes nothing but the visitor's own session",
    "LocaleView.index": "switching the interface language",
    "SecurityApi.login": "API login with a username and password",
    "SecurityApi.refresh": "needs a valid refresh token, checked by FAB",
    "HomeView.index": "sends anonymous visitors to the login page",
    "HomeView.sections": "the home's list of sections the user's rights open (none without "
                         "rights); sends anonymous visitors to the login page",
    "UtilView.back": "a redirect to the previous page",
}
# endpoint -> why a signed-in user without any right may reach it
SELF_SERVICE = {
    "UserView.userinfo": "one's own profile",
    "UserView.action": "the profile page's own-account actions (others need a permission)",
    "ResetMyPasswordView.this_form_get": "changing one's own password",
    "ResetMyPasswordView.this_form_post": "changing one's own password",
    "UchetUserInfoEditView.this_form_get": "editing one's own name",
    "UchetUserInfoEditView.this_form_post": "editing one's own name",
    "MenuApi.get_menu_data": "the menu, already filtered by permissions",
    "TotpView.enrol": "enrolling one's own second factor",
    "TotpView.verify": "giving one's own second-factor code",
}
ARG_VALUES = {"pk": "1", "name": "muldelete", "filename": "x", "version": "v1", "locale": "ru",
              "role_id": "1", "path": "x"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = rule.rule
            for arg in rule.arguments:
                url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", ARG_VALUES.get(arg, "1"), url)
            yield rule.endpoint, method, url


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    if response.status_code in (301, 302, 303):
        return "/login" in response.headers.get("Location", "")
    return False


def _call(client, method, url):
    if url.startswith("/api/") and method != "GET":
        return client.open(url, method=method, json={})
    return client.open(url, method=method, data={})


def test_every_endpoint_refuses_anonymous_visitors(app, client):
    walked, leaks = 0, []
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC:
            continue
        walked += 1
        response = _call(client, method, url)
        if not _refused(response):
            leaks.append(f"{method} {url} ({endpoint}) -> {response.status_code}")
    assert walked > 40, "the walk found suspiciously few endpoints"
    assert not leaks, "reachable without login:\n" + "\n".join(leaks)


@pytest.fixture
def nobody(session, login):
    """A signed-in user whose only role grants no right at all."""
    role = make_role(session, "Без прав")
    make_user(session, "nobody", roles=[role], home_unit=unit(session, "MSK-TVR"))
    return login("nobody")


def test_every_endpoint_refuses_a_user_without_rights(app, nobody):
    leaks = []
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC or endpoint in SELF_SERVICE:
            continue
        response = _call(nobody, method, url)
        if not _refused(response):
            leaks.append(f"{method} {url} ({endpoint}) -> {response.status_code}")
    assert not leaks, "reachable without a right:\n" + "\n".join(leaks)


def test_self_service_pages_work_for_a_user_without_rights(nobody):
    assert nobody.get("/users/userinfo/").status_code == 200
    assert nobody.get("/resetmypassword/form").status_code == 200
    assert nobody.get("/uchetuserinfoeditview/form").status_code == 200


def test_allow_lists_name_only_real_endpoints(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) <= endpoints
    assert set(SELF_SERVICE) <= endpoints
