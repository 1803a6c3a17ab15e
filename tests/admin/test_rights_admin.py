"""Role and rights administration over HTTP: who reaches it, the matrix, saving a cell
(journaled, re-derived into FAB permissions, effective on the next request), refusals that
save nothing, copy / reset / create / delete a role, the explain page and command, CSRF."""

from __future__ import annotations

import contextlib
import html
import re

import pytest
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from markupsafe import escape
from sqlalchemy import func, select

from models.journal import JournalEntry
from models.rights import RoleProfile, RoleRight
from security.catalogue import load_catalogue
from security.presets import load_presets
from security.sync import SELF_SERVICE, role_values
from tests.support import make_role, unit

ADMIN_ROLE = "Администратор"
REGISTRAR = "Регистратор"
OUTSIDERS = ["registrar", "branch_head", "client_user"]


# --------------------------------------------------------------------------- helpers


def _role_id(session, name: str) -> int | None:
    return session.scalar(select(Role.id).where(Role.name == name))


def _values(session, role_id: int) -> dict[str, str]:
    rows = session.execute(
        select(RoleRight.code, RoleRight.value).where(RoleRight.role_id == role_id)
    )
    return dict(rows.all())


def _permissions(session, role_id: int) -> set[tuple[str, str]]:
    pvr = assoc_permissionview_role
    rows = session.execute(
        select(Permission.name, ViewMenu.name)
        .select_from(PermissionView)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
        .join(pvr, pvr.c.permission_view_id == PermissionView.id)
        .where(pvr.c.role_id == role_id)
    )
    return set(rows.all())


def _snapshot(session) -> tuple[set, set, int]:
    """Return (role names, stored rights, journal rows of role_right)."""
    session.expire_all()
    roles = set(session.scalars(select(Role.name)))
    rights = set(session.execute(
        select(RoleRight.role_id, RoleRight.code, RoleRight.value)).all())
    return roles, rights, _journal_count(session)


def _journal_count(session) -> int:
    return session.scalar(
        select(func.count()).select_from(JournalEntry)
        .where(JournalEntry.table_name == "role_right")
    )


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _save(client, section: str, cells: dict[str, str], **kwargs):
    return client.post(f"/rights/matrix?section={section}", data=cells, **kwargs)


# --------------------------------------------------------------------------- who reaches it


def _get_urls(session) -> list[str]:
    reg = _role_id(session, REGISTRAR)
    return [
        "/rights/",
        "/rights/matrix",
        "/rights/matrix?section=admin",
        "/rights/explain",
        "/rights/explain?user=admin&view=UnitView&permission=can_list",
        f"/rights/role/{reg}/history",
    ]


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def test_the_administrator_reaches_every_rights_page(session, login):
    admin = login("admin")
    for url in _get_urls(session):
        assert admin.get(url).status_code == 200, url


@pytest.mark.parametrize("username", OUTSIDERS)
def test_users_without_the_rights_right_get_no_rights_page(session, login, username):
    c = login(username)
    for url in _get_urls(session):
        response = c.get(url)
        assert _refused(response), f"{username} {url}: {response.status_code}"


def test_anonymous_users_get_no_rights_page(session, client):
    for url in _get_urls(session):
        response = client.get(url)
        assert _refused(response), f"{url}: {response.status_code}"


@pytest.mark.parametrize("username", OUTSIDERS)
def test_users_without_the_rights_right_change_nothing_by_post(session, login, username):
    reg = _role_id(session, REGISTRAR)
    unused = make_role(session, "Неиспользуемая роль").id
    before = _snapshot(session)
    c = login(username)
    posts = [
        ("/rights/matrix?section=admin", {f"v:{reg}:admin.units": "delete"}),
        ("/rights/role/new", {"name": "Чужая роль", "side": "back_office", "preset": ""}),
        (f"/rights/role/{reg}/copy", {"name": "Копия регистратора"}),
        (f"/rights/role/{reg}/reset", {"preset": "admin"}),
        (f"/rights/role/{unused}/delete", {}),
    ]
    for url, data in posts:
        response = c.post(url, data=data)
        assert _refused(response), f"{username} POST {url}: {response.status_code}"
    assert _snapshot(session) == before


