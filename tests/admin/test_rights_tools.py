"""Issue 18 over HTTP: the matrix of chosen roles, drift from the preset (and its
reset), the history of saved changes and rollback (screen and command line), the
access check in people's terms and the what-if preview proven against what the
user sees after saving. Every page refuses users without «Роли и права доступа»."""

from __future__ import annotations

import html
import re

import pytest
from flask_appbuilder.security.sqla.models import Role, assoc_permissionview_role
from sqlalchemy import func, select

from models.journal import JournalEntry
from models.rights import RoleChange, RoleRight
from models.user import AppUser
from models.vouchers import Voucher
from security.presets import load_presets
from tests.support import unit

REGISTRAR = "Регистратор"
OUTSIDERS = ["registrar", "branch_head", "client_user"]


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _words(response) -> str:
    """Return the page's visible text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", _text(response)).split())


def _role_id(session, name: str) -> int:
    return session.scalar(select(Role.id).where(Role.name == name))


def _value(session, role_id: int, code: str) -> str:
    session.expire_all()
    return session.scalar(select(RoleRight.value).where(RoleRight.role_id == role_id,
                                                        RoleRight.code == code))


def _state(session) -> tuple:
    """Return everything a rights change writes: values, permissions, journal, history."""
    session.expire_all()
    return (set(session.execute(select(RoleRight.role_id, RoleRight.code, RoleRight.value))),
            set(session.execute(select(assoc_permissionview_role.c.role_id,
                                       assoc_permissionview_role.c.permission_view_id))),
            session.scalar(select(func.count()).select_from(JournalEntry)),
            session.scalar(select(func.count()).select_from(RoleChange)))


def _refused(response) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


# --------------------------------------------------------------------------- who reaches it


@pytest.mark.parametrize("username", OUTSIDERS)
def test_users_without_the_rights_right_reach_no_tool(session, login, username):
    reg = _role_id(session, REGISTRAR)
    before = _state(session)
    c = login(username)
    for url in (f"/rights/role/{reg}/drift", "/rights/whatif"):
        assert _refused(c.get(url)), url
    posts = {f"/rights/role/{reg}/drift/reset": {},
             f"/rights/role/{reg}/rollback/1": {"state": "before"},
             "/rights/whatif": {f"v:{reg}:scope.data": "all"}}
    for url, data in posts.items():
        assert _refused(c.post(url, data=data)), url
    assert _state(session) == before


# --------------------------------------------------------------------------- matrix


def test_the_matrix_shows_one_role_by_default_and_the_chosen_few(session, login):
    admin = login("admin")
    reg, cashier = _role_id(session, REGISTRAR), _role_id(session, "Кассир")
    page = admin.get("/rights/matrix?section=vouchers").get_data(as_text=True)
    assert len(re.findall(r'class="matrix-role"', page)) == 1
    page = admin.get(f"/rights/matrix?section=vouchers&roles={reg}&roles={cashier}").get_data(
        as_text=True)
    headers = re.findall(r'<th scope="col" class="matrix-role">([^<]*)</th>', page)
    assert headers == ["Кассир", REGISTRAR]
    assert f'name="v:{reg}:' in page and f'name="v:{cashier}:' in page
    # Each cell has a label a screen reader reads: the role and the right.
    assert re.search(rf'<label class="sr-only" for="c-{reg}-[^"]+">', page)


def test_searching_the_matrix_finds_rights_by_russian_name_in_every_section(session, login):
    reg = _role_id(session, REGISTRAR)
    page = _text(login("admin").get(f"/rights/matrix?roles={reg}&q=талон"))
    assert "Редактирование остальных талонов" in page
    assert "Найдено прав:" in page
    assert "Организационная структура</strong>" not in page


def test_the_matrix_carries_dependencies_for_the_script(session, login):
    reg = _role_id(session, REGISTRAR)
    page = _text(login("admin").get(f"/rights/matrix?section=refbooks&roles={reg}"))
    assert '"refbook.exchange_rates"' in page and '"min": "view"' in page
    assert "Требует" in page


# --------------------------------------------------------------------------- drift


def _drifted_role(session, login):
    """Return the registrar role's id after two of its rights moved from the preset."""
    reg = _role_id(session, REGISTRAR)
    response = login("admin").post("/rights/matrix?section=admin", data={
        f"v:{reg}:admin.units": "edit", f"v:{reg}:admin.users": "view"})
    assert response.status_code == 302
    return reg


