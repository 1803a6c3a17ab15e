"""The organisation tree: the closure table always agrees with the parent links.

The oracle walks parent links in Python; `services.admin.orgtree` answers from the
closure table that a session hook rewrites on every flush.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import ValidationError
from models.org import Unit, UnitClosure, UnitKind
from services.admin import orgtree
from services.admin.orgtree import ancestor_ids, subtree_ids, validate_placement
from tests.support import make_unit, unit

# --- the oracle --------------------------------------------------------------------


def _parent_links(session) -> dict[int, int | None]:
    return dict(session.execute(select(Unit.id, Unit.parent_id)).tuples().all())


def _oracle_closure(parents: dict[int, int | None]) -> set[tuple[int, int, int]]:
    """Return every (ancestor, descendant, depth) by walking parent links."""
    rows = set()
    for start in parents:
        node, depth = start, 0
        while node is not None:
            rows.add((node, start, depth))
            node, depth = parents[node], depth + 1
            assert depth <= len(parents), f"cycle through unit {start}"
    return rows


def _oracle_subtree(parents: dict[int, int | None], anchor: int) -> set[int]:
    return {d for a, d, _ in _oracle_closure(parents) if a == anchor}


def _oracle_ancestors(parents: dict[int, int | None], unit_id: int) -> list[int]:
    chain, node = [], parents[unit_id]
    while node is not None:
        chain.append(node)
        node = parents[node]
    return chain


def _stored_closure(session, ids=None) -> set[tuple[int, int, int]]:
    query = select(UnitClosure.ancestor_id, UnitClosure.descendant_id, UnitClosure.depth)
    if ids is not None:
        query = query.where(UnitClosure.descendant_id.in_(list(ids)))
    return set(session.execute(query).tuples())


def _assert_closure_matches_parent_links(session) -> None:
    parents = _parent_links(session)
    assert _stored_closure(session) == _oracle_closure(parents)


# --- the demo tree and ordinary edits -----------------------------------------------


def test_demo_tree_closure_matches_parent_links(session):
    parents = _parent_links(session)
    assert _stored_closure(session) == _oracle_closure(parents)
    for code in ("NET", "MSK", "SPB", "MSK-TVR", "CL1", "CL1-HQ", "CL1-B1"):
        anchor = unit(session, code).id
        assert subtree_ids(session, anchor) == _oracle_subtree(parents, anchor), code
        assert ancestor_ids(session, anchor) == _oracle_ancestors(parents, anchor), code


def test_ancestors_are_listed_nearest_first(session):
    department = unit(session, "MSK-TVR-THR")
    expected = [unit(session, c).id for c in ("MSK-TVR", "MSK", "NET")]
    assert ancestor_ids(session, department.id) == expected
    assert ancestor_ids(session, unit(session, "NET").id) == []


def test_provider_and_client_trees_do_not_mix(session):
    network = subtree_ids(session, unit(session, "NET").id)
    client = subtree_ids(session, unit(session, "CL1").id)
    assert not network & client
    assert unit(session, "CL2-B1").id not in client


def test_new_unit_joins_the_subtree_of_every_ancestor(session):
    branch = unit(session, "MSK-ARB")
    new = make_unit(session, kind="department", parent=branch)
    for code in ("MSK-ARB", "MSK", "NET"):
        assert new.id in subtree_ids(session, unit(session, code).id), code
    assert new.id not in subtree_ids(session, unit(session, "SPB").id)
    assert ancestor_ids(session, new.id) == [branch.id, unit(session, "MSK").id,
                                             unit(session, "NET").id]
    _assert_closure_matches_parent_links(session)


def test_new_parent_and_child_saved_in_one_flush(session):
    # The child is added first; the hook must still link it through its new parent.
    client = unit(session, "CL3")
    head = Unit(code="CL3-HQ2", name="Второй головной офис", kind="head_unit", parent=client)
    office = Unit(code="CL3-HQ2-B1", name="Офис", kind="client_branch", parent=head)
    session.add(office)
    session.flush()
    assert ancestor_ids(session, office.id) == [head.id, client.id]
    assert office.id in subtree_ids(session, client.id)
    _assert_closure_matches_parent_links(session)


def test_moving_a_branch_rewrites_the_closure_of_its_subtree(session):
    branch = unit(session, "MSK-TVR")
    departments = {d.id for d in branch.children}
    assert departments
    branch.parent = unit(session, "SPB")
    session.flush()
    spb = subtree_ids(session, unit(session, "SPB").id)
    msk = subtree_ids(session, unit(session, "MSK").id)
    assert {branch.id, *departments} <= spb
    assert not {branch.id, *departments} & msk
    _assert_closure_matches_parent_links(session)


def test_moving_a_branch_directly_under_the_network_shortens_its_paths(session):
    branch = unit(session, "KZN-CEN")
    network = unit(session, "NET")
    branch.parent = network
    session.flush()
    department = unit(session, "KZN-CEN-LAB")
    assert ancestor_ids(session, department.id) == [branch.id, network.id]
    assert (network.id, department.id, 2) in _stored_closure(session, [department.id])
    _assert_closure_matches_parent_links(session)


def test_several_moves_in_one_flush_keep_the_closure_right(session):
    # Per chain r -> a -> b -> c, move b up to r and a down under c, in ONE flush,
    # through the foreign keys. Whatever order the session yields the moves in,
    # the closure must end as r -> b -> c -> a. Six chains make a lucky order unlikely.
    chains = []
    for _ in range(6):
        r = make_unit(session, kind="network")
        a = make_unit(session, kind="region", parent=r)
        b = make_unit(session, kind="branch", parent=a)
        c = make_unit(session, kind="department", parent=b)
        chains.append((r.id, a.id, b.id, c.id))
    session.expunge_all()
    for n, (r, a, b, c) in enumerate(chains):
        # Load and change the two units in both orders across the chains.
        first, second = (a, b) if n % 2 else (b, a)
        loaded = {first: session.get(Unit, first), second: session.get(Unit, second)}
        loaded[b].parent_id = r
        loaded[a].parent_id = c
    session.flush()
    for r, a, b, c in chains:
        assert ancestor_ids(session, a) == [c, b, r]
    _assert_closure_matches_parent_links(session)


def test_deleting_a_leaf_removes_it_from_every_subtree(session):
    leaf = unit(session, "MSK-ARB-USD")
    leaf_id = leaf.id
    session.delete(leaf)
    session.flush()
    assert leaf_id not in subtree_ids(session, unit(session, "MSK").id)
    assert not session.scalars(
        select(UnitClosure).where(
            (UnitClosure.ancestor_id == leaf_id) | (UnitClosure.descendant_id == leaf_id)
        )
    ).all()
    _assert_closure_matches_parent_links(session)


def test_deleting_a_unit_with_children_is_refused_and_orphans_nobody(session):
    branch = unit(session, "SPB-PUL")
    children = {d.id: d.parent_id for d in branch.children}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.delete(branch)
        session.flush()
    session.expire_all()
    assert unit(session, "SPB-PUL") is not None
    assert {d.id: d.parent_id for d in unit(session, "SPB-PUL").children} == children
    _assert_closure_matches_parent_links(session)


# --- placement rules ----------------------------------------------------------------


def _forget(session, obj) -> None:
    """Drop an unsaved unit that the parent relationship cascaded into the session."""
    if obj in session:
        session.expunge(obj)


@pytest.mark.parametrize(
    ("kind", "parent_code"),
    [
        ("department", "MSK"),  # a department belongs to a branch, not a region
        ("region", "MSK"),
        ("branch", "MSK-TVR"),
        ("branch", None),  # a branch cannot be a root
        ("head_unit", "MSK"),  # the client side never hangs under the network
        ("client_branch", "CL1"),
        ("network", "NET"),
    ],
)
def test_wrong_kind_for_the_parent_is_refused(session, kind, parent_code):
    parent = unit(session, parent_code) if parent_code else None
    new = Unit(code="X-NEW", name="Новое", kind=kind, parent=parent)
    with pytest.raises(ValidationError) as refused:
        validate_placement(session, new)
    assert refused.value.field == "parent"
    assert "может входить только в" in str(refused.value)
    _forget(session, new)


@pytest.mark.parametrize(
    ("kind", "parent_code"),
    [("network", None), ("region", "NET"), ("branch", "MSK"), ("branch", "NET"),
     ("department", "MSK-TVR"), ("client", None), ("head_unit", "CL1"),
     ("client_branch", "CL1-HQ")],
)
def test_right_kind_for_the_parent_is_accepted(session, kind, parent_code):
    parent = unit(session, parent_code) if parent_code else None
    new = Unit(code="X-NEW", name="Новое", kind=kind, parent=parent)
    validate_placement(session, new)
    _forget(session, new)


def test_unknown_kind_is_refused(session):
    with pytest.raises(ValidationError, match="Неизвестный тип"):
        validate_placement(session, Unit(code="X", name="X", kind="warehouse"))


def test_moving_a_unit_under_its_own_descendant_is_refused(session):
    region = unit(session, "MSK")
    region.parent = unit(session, "MSK-TVR")
    with pytest.raises(ValidationError):
        validate_placement(session, region)
    session.rollback()
    _assert_closure_matches_parent_links(session)


def test_cycle_guard_holds_even_where_kinds_would_allow_it(session, monkeypatch):
    # Kinds alone rule out every cycle today; the cycle check must not depend on that.
    monkeypatch.setitem(orgtree.PARENT_KINDS, UnitKind.branch,
                        (UnitKind.region, UnitKind.network, UnitKind.branch))
    region = unit(session, "MSK")
    top = make_unit(session, kind="branch", parent=region)
    middle = make_unit(session, kind="branch", parent=top)
    bottom = make_unit(session, kind="branch", parent=middle)
    for new_parent in (bottom, middle, top):
        top.parent = new_parent
        with pytest.raises(ValidationError, match="внутрь самого себя"):
            validate_placement(session, top)
        top.parent = region
    # The refused placements were never written.
    session.flush()
    assert ancestor_ids(session, bottom.id)[:2] == [middle.id, top.id]
    _assert_closure_matches_parent_links(session)


# --- a property: random trees, random moves and deletes -------------------------------


@st.composite
def _tree_plans(draw):
    """Return (parent index of each new unit, operations, batch moves?).

    Index 0 is a fresh root; unit i (1-based) may hang under any earlier index.
    An operation is ("move", unit, target) with target -1 for "make it a root",
    or ("delete", unit, _) which applies only to leaves.
    """
    size = draw(st.integers(min_value=1, max_value=10))
    parents = [draw(st.integers(min_value=0, max_value=i)) for i in range(size)]
    operations = draw(st.lists(
        st.tuples(st.sampled_from(["move", "move", "delete"]),
                  st.integers(min_value=1, max_value=size),
                  st.integers(min_value=-1, max_value=size)),
        max_size=8,
    ))
    return parents, operations, draw(st.booleans())


def _apply(session, nodes, model, operations, batch) -> None:
    """Apply the operations to the database and to `model` (unit index -> parent index)."""
    for action, index, target in operations:
        if index not in model:
            continue
        if action == "delete":
            if any(parent == index for parent in model.values()):
                continue
            session.delete(nodes[index])
            session.flush()
            del model[index]
            continue
        new_parent = None if target == -1 else target
        if new_parent is not None and (
            new_parent not in model or index in _model_path(model, new_parent)
        ):
            continue  # would form a cycle (or the target is gone)
        model[index] = new_parent
        if batch:
            nodes[index].parent_id = None if new_parent is None else nodes[new_parent].id
        else:
            nodes[index].parent = None if new_parent is None else nodes[new_parent]
            session.flush()
    session.flush()


def _model_path(model, index) -> list[int]:
    """Return `index` and its ancestors in the model."""
    path = []
    while index is not None:
        path.append(index)
        index = model[index]
    return path


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=_tree_plans())
def test_closure_agrees_with_parent_links_after_random_edits(session, plan):
    parent_indexes, operations, batch = plan
    savepoint = session.begin_nested()
    try:
        nodes = [make_unit(session, kind="network")]
        model: dict[int, int | None] = {0: None}
        for i, parent in enumerate(parent_indexes, start=1):
            nodes.append(make_unit(session, kind="branch", parent=nodes[parent]))
            model[i] = parent
        _apply(session, nodes, model, operations, batch)

        ids = {i: nodes[i].id for i in model}
        parents = {ids[i]: None if p is None else ids[p] for i, p in model.items()}
        assert {uid: pid for uid, pid in _parent_links(session).items() if uid in parents} == (
            parents
        )
        assert _stored_closure(session, parents) == _oracle_closure(parents)
        for uid in parents:
            assert subtree_ids(session, uid) == _oracle_subtree(parents, uid)
            assert ancestor_ids(session, uid) == _oracle_ancestors(parents, uid)
    finally:
        savepoint.rollback()


# --- the same rules through the screens ------------------------------------------------

# The flashed messages (a field's own error block under it has no close button).
RUSSIAN_ALERT = re.compile(r'alert-danger">\s*<button[^>]*>.*?</button>\s*([^<]+)', re.S)


def _alerts(response) -> list[str]:
    return [m.strip() for m in RUSSIAN_ALERT.findall(response.get_data(as_text=True))]


def test_admin_creates_a_unit_through_the_form_and_it_joins_the_tree(session, login):
    admin = login("admin")
    region = unit(session, "SPB")
    response = admin.post("/unitview/add", data={
        "kind": "branch", "parent": str(region.id), "code": "SPB-KUP",
        "name": "Филиал «Купчино»", "active": "y",
    })
    assert response.status_code == 302, _alerts(admin.get("/"))
    session.expire_all()
    created = unit(session, "SPB-KUP")
    assert created is not None and created.parent_id == region.id
    assert created.id in subtree_ids(session, region.id)
    assert created.id in subtree_ids(session, unit(session, "NET").id)
    _assert_closure_matches_parent_links(session)


def test_form_refuses_a_wrong_kind_in_russian(session, login):
    admin = login("admin")
    response = admin.post("/unitview/add", data={
        "kind": "department", "parent": str(unit(session, "MSK").id), "code": "MSK-BAD",
        "name": "Отделение без филиала", "active": "y",
    }, follow_redirects=True)
    assert response.status_code != 500
    assert any("может входить только в" in a for a in _alerts(response))
    session.expire_all()
    assert unit(session, "MSK-BAD") is None


def test_moving_a_unit_under_its_own_child_through_the_form_is_refused(session, login):
    admin = login("admin")
    region = unit(session, "MSK")
    child = unit(session, "MSK-TVR")
    before = _stored_closure(session)
    response = admin.post(f"/unitview/edit/{region.id}", data={
        "kind": "region", "parent": str(child.id), "code": region.code,
        "name": region.name, "active": "y",
    }, follow_redirects=True)
    assert response.status_code != 500
    alerts = _alerts(response)
    assert alerts and all(re.search("[а-яА-Я]", a) for a in alerts), alerts
    assert any("Подразделение" in a for a in alerts), alerts
    session.expire_all()
    assert unit(session, "MSK").parent_id == unit(session, "NET").id
    assert _stored_closure(session) == before


def test_deleting_a_unit_with_children_through_the_screen_is_refused(session, login):
    admin = login("admin")
    branch = unit(session, "MSK-MAR")
    response = admin.post(f"/unitview/delete/{branch.id}", follow_redirects=True)
    assert response.status_code != 500
    assert any("Нельзя удалить подразделение" in a for a in _alerts(response))
    session.expire_all()
    assert unit(session, "MSK-MAR") is not None
    assert len(unit(session, "MSK-MAR").children) == 4
    _assert_closure_matches_parent_links(session)


def test_deleting_a_leaf_through_the_screen_removes_it_from_the_tree(session, login):
    admin = login("admin")
    leaf = unit(session, "SPB-VAS-PRC")
    leaf_id, branch_id = leaf.id, leaf.parent_id
    response = admin.post(f"/unitview/delete/{leaf_id}")
    assert response.status_code == 302
    session.expire_all()
    assert unit(session, "SPB-VAS-PRC") is None
    assert leaf_id not in subtree_ids(session, branch_id)
    _assert_closure_matches_parent_links(session)