# --------------------------------------------------------------------------- the matrix


def test_the_matrix_shows_every_section_as_a_tab(login):
    page = _text(login("admin").get("/rights/matrix"))
    for code, section in load_catalogue().sections.items():
        assert f"section={code}" in page, code
        assert section.ru in page, section.ru


@pytest.mark.parametrize("section", list(load_catalogue().sections))
def test_the_matrix_shows_a_sections_rights_by_every_role(session, login, section):
    catalogue = load_catalogue()
    page = login("admin").get(f"/rights/matrix?section={section}&roles=all").get_data(
        as_text=True)
    admin_id = _role_id(session, ADMIN_ROLE)
    roles = session.execute(select(Role.id, Role.name).where(Role.name != "Public")).all()
    headers = re.findall(r'<th scope="col" class="matrix-role">([^<]*)</th>', page)
    assert sorted(headers) == sorted(str(escape(name)) for _, name in roles)
    assert "Public" not in headers
    mine = catalogue.section_rights(section)
    for right in mine:
        assert f"<strong>{escape(right.ru)}</strong>" in page, right.code
        for role_id, _name in roles:
            if role_id != admin_id:
                assert f'name="v:{role_id}:{right.code}"' in page, (role_id, right.code)
    others = [r for r in catalogue.rights.values() if r.section != section]
    for right in others:
        assert f':{right.code}"' not in page, right.code
    assert f'name="v:{admin_id}:' not in page


def test_the_matrix_shows_stored_values_as_selected(session, login):
    reg = _role_id(session, REGISTRAR)
    page = login("admin").get(f"/rights/matrix?section=refbooks&roles={reg}").get_data(
        as_text=True)
    select_html = page.split(f'name="v:{reg}:refbook.colours"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="view"\s+selected', select_html)
    assert not re.search(r'<option value="none"\s+selected', select_html)


# --------------------------------------------------------------------------- saving a cell


def test_saving_a_cell_stores_journals_and_redrives_permissions(session, login):
    reg = _role_id(session, REGISTRAR)
    home = unit(session, "MSK-TVR").id
    admin = login("admin")
    registrar = login("registrar")
    assert registrar.get("/unitview/list/").status_code == 403
    last_journal = session.scalar(select(func.max(JournalEntry.id))) or 0

    response = _save(admin, "admin", {f"v:{reg}:admin.units": "edit"})
    assert response.status_code == 302
    assert "Сохранено изменений: 1" in _text(admin.get(response.headers["Location"]))

    assert _values(session, reg)["admin.units"] == "edit"
    row_id = session.scalar(select(RoleRight.id).where(
        RoleRight.role_id == reg, RoleRight.code == "admin.units"))
    entries = list(session.scalars(select(JournalEntry).where(
        JournalEntry.id > last_journal, JournalEntry.table_name == "role_right")))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.row_pk, entry.username) == ("update", str(row_id), "admin")
    assert entry.before["value"] == "none"
    assert entry.after["value"] == "edit"

    history = _text(admin.get(f"/rights/role/{reg}/history"))
    assert "Организационная структура" in history
    assert "нет доступа" in history
    assert "изменение" in history
    assert "Изменение" in history
    assert "admin" in history

    permissions = _permissions(session, reg)
    assert {("can_list", "UnitView"), ("can_edit", "UnitView")} <= permissions
    assert ("can_add", "UnitView") not in permissions
    assert registrar.get("/unitview/list/").status_code == 200
    assert registrar.get(f"/unitview/edit/{home}").status_code == 200

    response = _save(admin, "admin", {f"v:{reg}:admin.units": "none"})
    assert response.status_code == 302
    assert _values(session, reg)["admin.units"] == "none"
    assert registrar.get("/unitview/list/").status_code == 403
    assert registrar.get(f"/unitview/edit/{home}").status_code == 403