def test_the_role_list_counts_rights_drifted_from_the_preset(session, login):
    admin = login("admin")
    reg = _role_id(session, REGISTRAR)
    link = f'href="/rights/role/{reg}/drift" class="drift-count"'
    page = admin.get("/rights/").get_data(as_text=True)
    assert re.search(re.escape(link) + r'[^>]*><span class="badge ">0<', page)
    _drifted_role(session, login)
    page = admin.get("/rights/").get_data(as_text=True)
    assert re.search(re.escape(link) + r'[^>]*><span class="badge badge-warning">2<', page)


def test_the_drift_page_names_each_right_with_both_values(session, login):
    reg = _drifted_role(session, login)
    page = _text(login("admin").get(f"/rights/role/{reg}/drift"))
    assert "Шаблон «Регистратор». Прав, которые сегодня отличаются от шаблона: 2." in page
    assert "Организационная структура" in page and "изменение" in page
    assert "нет доступа" in page


def test_resetting_one_right_then_all_restores_the_preset_and_journals(session, login):
    from services.admin.drift import drift

    reg = _drifted_role(session, login)
    admin = login("admin")
    rows = select(func.count()).select_from(JournalEntry).where(
        JournalEntry.table_name == "role_right")
    journal = session.scalar(rows)
    response = admin.post(f"/rights/role/{reg}/drift/reset", data={"code": "admin.units"},
                          follow_redirects=True)
    assert "Возвращено к шаблону прав: 1" in _text(response)
    assert _value(session, reg, "admin.units") == load_presets()["registrar"].values[
        "admin.units"]
    assert _value(session, reg, "admin.users") == "view"
    assert session.scalar(rows) == journal + 1
    admin.post(f"/rights/role/{reg}/drift/reset")
    assert drift(session, session.get(Role, reg)) == []
    kinds = list(session.scalars(select(RoleChange.kind).where(RoleChange.role_id == reg)
                                 .order_by(RoleChange.id)))
    assert kinds == ["save", "drift", "drift"]


def test_a_role_made_from_a_preset_remembers_it_and_one_from_scratch_has_no_drift(session,
                                                                               login):
    from services.admin.drift import drift_counts

    admin = login("admin")
    admin.post("/rights/role/new", data={"name": "Кассир-2", "preset": "cashier"})
    admin.post("/rights/role/new", data={"name": "С нуля", "side": "back_office"})
    counts = drift_counts(session)
    assert counts[_role_id(session, "Кассир-2")] == 0
    assert _role_id(session, "С нуля") not in counts
    page = _text(admin.get(f"/rights/role/{_role_id(session, 'С нуля')}/drift"))
    assert "Роль создана не из шаблона" in page


# --------------------------------------------------------------------------- rollback


def test_history_lists_saved_changes_and_one_click_restores_a_past_state(session, login):
    reg = _drifted_role(session, login)
    admin = login("admin")
    change = session.scalar(select(RoleChange).where(RoleChange.role_id == reg))
    page = _words(admin.get(f"/rights/role/{reg}/history"))
    assert "Сохранение матрицы" in page
    assert "«Организационная структура»: нет доступа → изменение" in page
    assert "«Пользователи»: нет доступа → просмотр" in page
    registrar = login("registrar")
    assert registrar.get("/unitview/list/").status_code == 200

    response = admin.post(f"/rights/role/{reg}/rollback/{change.id}",
                          data={"state": "before"}, follow_redirects=True)
    assert "Права роли восстановлены, изменено прав: 2" in _text(response)
    assert _value(session, reg, "admin.units") == "none"
    assert registrar.get("/unitview/list/").status_code == 403
    last = session.scalar(select(RoleChange).where(RoleChange.role_id == reg)
                          .order_by(RoleChange.id.desc()))
    assert (last.kind, last.username) == ("rollback", "admin")
    assert "Откат" in _text(admin.get(f"/rights/role/{reg}/history"))


def test_a_change_of_another_role_cannot_be_rolled_back_here(session, login):
    reg = _drifted_role(session, login)
    change = session.scalar(select(RoleChange).where(RoleChange.role_id == reg))
    cashier = _role_id(session, "Кассир")
    before = _state(session)
    response = login("admin").post(f"/rights/role/{cashier}/rollback/{change.id}",
                                   follow_redirects=True)
    assert "Изменение не найдено" in _text(response)
    assert _state(session) == before


