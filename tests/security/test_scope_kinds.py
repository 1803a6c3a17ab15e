"""A column that only ever holds a branch (`ScopePath.kinds`) is filtered by the
branches in the user's scope alone (issue 19): the registrar's scope is his branch
and its departments, yet his voucher list asks for `branch_id = <his branch>`,
which PostgreSQL answers from the (branch, date) index. It only narrows what the
filter sends, so nothing a user may save may become invisible to him: a voucher's
«Филиал» that is not a branch is refused when it is saved."""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event, select

from core.errors import ValidationError
from models.org import Unit
from models.user import AppUser
from models.vouchers import Voucher
from security.effective import resolve
from security.rights_cache import from_json, to_json
from services.vouchers.rules import check_branch_kind
from tests.contract_rows import count, message, patient
from tests.support import unit
from tests.voucher_rows import VOUCHERS, ago, iso, voucher_user

BRANCH_KIND = "Филиал талона должен быть филиалом, а не «Отделение»"


@pytest.fixture
def statements(app):
    """Return a context manager collecting (statement, parameters) run inside it."""
    from app.extensions import db

    @contextlib.contextmanager
    def _collect():
        seen: list[tuple[str, object]] = []

        def _before(_conn, _cursor, statement, params, _context, _executemany):
            seen.append((statement, params))

        with app.app_context():
            engine = db.engines[None]
        event.listen(engine, "before_cursor_execute", _before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", _before)

    return _collect


def _department(session, branch: Unit) -> Unit:
    return session.scalar(select(Unit).where(Unit.parent_id == branch.id,
                                             Unit.kind == "department").order_by(Unit.id))


def _branch_filter(seen, table: str) -> list:
    """Return the values the scope sent for `table`.branch_id in the page's statements
    (SQLite's positional or PostgreSQL's named parameters), failing on an IN over
    the column."""
    found = []
    for statement, params in seen:
        flat = " ".join(statement.split())
        if f"FROM {table}" not in flat:
            continue
        assert not re.search(rf"{table}\.branch_id IN", flat), flat
        match = re.search(rf"{table}\.branch_id = (\?|%\((\w+)\)s)", flat)
        if match and match.group(2):  # PostgreSQL: a named parameter
            found.append(params[match.group(2)])
        elif match:  # SQLite: positional
            found.append(params[flat[:match.end()].count("?") - 1])
    return found


def test_the_registrars_scope_holds_his_departments_but_his_branch_alone_is_a_branch(
        session, app):
    branch = unit(session, "MSK-TVR")
    registrar = session.scalar(select(AppUser).where(AppUser.username == "registrar"))
    with app.test_request_context():
        scope = resolve(session, registrar).scope
    departments = set(session.scalars(select(Unit.id).where(Unit.parent_id == branch.id,
                                                            Unit.kind == "department")))
    assert departments and departments | {branch.id} <= scope.units
    assert scope.ids_of(("branch",)) == [branch.id]
    assert set(scope.ids_of(("department",))) == departments


@pytest.mark.parametrize(("url", "table"), [
    ("/voucherview/list/", "vch_voucher"),
    (f"/voucherview/list/?_flt_1_service_date={iso(ago(30))}", "vch_voucher"),
])
def test_the_registrars_voucher_list_asks_for_his_branch_by_equality(
        session, login, statements, url, table):
    branch = unit(session, "MSK-TVR")
    client = login("registrar")
    assert client.get(url).status_code == 200
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200
    sent = _branch_filter(seen, table)
    # The page and its count both filter by the branch, by equality.
    assert len(sent) >= 2 and set(sent) == {branch.id}, seen


def test_the_kinds_survive_the_shared_rights_cache(session, app):
    registrar = session.scalar(select(AppUser).where(AppUser.username == "registrar"))
    with app.test_request_context():
        rights = resolve(session, registrar)
    again = from_json(to_json(rights))
    assert again.scope.kinds == rights.scope.kinds
    assert again.scope.ids_of(("branch",)) == [unit(session, "MSK-TVR").id]


def test_a_voucher_whose_branch_is_a_department_is_refused_over_the_api(session, login):
    branch = unit(session, "MSK-TVR")
    department = _department(session, branch)
    person = patient(session)
    session.commit()
    client, _ = voucher_user(session, login, {})
    body = {"service_date": iso(ago(1)), "kind": "regular", "patient": person.id}
    refused = client.post(VOUCHERS, json={**body, "branch": department.id})
    assert refused.status_code == 400, refused.get_json()
    assert message(refused) in (BRANCH_KIND, "Связанная запись в поле «Филиал» не найдена")
    assert count(session, Voucher, Voucher.patient_id == person.id) == 0
    saved = client.post(VOUCHERS, json={**body, "branch": branch.id})
    assert saved.status_code == 201, saved.get_json()
    listed = client.get("/voucherview/list/").get_data(as_text=True)
    assert f"/voucherview/show/{saved.get_json()['id']}" in listed


def test_the_save_rule_refuses_a_department_as_a_vouchers_branch(session, app):
    branch = unit(session, "MSK-TVR")
    department = _department(session, branch)
    with app.test_request_context():
        check_branch_kind(session, Voucher(branch_id=branch.id))
        with pytest.raises(ValidationError) as refused:
            check_branch_kind(session, Voucher(branch_id=department.id))
    assert str(refused.value) == BRANCH_KIND
    assert refused.value.field == "branch"