def test_unchanged_cells_are_not_rewritten(session, login):
    reg = _role_id(session, REGISTRAR)
    journal = _journal_count(session)
    response = _save(login("admin"), "refbooks", {f"v:{reg}:refbook.colours": "view"},
                     follow_redirects=True)
    assert "Сохранено изменений: 0" in _text(response)
    assert _journal_count(session) == journal


def test_an_invalid_value_is_refused_and_nothing_is_saved(session, login):
    reg = _role_id(session, REGISTRAR)
    cashier = _role_id(session, "Кассир")
    before = _snapshot(session)
    response = _save(login("admin"), "admin", {
        f"v:{cashier}:admin.users": "view",
        f"v:{reg}:admin.users": "view",
        f"v:{reg}:admin.units": "superuser",
    }, follow_redirects=True)
    text = _text(response)
    assert "Недопустимое значение «superuser» права «Организационная структура»" in text
    assert "Сохранено" not in text
    assert _snapshot(session) == before


def test_a_broken_dependency_is_refused_naming_both_rights(session, login):
    reg = _role_id(session, REGISTRAR)
    before = _snapshot(session)
    response = _save(login("admin"), "refbooks", {
        f"v:{reg}:refbook.colours": "edit",
        f"v:{reg}:refbook.currencies": "none",
        f"v:{reg}:refbook.exchange_rates": "edit",
    }, follow_redirects=True)
    text = _text(response)
    assert "«Курсы валют»" in text
    assert "«Валюты»" in text
    assert "требует" in text
    assert _snapshot(session) == before
    assert _values(session, reg)["refbook.colours"] == "view"


def test_a_dependency_satisfied_in_the_same_post_is_accepted(session, login):
    reg = _role_id(session, REGISTRAR)
    _save(login("admin"), "refbooks", {
        f"v:{reg}:refbook.currencies": "edit",
        f"v:{reg}:refbook.exchange_rates": "edit",
    })
    values = _values(session, reg)
    assert (values["refbook.currencies"], values["refbook.exchange_rates"]) == ("edit", "edit")


def test_the_administrator_role_cannot_be_edited(session, login):
    admin_id = _role_id(session, ADMIN_ROLE)
    before = _snapshot(session)
    response = _save(login("admin"), "admin", {f"v:{admin_id}:admin.rights": "no"},
                     follow_redirects=True)
    assert f"Роль «{ADMIN_ROLE}» имеет все права и не редактируется" in _text(response)
    assert _snapshot(session) == before


# --------------------------------------------------------------------------- copy, reset


def test_copying_a_role_copies_its_values_and_permissions(session, login):
    reg = _role_id(session, REGISTRAR)
    response = login("admin").post(f"/rights/role/{reg}/copy",
                                   data={"name": "Регистратор (копия)"}, follow_redirects=True)
    assert "Создана копия: «Регистратор (копия)»" in _text(response)
    copy_id = _role_id(session, "Регистратор (копия)")
    assert copy_id is not None
    assert _values(session, copy_id) == _values(session, reg)
    assert _permissions(session, copy_id) == _permissions(session, reg)
    assert session.get(RoleProfile, copy_id).side == session.get(RoleProfile, reg).side


def test_copying_to_an_existing_name_is_refused(session, login):
    reg = _role_id(session, REGISTRAR)
    before = _snapshot(session)
    response = login("admin").post(f"/rights/role/{reg}/copy", data={"name": "Кассир"},
                                   follow_redirects=True)
    assert "Роль «Кассир» уже существует" in _text(response)
    assert _snapshot(session) == before


def test_resetting_a_role_restores_its_presets_values(session, login):
    reg = _role_id(session, REGISTRAR)
    preset = load_presets()["registrar"]
    permissions = _permissions(session, reg)
    admin = login("admin")
    _save(admin, "admin", {f"v:{reg}:admin.units": "delete"})
    _save(admin, "refbooks", {f"v:{reg}:refbook.colours": "none"})
    assert _values(session, reg)["admin.units"] == "delete"
    assert _values(session, reg)["refbook.colours"] == "none"

    response = admin.post(f"/rights/role/{reg}/reset", data={"preset": "registrar"},
                          follow_redirects=True)

    assert "Права роли приведены к шаблону, изменений: 2" in _text(response)
    assert _values(session, reg) == dict(preset.values)
    assert _permissions(session, reg) == permissions


