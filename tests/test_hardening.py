"""Attacks and mistakes found in review, each answered as a user expects:
the operation that should work works, the one that should not is refused
cleanly (never a 500), and nothing leaks."""

from __future__ import annotations

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from models.journal import JournalEntry
from models.org import Unit
from models.user import AppUser
from tests.support import make_role, make_unit, make_user, unit


def _user(session, username):
    return session.scalar(select(AppUser).where(AppUser.username == username))


def test_bulk_delete_works_on_rows_in_scope(session, login):
    leaf = make_unit(session, kind="department", parent=unit(session, "MSK-TVR"))
    other = make_unit(session, kind="department", parent=unit(session, "MSK-TVR"))
    session.commit()
    ids = [leaf.id, other.id]
    response = login("admin").post("/unitview/action_post",
                                   data={"action": "muldelete", "rowid": ids})
    assert response.status_code == 302
    session.expunge_all()
    assert session.scalars(select(Unit).where(Unit.id.in_(ids))).all() == []


def test_bulk_action_cannot_run_as_a_single_row_action(session, login):
    leaf = make_unit(session, kind="department", parent=unit(session, "MSK-TVR"))
    session.commit()
    assert login("admin").post(f"/unitview/action/muldelete/{leaf.id}").status_code == 404
    session.expire_all()
    assert session.get(Unit, leaf.id) is not None


def test_profile_buttons_work_for_everyone(session, login):
    registrar = login("registrar")
    page = registrar.get("/users/userinfo/").get_data(as_text=True)
    assert "resetmypassword" in page and "userinfoedit" in page
    me = _user(session, "registrar")
    response = registrar.post(f"/users/action/resetmypassword/{me.id}")
    assert response.status_code == 302 and "/resetmypassword/form" in response.headers["Location"]


def test_rights_screen_is_in_the_menu_of_a_non_admin_holder(session, login):
    role = make_role(session, "Администратор прав", {"admin.rights": "yes",
                                                     "scope.data": "own_subtree"})
    make_user(session, "rights_admin", roles=[role], home_unit=unit(session, "MSK-TVR"))
    client = login("rights_admin")
    menu = client.get("/api/v1/menu/").get_json()["result"]
    names = {child["name"] for item in menu for child in item.get("childs", [])}
    assert "Rights" in names
    assert "Роли и права доступа" in client.get("/").get_data(as_text=True)


def test_a_branch_head_edits_his_own_branch(session, login):
    role = make_role(session, "Редактор филиала", {"admin.units": "edit",
                                                   "scope.data": "own_subtree"})
    make_user(session, "unit_editor", roles=[role], home_unit=unit(session, "MSK-TVR"))
    branch = unit(session, "MSK-TVR")
    response = login("unit_editor").put(f"/api/v1/unit/{branch.id}", json={"phone": "+7 000"})
    assert response.status_code == 200
    session.expire_all()
    assert unit(session, "MSK-TVR").phone == "+7 000"


def test_unknown_linked_ids_are_refused_not_inserted(session, login):
    admin = login("admin")
    branch = unit(session, "MSK-TVR")
    response = admin.put(f"/api/v1/unit/{branch.id}", json={"parent": 999999})
    assert response.status_code == 400
    assert "не найдена" in response.get_json()["message"]
    registrar = _user(session, "registrar")
    response = admin.put(f"/api/v1/user/{registrar.id}", json={"manager": 999999})
    assert response.status_code == 400
    session.expire_all()
    assert session.scalar(select(AppUser).where(AppUser.id == 999999)) is None


def test_a_kind_change_must_fit_the_children(session, login):
    branch = unit(session, "MSK-TVR")
    response = login("admin").put(f"/api/v1/unit/{branch.id}", json={
        "kind": "department", "parent": unit(session, "MSK-ARB").id})
    assert response.status_code == 400
    assert "нельзя сменить" in response.get_json()["message"]
    session.expire_all()
    assert unit(session, "MSK-TVR").kind == "branch"


@pytest.mark.parametrize("url", [
    "/unitview/list/?_oc_UnitView=nosuch",
    "/unitview/list/?psize_UnitView=abc",
    "/unitview/list/?page_UnitView=abc",
    "/unitview/list/?psize_UnitView=100000",
    "/users/list/?_oc_UserView=password",
    "/unitview/list/?_od_UnitView=sideways",
])
def test_crafted_list_arguments_get_400(login, url):
    assert login("admin").get(url).status_code == 400


@pytest.mark.parametrize("url", ["/unitview/show/99999999999999999999",
                                 "/api/v1/unit/99999999999999999999"])
def test_huge_keys_are_not_found(login, url):
    assert login("admin").get(url).status_code == 404


def test_the_journal_needs_the_whole_scope(session, login):
    role = make_role(session, "Журнал филиала", {"admin.journal": "yes",
                                                 "scope.data": "own_subtree"})
    make_user(session, "journal_reader", roles=[role], home_unit=unit(session, "MSK-TVR"))
    client = login("journal_reader")
    assert client.get("/journalview/list/").status_code == 200
    entry = session.scalars(select(JournalEntry).limit(1)).first()
    assert client.get(f"/journalview/show/{entry.id}").status_code == 404
    assert "client_user@" not in client.get("/journalview/list/").get_data(as_text=True)


def test_cookie_sessions_need_the_csrf_token_whatever_the_headers(app, session, login):
    client = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/v1/unit/", json={"kind": "network", "code": "CSRF-1",
                                                      "name": "Подделка"},
                               headers={"Authorization": "whatever"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert session.scalar(select(Unit).where(Unit.code == "CSRF-1")) is None


def test_the_anonymous_role_cannot_be_given_rights(session, login):
    public = session.scalar(select(Role).where(Role.name == "Public"))
    admin = login("admin")
    admin.post(f"/rights/role/{public.id}/reset", data={"preset": "admin"})
    admin.post(f"/rights/role/{public.id}/delete")
    session.expire_all()
    public = session.scalar(select(Role).where(Role.name == "Public"))
    assert public is not None and public.permissions == []


def test_database_conflicts_answer_in_russian_without_sql(session, login):
    admin_email = _user(session, "admin").email
    registrar = _user(session, "registrar")
    response = login("admin").put(f"/api/v1/user/{registrar.id}", json={"email": admin_email})
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "INSERT" not in message and "UPDATE" not in message and admin_email not in message
    assert "не сохранена" in message


@pytest.mark.no_db_isolation
def test_the_api_login_shares_the_login_limit(database_url):
    from app import create_app

    worker = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                         "RATELIMIT_STORAGE_URI": "memory://", "AUTH_RATE_LIMIT": "3 per minute",
                         "WTF_CSRF_ENABLED": False})
    client = worker.test_client()
    codes = [client.post("/api/v1/security/login", json={
        "username": "no-such-user", "password": "x", "provider": "db"}).status_code
        for _ in range(5)]
    assert 429 in codes, codes
