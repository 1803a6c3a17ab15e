"""Row scope on every other channel through which data enters or leaves: form
dropdowns, search filters, API field info, saves that would move a row out of
scope (UI and API), bulk actions, password resets and role assignment."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models.org import Unit
from models.user import AppUser
from tests.support import make_role, make_user, unit

EDITOR_RIGHTS = {"admin.users": "delete", "admin.units": "delete", "scope.data": "own_subtree"}


@pytest.fixture
def editor(session, login):
    """A user administrator of branch MSK-TVR without the right to assign roles."""
    role = make_role(session, "Кадровик филиала", EDITOR_RIGHTS)
    make_user(session, "editor", roles=[role], home_unit=unit(session, "MSK-TVR"))
    return login("editor")


def _user(session, username) -> AppUser:
    return session.scalar(select(AppUser).where(AppUser.username == username))


def _options(html: str, field: str) -> set[str]:
    match = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {field}"
    return set(re.findall(r'<option[^>]*value="([^"]+)"', match.group(1)))


def test_unit_dropdowns_offer_only_units_in_scope(session, editor):
    in_scope = {str(u.id) for u in session.scalars(select(Unit)) if u.code.startswith("MSK-TVR")}
    html = editor.get("/users/add").get_data(as_text=True)
    offered = _options(html, "home_unit") - {"__None"}
    assert offered == in_scope
    assert str(unit(session, "SPB-NEV").id) not in _options(html, "extra_units")


def test_search_by_a_foreign_unit_finds_nothing(session, editor):
    spb = unit(session, "SPB-NEV")
    html = editor.get(f"/unitview/list/?_flt_0_parent={spb.id}").get_data(as_text=True)
    assert "SPB-NEV-THR" not in html
    assert "SPB-NEV" not in html
    users = editor.get("/users/list/?_flt_0_username=client_user").get_data(as_text=True)
    assert "Егорова" not in users


def test_api_field_info_lists_only_units_in_scope(session, editor):
    info = editor.get("/api/v1/user/_info?q=(keys:!(edit_columns))").get_json()
    fields = {f["name"]: f for f in info["edit_columns"]}
    ids = {v["id"] for v in fields["home_unit"]["values"]}
    assert unit(session, "MSK-TVR").id in ids
    assert unit(session, "SPB-NEV").id not in ids


@pytest.fixture
def clerk(session):
    """A user of the editor's branch with fewer rights than the editor (none)."""
    return make_user(session, "clerk", home_unit=unit(session, "MSK-TVR"))


def test_moving_a_user_out_of_scope_is_refused_in_the_ui(session, editor, clerk):
    registrar = clerk
    before = registrar.home_unit_id
    form = {"first_name": "Тест", "last_name": "clerk", "username": "clerk",
            "email": registrar.email, "active": "y", "home_unit": unit(session, "SPB-NEV").id}
    response = editor.post(f"/users/edit/{registrar.id}", data=form, follow_redirects=True)
    assert response.status_code == 200
    # The foreign unit is not even a valid choice of the scoped dropdown.
    assert "Недопустимое значение" in response.get_data(as_text=True)
    session.expire_all()
    assert _user(session, "clerk").home_unit_id == before


def test_moving_a_user_out_of_scope_is_refused_in_the_api(session, editor, clerk):
    response = editor.put(f"/api/v1/user/{clerk.id}",
                          json={"home_unit": unit(session, "SPB-NEV").id})
    assert response.status_code == 400
    assert response.get_json()["message"] == "Запись выходит за пределы вашей области данных"
    session.expire_all()
    assert _user(session, "clerk").home_unit.code == "MSK-TVR"


def test_delegating_a_foreign_unit_is_refused_in_the_api(session, editor, clerk):
    response = editor.put(f"/api/v1/user/{clerk.id}",
                          json={"extra_units": [unit(session, "SPB-NEV").id]})
    assert response.status_code == 400
    session.expire_all()
    assert _user(session, "clerk").extra_units == []


def test_creating_a_unit_outside_scope_is_refused(session, editor):
    response = editor.post("/api/v1/unit/", json={
        "kind": "department", "parent": unit(session, "SPB-NEV").id, "code": "X-1",
        "name": "Чужое отделение", "active": True})
    assert response.status_code == 400
    assert session.scalar(select(Unit).where(Unit.code == "X-1")) is None


def test_bulk_delete_with_a_foreign_row_deletes_nothing(session, editor):
    own = make_user(session, "own_clerk", home_unit=unit(session, "MSK-TVR"))
    foreign = _user(session, "client_user")
    response = editor.post("/users/action_post",
                           data={"action": "muldelete", "rowid": [own.id, foreign.id]})
    assert response.status_code == 404
    session.expire_all()
    assert _user(session, "own_clerk") is not None
    assert _user(session, "client_user") is not None


