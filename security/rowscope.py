"""Save-time row scope: a row may only be written inside the writer's scope.

The read side is `security.scope.scoped` (`FilterInScope` for FAB) on every
query; this is the write side, used by every view and API hook and by services.
A row is written only in a unit of the writer's scope (its path's unit column,
or the unit `scope_owner_unit_id()` names), a stored row only when `scoped(...,
WRITE)` keeps it, and a row may only link to rows he can read.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.inspection import inspect as sa_inspect

from core.errors import ScopeError, ValidationError
from models.base import fk_value
from models.org import Unit
from security.effective import current
from security.scope import WRITE, is_scoped, path_of, scoped


def scope_column(model: type) -> str | None:
    """Return the name of the unit-id column that scopes `model`, or None."""
    path = path_of(model)
    return path.column if path is not None else None


def related_scoped(model: type) -> dict[str, type]:
    """Return {relationship name: target model} for relationships to scoped models."""
    result = {}
    for rel in sa_inspect(model).relationships:
        target = rel.mapper.class_
        if is_scoped(target) and not rel.viewonly:
            result[rel.key] = target
    return result


def filter_column(model: type) -> str | None:
    """Return the column a FAB scope filter is declared on (FilterInScope ignores
    it and applies the model's own rule), or None for an unscoped model."""
    if not is_scoped(model):
        return None
    return scope_column(model) or "id"


def _linked(item: Any, key: str) -> list:
    """Return the related objects to check: all of a new row's, only the newly
    linked ones of an existing row (its unchanged links were checked when made,
    and a unit's parent may lie above the editor's scope)."""
    state = sa_inspect(item)
    if state.persistent:
        return [o for o in state.attrs[key].history.added if o is not None]
    value = getattr(item, key)
    related = value if isinstance(value, (list, tuple, set)) else [value]
    return [o for o in related if o is not None]


def _owner_unit_id(item: Any) -> int | None:
    """Return the unit that places `item` (the writer's scope must hold it)."""
    owner = getattr(item, "scope_owner_unit_id", None)
    if owner is not None:
        return owner() if callable(owner) else owner
    return fk_value(item, scope_column(type(item)))


def _visible_ids(session, target: type, ids: set[int], rights) -> set[int]:
    """Return those of `ids` whose `target` rows the user may read."""
    with session.no_autoflush:
        return set(session.scalars(scoped(select(target.id).where(target.id.in_(ids)),
                                          rights)))


def _not_found(rel) -> ValidationError:
    """Return the refusal of a link to a row that does not exist for the user."""
    label = rel.info.get("label", rel.key)
    return ValidationError(_("Связанная запись в поле «%(field)s» не найдена", field=label),
                           field=rel.key)


def unseen(session, obj: Any) -> bool:
    """Return True when `obj` is a stored row of a scoped model the user may not read
    (a refused form must not show it again)."""
    rights = current()
    if rights.scope.all or not is_scoped(type(obj)):
        return False
    state = sa_inspect(obj, raiseerr=False)
    if state is None or state.identity is None:
        return False
    return not _visible_ids(session, type(obj), {obj.id}, rights)


def check_links_exist(item: Any) -> None:
    """Refuse links to rows that do not exist: FAB's API turns an unknown id into a
    new, empty object that the flush would try to insert.

    Raises ValidationError naming the field.
    """
    for rel in sa_inspect(type(item)).relationships:
        if rel.viewonly:
            continue
        for obj in _linked(item, rel.key):
            if sa_inspect(obj).identity is None and obj is not item:
                raise _not_found(rel)


def check_stored_writable(session, item: Any) -> None:
    """Refuse to change or delete a stored row the user may read but not write (one
    owned above his units, or a network contract he only serves): otherwise a save
    could move it into his own scope and so take it over.

    Raises ScopeError.
    """
    rights = current()
    model = type(item)
    if rights.scope.all or not is_scoped(model) or not sa_inspect(item).persistent:
        return
    with session.no_autoflush:
        stored = session.scalar(scoped(select(model.id).where(model.id == item.id),
                                       rights, WRITE))
    if stored is None:
        raise ScopeError(_("Запись выходит за пределы вашей области данных"))


def _check_links(session, item: Any, rights, *, units: bool) -> None:
    """Refuse links of `item` to rows the user cannot read: those to units when
    `units`, else all the others (a unit outside the scope is the placement's
    refusal, checked between them).

    Raises ValidationError at the field, worded as for an unknown id."""
    mapper = sa_inspect(type(item))
    for key, target in related_scoped(type(item)).items():
        if (target is Unit) != units:
            continue
        ids = {o.id for o in _linked(item, key)}
        if ids and _visible_ids(session, target, ids, rights) != ids:
            raise _not_found(mapper.relationships[key])


def check_in_scope(session, item: Any) -> None:
    """Refuse to write `item` outside the writer's scope, or linked to rows he cannot read.

    Raises ScopeError (a Russian message) for the row itself; ValidationError at
    the field for a link to a row he cannot read: for him it does not exist, as an
    unknown id (nothing tells him it is there). A scoped row with no unit at all is
    only writable by users whose scope is everything.
    """
    rights = current()
    if rights.scope.all:
        return
    check_stored_writable(session, item)
    # Linked rows first: an attachment is placed by its patient, and a patient of
    # another branch must read as unknown, not as "outside your scope".
    _check_links(session, item, rights, units=False)
    if is_scoped(type(item)):
        owner = _owner_unit_id(item)
        if owner is None:
            raise ScopeError(_("Укажите подразделение из вашей области данных"))
        # No autoflush: the row being checked is not in the session yet (FAB adds it
        # after pre_add), and flushing its parent would half-save it.
        with session.no_autoflush:
            found = session.scalar(scoped(select(Unit.id).where(Unit.id == owner),
                                          rights, WRITE))
        if found is None:
            raise ScopeError(_("Запись выходит за пределы вашей области данных"))
    _check_links(session, item, rights, units=True)


def restore_unseen_links(session, item: Any) -> None:
    """Put back links to rows outside the editor's scope that a save dropped.

    The editor's dropdown cannot offer them, so their absence from his form (or
    payload) is not a decision to remove them: e.g. a head office's user delegated
    a unit of another branch by the administrator keeps it when his branch's
    user administrator edits his phone number.
    """
    state = sa_inspect(item)
    rights = current()
    if rights.scope.all or not state.persistent:
        return
    for key, target in related_scoped(type(item)).items():
        rel = state.mapper.relationships[key]
        if not rel.uselist:
            continue
        dropped = [o for o in state.attrs[key].history.deleted if o is not None]
        if not dropped:
            continue
        visible = _visible_ids(session, target, {o.id for o in dropped}, rights)
        collection = getattr(item, key)
        for obj in dropped:
            if obj.id not in visible and obj not in collection:
                collection.append(obj)
