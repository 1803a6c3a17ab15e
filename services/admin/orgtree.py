"""The organisation tree: closure-table upkeep and subtree queries.

`install()` hooks the session so that whatever writes units (a FAB view, the
REST API, demo data, a migration script) keeps the closure table in step in
the same flush, hence the same transaction.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, event, insert, inspect, select, true
from sqlalchemy.orm import Session

from core.errors import ValidationError
from models.org import (
    PARENT_KINDS,
    Unit,
    UnitClosure,
    UnitKind,
    subtree_ids_query,
)


def subtree_ids(session: Session, anchor_id: int) -> set[int]:
    """Return the ids of a unit and all its descendants (one indexed query)."""
    return set(session.scalars(subtree_ids_query([anchor_id])))


def ancestor_ids(session: Session, unit_id: int) -> list[int]:
    """Return the ids of a unit's ancestors, nearest first, the unit itself excluded."""
    rows = session.execute(
        select(UnitClosure.ancestor_id)
        .where(UnitClosure.descendant_id == unit_id, UnitClosure.depth > 0)
        .order_by(UnitClosure.depth)
    )
    return [r[0] for r in rows]


def check_unit_delete(unit: Unit) -> None:
    """Refuse to delete a unit that other units belong to.

    Raises ValidationError."""
    if unit.children:
        raise ValidationError(
            _("Нельзя удалить подразделение «%(name)s»: в него входят другие подразделения",
              name=unit.name))


def validate_placement(session: Session, unit: Unit) -> None:
    """Check the unit's kind fits its parent's kind and that no cycle would form.

    Raises ValidationError with a Russian message naming the problem.
    """
    # The unit is checked before it is saved: an autoflush here would write the
    # very placement under review (and the ORM cannot even flush a cycle).
    with session.no_autoflush:
        _check_placement(session, unit)


def _check_placement(session: Session, unit: Unit) -> None:
    try:
        kind = UnitKind(unit.kind)
    except ValueError:
        message = _("Неизвестный тип подразделения: %(kind)s", kind=unit.kind)
        raise ValidationError(message) from None
    parent = unit.parent
    if parent is None and unit.parent_id is not None:
        parent = session.get(Unit, unit.parent_id)
    parent_kind = UnitKind(parent.kind) if parent is not None else None
    if parent_kind not in PARENT_KINDS[kind]:
        allowed = ", ".join(
            _("корень") if k is None else str(Unit(kind=k.value).kind_label)
            for k in PARENT_KINDS[kind]
        )
        raise ValidationError(
            _(
                "Подразделение типа «%(kind)s» может входить только в: %(allowed)s",
                kind=Unit(kind=kind.value).kind_label,
                allowed=allowed,
            ),
            field="parent",
        )
    if unit.id is not None:
        with session.no_autoflush:
            children = session.scalars(select(Unit).where(Unit.parent_id == unit.id)).all()
        for child in children:
            if kind not in PARENT_KINDS[UnitKind(child.kind)]:
                raise ValidationError(_(
                    "Тип нельзя сменить на «%(kind)s»: в подразделение входит «%(child)s» "
                    "(%(child_kind)s)", kind=Unit(kind=kind.value).kind_label,
                    child=child.name, child_kind=child.kind_label), field="kind")
    if (unit.id is not None and parent is not None
            and (parent.id == unit.id or unit.id in ancestor_ids(session, parent.id))):
        raise ValidationError(
            _("Подразделение нельзя перенести внутрь самого себя"), field="parent"
        )


def _on_insert(connection, units: list[Unit]) -> None:
    """Write the closure rows of new units (parents first): one SELECT of the
    existing parents' ancestors and one multi-row INSERT, whatever their number."""
    new_ids = {u.id for u in units}
    outside = {u.parent_id for u in units if u.parent_id is not None} - new_ids
    chains: dict[int, list[tuple[int, int]]] = {pid: [] for pid in outside}
    if outside:
        rows = connection.execute(
            select(UnitClosure.descendant_id, UnitClosure.ancestor_id, UnitClosure.depth)
            .where(UnitClosure.descendant_id.in_(outside))
        )
        for descendant, ancestor, depth in rows:
            chains[descendant].append((ancestor, depth))
    values = []
    for unit in units:
        # (ancestor, depth) pairs of the unit itself, built from its parent's chain.
        chain = [(unit.id, 0)]
        if unit.parent_id is not None:
            chain += [(a, d + 1) for a, d in chains.get(unit.parent_id, [])]
        chains[unit.id] = chain
        values += [{"ancestor_id": a, "descendant_id": unit.id, "depth": d} for a, d in chain]
    if values:
        connection.execute(insert(UnitClosure), values)


def _detach(connection, unit_id: int) -> None:
    """Cut a subtree from its current ancestors (drop the links between them)."""
    subtree = select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == unit_id)
    old_ancestors = select(UnitClosure.ancestor_id).where(
        UnitClosure.descendant_id == unit_id, UnitClosure.depth > 0
    )
    connection.execute(
        delete(UnitClosure).where(
            UnitClosure.descendant_id.in_(subtree.scalar_subquery()),
            UnitClosure.ancestor_id.in_(old_ancestors.scalar_subquery()),
        )
    )


def _attach(connection, unit_id: int, new_parent_id: int | None) -> None:
    """Link a detached subtree to its new parent and all of the parent's ancestors."""
    if new_parent_id is None:
        return
    sup = select(UnitClosure.ancestor_id, UnitClosure.depth).where(
        UnitClosure.descendant_id == new_parent_id
    ).subquery()
    sub = select(UnitClosure.descendant_id, UnitClosure.depth).where(
        UnitClosure.ancestor_id == unit_id
    ).subquery()
    connection.execute(
        insert(UnitClosure).from_select(
            ["ancestor_id", "descendant_id", "depth"],
            select(sup.c.ancestor_id, sub.c.descendant_id, sup.c.depth + sub.c.depth + 1)
            .select_from(sup.join(sub, true())),
        )
    )


def _parents_first(units: list[Unit]) -> list[Unit]:
    """Return new units ordered so that a new parent comes before its new children."""
    by_id = {u.id: u for u in units}
    ordered: list[Unit] = []
    seen: set[int] = set()
    for u in units:
        chain = []
        while u is not None and u.id not in seen:
            seen.add(u.id)
            chain.append(u)
            u = by_id.get(u.parent_id)
        ordered.extend(reversed(chain))
    return ordered


def _after_flush(session: Session, _flush_context) -> None:
    connection = session.connection()
    # A child may be added to the session before its (also new) parent.
    new_units = [obj for obj in session.new if isinstance(obj, Unit)]
    _on_insert(connection, _parents_first(new_units))
    moved = []
    for obj in session.dirty:
        if isinstance(obj, Unit) and obj not in session.new:
            attrs = inspect(obj).attrs
            # Either side of the link may have been set: the FK or the relationship.
            if attrs.parent_id.history.has_changes() or attrs.parent.history.has_changes():
                moved.append(obj)
    # Cut every moved subtree first, then re-attach: moving several units in one
    # flush then never passes through a cycle, whatever order the session yields.
    for obj in moved:
        _detach(connection, obj.id)
    for obj in moved:
        _attach(connection, obj.id, obj.parent_id)


def install() -> None:
    """Register the closure upkeep on every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