def test_the_command_line_lists_and_rolls_back(app, session, login):
    reg = _drifted_role(session, login)
    change = session.scalar(select(RoleChange).where(RoleChange.role_id == reg))
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["uchet", "roles", "history", REGISTRAR])
    assert f"#{change.id}" in listed.output and "Организационная структура" in listed.output
    result = runner.invoke(args=["uchet", "roles", "rollback", REGISTRAR, "--to", str(change.id)])
    assert result.exit_code == 0, result.output
    assert "изменено прав: 2" in result.output
    assert _value(session, reg, "admin.users") == "none"
    assert session.scalar(select(RoleChange.username).order_by(RoleChange.id.desc())) == "cli"


# --------------------------------------------------------------------------- access check


def _voucher(session, branch: str) -> Voucher:
    return session.scalar(select(Voucher).where(Voucher.branch_id == unit(session, branch).id)
                          .order_by(Voucher.id))


def test_the_access_check_answers_in_one_sentence_of_peoples_terms(session, login):
    voucher = _voucher(session, "MSK-TVR")
    url = (f"/rights/explain?user=registrar&view=VoucherView&permission=view&pk={voucher.id}")
    page = _text(login("admin").get(url))
    answer = re.search(r'<p class="explain-sentence"[^>]*>([^<]*)</p>', page).group(1)
    assert answer.startswith(f"Регистратор Петрова Ирина видит «{voucher!r}»")
    assert "право «Талоны" in answer or "право «" in answer
    assert "данные: своё подразделение и дочерние филиалы" in answer
    assert "Филиал «Тверской»" in answer
    shown = " ".join(re.sub(r"<[^>]+>", " ", page.split("<details>")[0]).split())
    for technical in ("VoucherView", "can_show", "(404)", "can_"):
        assert technical not in shown, technical


def test_the_access_check_refuses_a_voucher_of_another_branch_in_words(session, login):
    voucher = _voucher(session, "SPB-NEV")
    url = f"/rights/explain?user=registrar&view=VoucherView&permission=view&pk={voucher.id}"
    page = _text(login("admin").get(url))
    answer = re.search(r'<p class="explain-sentence"[^>]*>([^<]*)</p>', page).group(1)
    assert "не видит" in answer and "Невский" in answer
    assert "(404)" not in page


def test_a_record_is_found_by_searching_not_by_its_key(session, login):
    voucher = _voucher(session, "MSK-TVR")
    page = _text(login("admin").get(
        f"/rights/explain?user=registrar&view=VoucherView&permission=edit&record_q={voucher.id}"))
    assert f'<option value="{voucher.id}">{voucher!r}</option>' in page
    assert "Выберите запись из найденных" in page


def test_the_access_check_offers_labels_and_words_not_codes(login):
    page = _text(login("admin").get("/rights/explain"))
    assert "Документы → Талоны" in page
    for word in ("просмотр", "изменение", "создание", "удаление"):
        assert f">{word}</option>" in page
    assert ">VoucherView<" not in page and ">can_show<" not in page
    assert "Петрова Ирина (Медицинский регистратор)" in page


# --------------------------------------------------------------------------- what-if


def _api_count(client, resource: str) -> int:
    response = client.get(f"/api/v1/{resource}/?q=(page_size:1)")
    assert response.status_code == 200, response.status_code
    return response.get_json()["count"]


def _row_counts(page: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"whatif-before\">(\d+)</td>"
                      r"<td class=\"whatif-after\">(\d+)</td>", page)
    return {screen: (int(a), int(b)) for screen, a, b in rows}


def test_what_if_writes_nothing_and_its_counts_equal_what_the_user_sees_after_saving(
        app, session, login):
    reg = _role_id(session, REGISTRAR)
    admin, registrar = login("admin"), login("registrar")
    units_before = registrar.get("/api/v1/unit/").status_code
    assert units_before in (401, 403)
    vouchers = next(v.resource_name for v in app.appbuilder.baseviews
                    if type(v).__name__ == "VoucherApi")
    seen_before = _api_count(registrar, vouchers)
    draft = {f"v:{reg}:scope.data": "all", f"v:{reg}:admin.units": "view"}
    user_id = session.scalar(select(AppUser.id).where(AppUser.username == "registrar"))
    before = _state(session)
    page = _text(admin.post("/rights/whatif", data={**draft, "user": user_id}))
    assert _state(session) == before, "the preview wrote something"
    assert "Петрова Ирина" in page
    assert "Организация → Подразделения" in page.split("Откроются экраны")[1]
    counts = _row_counts(page)
    voucher_screen = next(s for s in counts if s.endswith("→ Талоны"))
    assert counts[voucher_screen][0] == seen_before
    assert counts[voucher_screen][1] > seen_before

    response = admin.post("/rights/matrix", data=draft)
    assert response.status_code == 302
    assert _api_count(registrar, vouchers) == counts[voucher_screen][1]
    unit_screen = next(s for s in counts if s.endswith("→ Подразделения"))
    assert counts[unit_screen][0] == 0
    assert _api_count(registrar, "unit") == counts[unit_screen][1]