def test_password_reset_of_a_foreign_user_answers_404(session, editor, clerk):
    foreign = _user(session, "client_user")
    assert editor.get(f"/resetpassword/form?pk={foreign.id}").status_code == 404
    response = editor.post(f"/resetpassword/form?pk={foreign.id}",
                           data={"password": "Hacked-123", "conf_password": "Hacked-123"})
    assert response.status_code == 404
    assert editor.get(f"/resetpassword/form?pk={clerk.id}").status_code == 200


def test_a_user_administrator_cannot_take_over_stronger_accounts(session, editor):
    """Without «Роли и права доступа», users with more rights are out of reach:
    no password reset (then logging in as them), no edit, no delete."""
    admin_role = _user(session, "admin").roles[0]
    boss = make_user(session, "boss", roles=[admin_role], home_unit=unit(session, "MSK-TVR"))
    registrar = _user(session, "registrar")
    for target in (boss, registrar):
        assert editor.get(f"/resetpassword/form?pk={target.id}").status_code == 404
        editor.post(f"/resetpassword/form?pk={target.id}",
                    data={"password": "Taken-over-1", "conf_password": "Taken-over-1"})
        refused = editor.put(f"/api/v1/user/{target.id}", json={"first_name": "Взломан"})
        assert refused.status_code == 400
        editor.post(f"/users/delete/{target.id}")
    session.expire_all()
    assert _user(session, "boss") is not None and _user(session, "boss").first_name == "Тест"
    assert _user(session, "registrar").first_name == "Ирина"
    from werkzeug.security import check_password_hash

    assert check_password_hash(_user(session, "boss").password, "demo")


def test_roles_cannot_be_assigned_without_the_rights_right(session, editor):
    admin_role_id = session.execute(
        select(AppUser).where(AppUser.username == "admin")).scalar_one().roles[0].id
    html = editor.get("/users/add").get_data(as_text=True)
    assert 'name="roles"' not in html
    response = editor.post("/users/add", data={
        "first_name": "Злоумышленник", "last_name": "Тестов", "username": "intruder",
        "email": "intruder@test.local", "active": "y", "roles": admin_role_id,
        "home_unit": unit(session, "MSK-TVR").id, "password": "Secret-123",
        "conf_password": "Secret-123"})
    assert response.status_code in (200, 302)
    session.expire_all()
    intruder = _user(session, "intruder")
    assert intruder is not None, "the user itself may be created"
    assert intruder.roles == []


def test_a_user_without_units_sees_no_rows(session, login):
    role = make_role(session, "Без подразделения", {"admin.units": "view",
                                                    "scope.data": "own_subtree"})
    make_user(session, "homeless", roles=[role], home_unit=None)
    client = login("homeless")
    assert client.get("/api/v1/unit/").get_json()["count"] == 0
    assert client.get(f"/unitview/show/{unit(session, 'NET').id}").status_code == 404


def test_rights_change_applies_on_the_next_request(session, login):
    from services.admin.rights import save_role_rights

    role = make_role(session, "Меняющаяся", {"admin.units": "view", "scope.data": "own_subtree"})
    make_user(session, "changing", roles=[role], home_unit=unit(session, "MSK-TVR"))
    client = login("changing")
    assert client.get("/unitview/list/").status_code == 200
    save_role_rights(session, role.id, {"admin.units": "none"})
    assert client.get("/unitview/list/").status_code == 403
    save_role_rights(session, role.id, {"admin.units": "view", "scope.data": "delegated"})
    user = _user(session, "changing")
    user.extra_units = [unit(session, "SPB-NEV")]
    session.commit()
    ids = set(client.get("/api/v1/unit/").get_json()["ids"])
    assert ids == {unit(session, "MSK-TVR").id, unit(session, "SPB-NEV").id}


def test_links_the_editor_cannot_see_survive_his_save(session, editor, clerk):
    """An administrator delegated a unit of another branch; the branch's user
    administrator edits the user and must not silently take it away."""
    clerk.extra_units = [unit(session, "SPB-NEV"), unit(session, "MSK-TVR-LAB")]
    session.commit()
    form = {"first_name": "Новое имя", "last_name": "clerk", "username": "clerk",
            "email": clerk.email, "active": "y", "home_unit": unit(session, "MSK-TVR").id}
    assert editor.post(f"/users/edit/{clerk.id}", data=form).status_code == 302
    session.expire_all()
    saved = _user(session, "clerk")
    assert saved.first_name == "Новое имя"
    # The visible delegation was cleared by the form; the invisible one stays.
    assert {u.code for u in saved.extra_units} == {"SPB-NEV"}