def test_the_administrator_role_cannot_be_reset(session, login):
    admin_id = _role_id(session, ADMIN_ROLE)
    before = _snapshot(session)
    response = login("admin").post(f"/rights/role/{admin_id}/reset",
                                   data={"preset": "client_user"}, follow_redirects=True)
    assert f"Роль «{ADMIN_ROLE}» имеет все права и не редактируется" in _text(response)
    assert _snapshot(session) == before


def test_resetting_to_an_unknown_preset_is_refused(session, login):
    reg = _role_id(session, REGISTRAR)
    before = _snapshot(session)
    response = login("admin").post(f"/rights/role/{reg}/reset", data={"preset": "superuser"},
                                   follow_redirects=True)
    assert "Неизвестный шаблон роли: superuser" in _text(response)
    assert _snapshot(session) == before


# --------------------------------------------------------------------------- create, delete


def test_a_role_created_without_a_preset_holds_only_defaults(session, login):
    response = login("admin").post(
        "/rights/role/new", data={"name": "Стажёр", "side": "back_office", "preset": ""},
        follow_redirects=True,
    )
    assert "Роль «Стажёр» создана" in _text(response)
    role_id = _role_id(session, "Стажёр")
    assert _values(session, role_id) == load_catalogue().defaults()
    permissions = _permissions(session, role_id)
    assert permissions
    assert permissions <= SELF_SERVICE


def test_a_role_created_from_a_preset_holds_its_values(session, login):
    login("admin").post("/rights/role/new",
                        data={"name": "Кассир-2", "side": "back_office", "preset": "cashier"})
    role_id = _role_id(session, "Кассир-2")
    assert _values(session, role_id) == dict(load_presets()["cashier"].values)
    assert _permissions(session, role_id) == _permissions(session, _role_id(session, "Кассир"))


@pytest.mark.parametrize(("name", "message"), [
    ("", "Укажите название роли"),
    (REGISTRAR, f"Роль «{REGISTRAR}» уже существует"),
])
def test_creating_a_role_without_a_new_name_is_refused(session, login, name, message):
    before = _snapshot(session)
    response = login("admin").post("/rights/role/new", data={"name": name, "preset": ""},
                                   follow_redirects=True)
    assert message in _text(response)
    assert _snapshot(session) == before


def test_deleting_a_role_that_a_user_holds_is_refused(session, login):
    reg = _role_id(session, REGISTRAR)
    before = _snapshot(session)
    response = login("admin").post(f"/rights/role/{reg}/delete", follow_redirects=True)
    assert f"Роль «{REGISTRAR}» назначена пользователям (1)" in _text(response)
    assert _snapshot(session) == before


def test_deleting_an_unused_role_removes_it_and_its_rights(session, login):
    role_id = make_role(session, "Временная роль", {"admin.units": "view"}).id
    response = login("admin").post(f"/rights/role/{role_id}/delete", follow_redirects=True)
    assert "Роль удалена" in _text(response)
    session.expire_all()
    assert _role_id(session, "Временная роль") is None
    assert _values(session, role_id) == {}


# --------------------------------------------------------------------------- explain


def _explain(client, session, username: str, code: str) -> str:
    pk = unit(session, code).id
    url = f"/rights/explain?user={username}&view=UnitView&permission=can_show&pk={pk}"
    response = client.get(url)
    assert response.status_code == 200
    return _text(response)


def test_explain_page_denies_a_row_outside_the_data_scope(session, login):
    page = _explain(login("admin"), session, "branch_head", "SPB-NEV")
    assert "Доступ запрещён" in page
    assert "Доступ разрешён" not in page
    assert "вне области данных" in page


def test_explain_page_allows_a_row_inside_the_data_scope(session, login):
    page = _explain(login("admin"), session, "branch_head", "MSK-TVR-THR")
    assert "Доступ разрешён" in page
    assert "Доступ запрещён" not in page
    assert "вне области данных" not in page
    assert "Организационная структура" in page


