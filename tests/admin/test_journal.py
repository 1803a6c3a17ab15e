"""The change journal: every write says who, which row, from what, to what; it is
written in the same transaction and only administrators can read it.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from core.actor import reset_actor, set_actor
from models.journal import JournalEntry
from models.user import AppUser
from services.admin.journal import MASK
from tests.support import make_unit, make_user, unit


@contextlib.contextmanager
def acting_as(user_id, username):
    token = set_actor(user_id, username)
    try:
        yield
    finally:
        reset_actor(token)


def _entries(session, table: str, pk) -> list[JournalEntry]:
    return list(session.scalars(
        select(JournalEntry)
        .where(JournalEntry.table_name == table, JournalEntry.row_pk == str(pk))
        .order_by(JournalEntry.id)
    ))


def _last(session, table: str, pk) -> JournalEntry:
    entries = _entries(session, table, pk)
    assert entries, f"no journal entry for {table} {pk}"
    return entries[-1]


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def _user(session, username: str) -> AppUser:
    return session.scalar(select(AppUser).where(AppUser.username == username))


# --- what is written ---------------------------------------------------------------


def test_insert_records_who_which_row_and_every_value(session):
    branch = unit(session, "MSK-ARB")
    with acting_as(4242, "importer"):
        new = make_unit(session, kind="department", parent=branch, name="Кабинет УЗИ")
    entry = _last(session, "org_unit", new.id)
    assert (entry.action, entry.user_id, entry.username) == ("insert", 4242, "importer")
    assert entry.before is None
    assert entry.after["name"] == "Кабинет УЗИ"
    assert entry.after["parent_id"] == branch.id
    assert entry.after["kind"] == "department"
    assert entry.at is not None


def test_update_records_only_the_changed_fields_before_and_after(session):
    branch = unit(session, "SPB-NEV")
    old_name = branch.name
    with acting_as(7, "editor"):
        branch.name = "Филиал «Невский проспект»"
        branch.phone = "+7 812 000-00-00"
        session.flush()
    entry = _last(session, "org_unit", branch.id)
    assert (entry.action, entry.user_id, entry.username) == ("update", 7, "editor")
    assert entry.before == {"name": old_name, "phone": None}
    assert entry.after == {"name": "Филиал «Невский проспект»", "phone": "+7 812 000-00-00"}


def test_update_of_a_row_expired_by_a_commit_keeps_the_old_value(session):
    branch = unit(session, "SPB-VAS")
    old_name = branch.name
    session.commit()  # expires the row: its old name is no longer in memory
    branch.name = "Филиал «Васильевский остров»"
    session.flush()
    entry = _last(session, "org_unit", branch.id)
    assert entry.before == {"name": old_name}
    assert entry.after == {"name": "Филиал «Васильевский остров»"}


def test_setting_the_same_value_writes_no_entry(session):
    branch = unit(session, "SPB-PUL")
    count = _count(session)
    branch.name = branch.name
    session.flush()
    assert _count(session) == count


def test_delete_records_the_values_the_row_had(session):
    leaf = make_unit(session, kind="department", parent=unit(session, "KZN-SAV"),
                     name="Кабинет на удаление")
    leaf_id = leaf.id
    with acting_as(9, "cleaner"):
        session.delete(leaf)
        session.flush()
    entry = _last(session, "org_unit", leaf_id)
    assert (entry.action, entry.username) == ("delete", "cleaner")
    assert entry.before["name"] == "Кабинет на удаление"
    assert entry.before["code"] == leaf.code
    assert entry.after is None


def test_outside_a_request_and_without_an_actor_the_system_is_named(session):
    new = make_unit(session, kind="client")
    entry = _last(session, "org_unit", new.id)
    assert (entry.user_id, entry.username) == (None, "system")


def test_rolled_back_change_leaves_no_entry(session):
    count = _count(session)
    new = make_unit(session, kind="client", name="Передумали")
    pk = new.id
    assert _count(session) == count + 1  # written by the flush, in the transaction
    session.rollback()
    assert _count(session) == count
    assert _entries(session, "org_unit", pk) == []


def test_derived_closure_rows_are_not_journaled(session):
    make_unit(session, kind="department", parent=unit(session, "MSK-KHM"))
    tables = set(session.scalars(select(JournalEntry.table_name).distinct()))
    assert "org_unit_closure" not in tables
    assert "change_journal" not in tables


# --- users: secrets masked, links recorded ------------------------------------------


def test_password_change_is_journaled_without_the_hash(session):
    user = _user(session, "cashier")
    old_hash = user.password
    new_hash = generate_password_hash("a-new-password")
    user.password = new_hash
    session.flush()
    entry = _last(session, "ab_user", user.id)
    assert entry.action == "update"
    assert entry.before == {"password": MASK}
    assert entry.after == {"password": MASK}
    text = f"{entry.before}{entry.after}"
    assert old_hash not in text and new_hash not in text


def test_new_user_is_journaled_with_a_masked_password(session):
    user = make_user(session, "journal-newcomer", home_unit=unit(session, "MSK-TVR"))
    entry = _last(session, "ab_user", user.id)
    assert entry.action == "insert"
    assert entry.after["password"] == MASK
    assert entry.after["username"] == "journal-newcomer"
    assert entry.after["home_unit_id"] == unit(session, "MSK-TVR").id
    assert user.password not in str(entry.after)


def test_delegated_units_added_and_removed_are_journaled(session):
    user = _user(session, "branch_head")
    arbat, maryino = unit(session, "MSK-ARB"), unit(session, "MSK-MAR")
    assert user.extra_units == []
    user.extra_units = [arbat, maryino]
    session.flush()
    entry = _last(session, "ab_user", user.id)
    assert entry.before == {"extra_units": []}
    assert entry.after == {"extra_units": sorted([str(arbat.id), str(maryino.id)])}

    user.extra_units.remove(arbat)
    session.flush()
    entry = _last(session, "ab_user", user.id)
    assert entry.before == {"extra_units": sorted([str(arbat.id), str(maryino.id)])}
    assert entry.after == {"extra_units": [str(maryino.id)]}


def test_role_change_is_journaled(session):
    user = _user(session, "doctor")
    old_roles = sorted(str(r.id) for r in user.roles)
    extra = _user(session, "cashier").roles[0]
    user.roles.append(extra)
    session.flush()
    entry = _last(session, "ab_user", user.id)
    assert entry.before == {"roles": old_roles}
    assert entry.after == {"roles": sorted([*old_roles, str(extra.id)])}


# --- through the screens -------------------------------------------------------------


def test_change_through_the_screen_is_journaled_as_the_logged_in_user(session, login):
    admin = login("admin")
    branch = unit(session, "KZN-CEN")
    old_name = branch.name
    response = admin.post(f"/unitview/edit/{branch.id}", data={
        "kind": "branch", "parent": str(branch.parent_id), "code": branch.code,
        "name": "Филиал «Казань-Кремль»", "active": "y",
    })
    assert response.status_code == 302
    session.expire_all()
    entry = _last(session, "org_unit", branch.id)
    assert (entry.action, entry.username) == ("update", "admin")
    assert entry.user_id == _user(session, "admin").id
    assert entry.before["name"] == old_name
    assert entry.after["name"] == "Филиал «Казань-Кремль»"


def test_logging_in_writes_no_journal_entry(session, login):
    user_id = _user(session, "registrar").id
    before = len(_entries(session, "ab_user", user_id))
    login("registrar").get("/")
    session.expire_all()
    assert _user(session, "registrar").login_count  # the login did touch the row
    assert len(_entries(session, "ab_user", user_id)) == before


def test_own_password_change_through_the_screen_is_journaled_masked(session, login):
    registrar = login("registrar")
    user_id = _user(session, "registrar").id
    response = registrar.post("/resetmypassword/form", data={
        "current_password": "demo", "password": "Nov0e-parol!", "conf_password": "Nov0e-parol!",
    })
    assert response.status_code in (200, 302)
    session.expire_all()
    entry = _last(session, "ab_user", user_id)
    assert (entry.username, entry.before, entry.after) == (
        "registrar", {"password": MASK}, {"password": MASK}
    )


@pytest.fixture
def probes(session):
    """Write one journal entry on org_unit and one on ab_user, by recognisable actors."""
    with acting_as(None, "probe-unit-writer"):
        branch = unit(session, "SPB-NEV")
        branch.name = "Пробный филиал"
        session.flush()
    with acting_as(None, "probe-user-writer"):
        _user(session, "accountant").position = "Пробная должность"
        session.flush()
    session.commit()
    return _last(session, "org_unit", branch.id)


def test_journal_screen_lists_entries_and_filters_by_table(probes, login):
    admin = login("admin")
    everything = admin.get("/journalview/list/").get_data(as_text=True)
    assert "probe-unit-writer" in everything
    assert "probe-user-writer" in everything
    # FAB filter arguments: _flt_<index of the filter>_<column>; 3 is "equal to" on strings.
    response = admin.get("/journalview/list/?_flt_3_table_name=org_unit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "probe-unit-writer" in page
    assert "probe-user-writer" not in page


def test_journal_entry_page_shows_before_and_after(probes, login):
    response = login("admin").get(f"/journalview/show/{probes.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Филиал «Невский»" in page
    assert "Пробный филиал" in page
    assert "probe-unit-writer" in page


@pytest.mark.parametrize("username", ["registrar", "branch_head", "client_head", "manager"])
def test_journal_is_closed_to_non_administrators(probes, login, username):
    c = login(username)
    for url in ("/journalview/list/", f"/journalview/show/{probes.id}"):
        response = c.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
        assert "probe-unit-writer" not in response.get_data(as_text=True)


def test_journal_is_closed_to_anonymous_visitors(probes, client):
    response = client.get("/journalview/list/")
    assert response.status_code in (302, 401, 403)
    assert "probe-unit-writer" not in response.get_data(as_text=True)