def test_what_if_names_rules_that_start_or_stop_refusing(session, login):
    reg = _role_id(session, REGISTRAR)
    user_id = session.scalar(select(AppUser.id).where(AppUser.username == "registrar"))
    now = _value(session, reg, "voucher.recalculate")
    flipped = "no" if now == "yes" else "yes"
    page = _text(login("admin").post("/rights/whatif", data={
        f"v:{reg}:voucher.recalculate": flipped, "user": user_id}))
    heading = ("Правила перестанут отказывать" if flipped == "yes"
               else "Правила начнут отказывать")
    assert "«Разрешить пересчет талонов»" in page.split(heading)[1]
    assert "Ничего не сохранено" in page


def test_what_if_without_a_draft_says_so(login):
    page = _text(login("admin").get("/rights/whatif"))
    assert "Черновика нет" in page


# --------------------------------------------------------------------------- users


def _user_id(session, username: str) -> int:
    return session.scalar(select(AppUser.id).where(AppUser.username == username))


def test_the_user_card_links_to_what_the_user_sees(session, login):
    pk = _user_id(session, "registrar")
    page = _text(login("admin").get(f"/users/show/{pk}"))
    assert f'href="/users/sees/{pk}"' in page and "Что видит пользователь" in page


def test_what_a_user_sees_names_units_clients_and_sections(session, login):
    admin = login("admin")
    page = _words(admin.get(f"/users/sees/{_user_id(session, 'registrar')}"))
    assert "Что видит пользователь Петрова Ирина" in page
    assert "Филиал «Тверской» и подчинённые" in page
    assert re.search(r"Документы : [^:]*Талоны", page)
    sections = page.split("Разделы и экраны")[1].split("Изменить роли")[0]
    assert "Роли и права доступа" not in sections
    manager = _words(admin.get(f"/users/sees/{_user_id(session, 'manager')}"))
    assert "Добромед" in manager.split("Клиенты")[-1]
    assert "Клиенты персонального менеджера".lower() in manager


def test_what_a_user_sees_follows_the_administrators_scope(session, login):
    head = login("branch_head")
    inside, outside = _user_id(session, "registrar"), _user_id(session, "accountant")
    assert head.get(f"/users/sees/{inside}").status_code == 200
    assert head.get(f"/users/sees/{outside}").status_code == 404
    assert _refused(login("registrar").get(f"/users/sees/{inside}"))


def test_units_clients_and_roles_are_on_one_user_form(session, login):
    page = _text(login("admin").get(f"/users/edit/{_user_id(session, 'manager')}"))
    for field in ('name="roles"', 'name="home_unit"', 'name="extra_units"',
                  'name="served_clients"'):
        assert field in page, field


def test_putting_back_a_required_right_puts_back_what_requires_it(session, login):
    reg = _role_id(session, REGISTRAR)
    admin = login("admin")
    admin.post("/rights/matrix?section=refbooks", data={
        f"v:{reg}:refbook.currencies": "edit", f"v:{reg}:refbook.exchange_rates": "edit"})
    response = admin.post(f"/rights/role/{reg}/drift/reset",
                          data={"code": "refbook.currencies"}, follow_redirects=True)
    assert "Возвращено к шаблону прав: 2" in _text(response)
    assert (_value(session, reg, "refbook.currencies"),
            _value(session, reg, "refbook.exchange_rates")) == ("view", "view")


def test_the_demo_shows_a_drifted_role_with_one_change_to_roll_back(session, login):
    senior = _role_id(session, "Старший регистратор")
    page = _words(login("admin").get(f"/rights/role/{senior}/drift"))
    assert "Прав, которые сегодня отличаются от шаблона: 2." in page
    assert session.scalar(select(func.count()).select_from(RoleChange)
                          .where(RoleChange.role_id == senior)) == 1
