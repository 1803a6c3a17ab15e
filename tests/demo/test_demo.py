"""Demo data: a plausible network, clients and one user per role; never loaded twice."""

from __future__ import annotations

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from demo.loader import DEMO_PASSWORD, USERS, DemoRefused, load_demo
from models.journal import JournalEntry
from models.org import Unit, UnitClosure, UnitKind
from models.rights import RoleProfile, RoleRight
from models.user import AppUser
from tests.support import unit

COUNTED = (Unit, UnitClosure, AppUser, Role, RoleProfile, RoleRight, JournalEntry)


def _counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def _units(session, kind: UnitKind) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.kind == kind.value)))


def _user(session, username: str) -> AppUser:
    return session.scalar(select(AppUser).where(AppUser.username == username))


# --- loading twice is refused -------------------------------------------------------


def test_second_load_is_refused_and_writes_nothing(session):
    before = _counts(session)
    with pytest.raises(DemoRefused, match="демо-данные не загружены"):
        load_demo(session)
    assert not session.new and not session.dirty
    assert _counts(session) == before


def test_cli_load_on_a_filled_database_fails_in_russian(app, session):
    before = _counts(session)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "демо-данные не загружены" in result.output
    assert _counts(session) == before


def test_cli_load_if_empty_on_a_filled_database_succeeds_quietly(app, session):
    before = _counts(session)
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output
    assert _counts(session) == before


# --- the tree -----------------------------------------------------------------------


def test_network_has_regions_with_branches_and_departments(session):
    network = unit(session, "NET")
    assert network.kind == UnitKind.network and network.parent_id is None
    regions = _units(session, UnitKind.region)
    assert len(regions) >= 3
    assert all(r.parent_id == network.id for r in regions)
    branches = _units(session, UnitKind.branch)
    assert len(branches) >= 10
    region_ids = {r.id for r in regions}
    for branch in branches:
        assert branch.parent_id in region_ids, branch.code
        kinds = {c.kind for c in branch.children}
        assert kinds == {UnitKind.department.value}, branch.code


def test_three_clients_each_with_a_head_unit_and_branches(session):
    clients = _units(session, UnitKind.client)
    assert len(clients) == 3
    for client in clients:
        assert client.parent_id is None
        assert client.inn and len(client.inn) == 10, client.code
        heads = [c for c in client.children if c.kind == UnitKind.head_unit.value]
        assert len(heads) == 1, client.code
        offices = heads[0].children
        assert offices, client.code
        assert {o.kind for o in offices} == {UnitKind.client_branch.value}


def test_every_unit_has_a_unique_code_and_a_russian_name(session):
    units = session.scalars(select(Unit)).all()
    assert len({u.code for u in units}) == len(units)
    assert all(any("а" <= ch.lower() <= "я" for ch in u.name) for u in units)
    assert all(u.active for u in units)


# --- the users ------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "preset", "home_code"),
                         [(u[0], u[1], u[5]) for u in USERS])
def test_demo_user_exists_with_the_role_of_its_preset_and_its_home_unit(
    session, username, preset, home_code
):
    user = _user(session, username)
    assert user is not None
    assert user.active
    assert check_password_hash(user.password, DEMO_PASSWORD)
    assert user.home_unit is not None and user.home_unit.code == home_code
    presets = {
        session.scalar(select(RoleProfile.preset).where(RoleProfile.role_id == role.id))
        for role in user.roles
    }
    assert presets == {preset}


def test_every_preset_user_has_a_distinct_role(session):
    roles = {_user(session, u[0]).roles[0].name for u in USERS}
    assert len(roles) == len(USERS)


def test_manager_serves_the_demo_clients_and_the_assistant_works_for_him(session):
    manager = _user(session, "manager")
    assert sorted(c.code for c in manager.served_clients) == ["CL1", "CL2"]
    assistant = _user(session, "assistant")
    assert assistant.manager is not None and assistant.manager.username == "manager"
    assert [a.username for a in manager.assistants] == ["assistant"]