def test_explain_page_names_an_unknown_user(login):
    page = _text(login("admin").get("/rights/explain?user=nobody&view=UnitView"))
    assert "Пользователь «nobody» не найден" in page


@pytest.mark.parametrize("pk", ["abc", "99999999"])
def test_explain_page_says_a_missing_row_does_not_exist(login, pk):
    url = f"/rights/explain?user=admin&view=UnitView&permission=can_show&pk={pk}"
    response = login("admin").get(url)
    assert response.status_code == 200
    page = _text(response)
    assert f"Запись {pk} не существует" in page
    assert "Доступ запрещён" in page


def test_explain_page_with_a_key_on_a_screen_without_rows(login):
    url = "/rights/explain?user=admin&view=RightsView&permission=can_roles&pk=1"
    response = login("admin").get(url)
    assert response.status_code == 200
    page = _text(response)
    assert "Записи этого экрана не привязаны к подразделениям" in page
    assert "Доступ разрешён" in page


def _cli_explain(app, username: str, *extra: str):
    args = ["rights", "explain", "--user", username, "--view", "UnitView", *extra]
    return app.test_cli_runner().invoke(args=args)


def test_explain_command_denies_the_registrar_the_unit_list(app, session):
    result = _cli_explain(app, "registrar", "--permission", "can_list")
    assert result.exit_code == 1
    assert "ДОСТУП ЗАПРЕЩЁН" in result.output
    assert "Организационная структура" in result.output


def test_explain_command_allows_the_administrator(app, session):
    result = _cli_explain(app, "admin", "--permission", "can_list")
    assert result.exit_code == 0, result.output
    assert "ДОСТУП РАЗРЕШЁН" in result.output


def test_explain_command_checks_the_row_scope(app, session):
    outside = _cli_explain(app, "branch_head", "--permission", "can_show",
                           "--pk", str(unit(session, "SPB-NEV").id))
    inside = _cli_explain(app, "branch_head", "--permission", "can_show",
                          "--pk", str(unit(session, "MSK-TVR-THR").id))
    assert (outside.exit_code, inside.exit_code) == (1, 0)
    assert "вне области данных" in outside.output


# --------------------------------------------------------------------------- CSRF


@contextlib.contextmanager
def _csrf_on(app):
    """Turn CSRF protection on inside the block (the test app runs without it)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_matrix_post_without_a_csrf_token_is_refused_and_saves_nothing(app, session, login):
    reg = _role_id(session, REGISTRAR)
    admin = login("admin")  # before CSRF is on: the login post carries no token
    before = _snapshot(session)

    with _csrf_on(app):
        response = _save(admin, "admin", {f"v:{reg}:admin.units": "edit"})
        as_json = _save(admin, "admin", {f"v:{reg}:admin.units": "edit"},
                        headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert "Некорректный запрос" in _text(response)
    assert as_json.status_code == 400
    assert _snapshot(session) == before


def test_a_matrix_post_with_the_forms_csrf_token_is_saved(app, session, login):
    reg = _role_id(session, REGISTRAR)
    admin = login("admin")
    with _csrf_on(app):
        page = admin.get("/rights/matrix?section=admin").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = _save(admin, "admin", {"csrf_token": token, f"v:{reg}:admin.units": "edit"})

    assert response.status_code == 302
    assert _values(session, reg)["admin.units"] == "edit"


def test_a_cabinet_role_cannot_be_given_a_back_office_right(session, login):
    """Cabinet users never reach back-office screens: the matrix refuses the grant."""
    role = session.scalar(select(Role).where(Role.name == "Пользователь личного кабинета"))
    admin = login("admin")
    admin.post("/rights/matrix?section=admin", data={f"v:{role.id}:admin.units": "view"})
    page = admin.get("/rights/matrix?section=admin").get_data(as_text=True)
    assert "не выдаётся ролям личного кабинета" in page
    session.expire_all()
    assert role_values(session, role)["admin.units"] == "none"
    assert login("client_user").get("/unitview/list/").status_code == 403
