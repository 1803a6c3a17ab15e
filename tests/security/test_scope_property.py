"""Property test: on random organisation trees, the SQL scope filter selects
exactly the units a plain Python oracle (walking parent links) says it should,
for every combination of data-scope choices, home, delegated and client units."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models.org import Unit
from security.effective import _scope_from
from tests.support import make_unit

CHOICES = ["own_unit", "own_subtree", "delegated", "manager_clients", "all"]


def _descendants(parent_of: dict[int, int | None], top: int) -> set[int]:
    found = set()
    for node in parent_of:
        walk = node
        while walk is not None:
            if walk == top:
                found.add(node)
                break
            walk = parent_of[walk]
    return found


def _oracle(parent_of, choices, home, extra, clients) -> set[int]:
    if "all" in choices:
        return set(parent_of)
    result: set[int] = set()
    if home is not None:
        if {"own_unit", "delegated"} & choices:
            result.add(home)
        if "own_subtree" in choices:
            result |= _descendants(parent_of, home)
    if "delegated" in choices:
        result |= extra
    if "manager_clients" in choices:
        for client in clients:
            result |= _descendants(parent_of, client)
    return result


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scope_filter_matches_the_oracle(session, data):
    savepoint = session.begin_nested()
    try:
        root = make_unit(session, kind="network")
        units = [root]
        parent_of: dict[int, int | None] = {root.id: None}
        for _ in range(data.draw(st.integers(0, 20), label="size")):
            parent = data.draw(st.sampled_from(units), label="parent")
            child = make_unit(session, kind="network", parent=parent)
            units.append(child)
            parent_of[child.id] = parent.id
        ids = list(parent_of)
        choices = data.draw(st.sets(st.sampled_from(CHOICES)), label="choices")
        home = data.draw(st.one_of(st.none(), st.sampled_from(ids)), label="home")
        extra = data.draw(st.sets(st.sampled_from(ids), max_size=4), label="extra")
        clients = data.draw(st.sets(st.sampled_from(ids), max_size=3), label="clients")

        scope = _scope_from(choices, home, extra, clients)
        got = set(session.scalars(
            select(Unit.id).where(Unit.id.in_(ids), scope.clause(Unit.id))))
        assert got == _oracle(parent_of, choices, home, extra, clients)
    finally:
        savepoint.rollback()


def test_no_anchor_means_no_rows(session):
    scope = _scope_from({"own_unit", "own_subtree", "delegated"}, None, set(), set())
    assert scope.is_empty
    assert session.scalars(select(Unit.id).where(scope.clause(Unit.id))).all() == []
