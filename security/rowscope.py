"""Save-time row scope: a row may only be written inside the writer's scope.

The read side is `FilterInScope` on every query; this is the write side, used
by every view and API hook and by services. Both read `Model.__scope_column__`:
the unit-id column that places a row in the organisation tree.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.inspection import inspect as sa_inspect

from models.base import fk_value
from models.org import Unit
from security.effective import current
from services.errors import ScopeError, ValidationError


def scope_column(model: type) -> str | None:
    """Return the name of the unit-id column that scopes `model`, or None."""
    return getattr(model, "__scope_column__", None)


def related_scoped(model: type) -> dict[str, type]:
    """Return {relationship name: target model} for relationships to scoped models."""
    result = {}
    for rel in sa_inspect(model).relationships:
        target = rel.mapper.class_
        if scope_column(target):
            result[rel.key] = target
    return result


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


def _unit_ids_of(item: Any) -> set[int | None]:
    """Return the unit ids that place `item` and its newly linked scoped relations."""
    ids: set[int | None] = set()
    owner = getattr(item, "scope_owner_unit_id", None)
    column = scope_column(type(item))
    if owner is not None:
        ids.add(owner() if callable(owner) else owner)
    elif column:
        ids.add(fk_value(item, column))
    for key, target in related_scoped(type(item)).items():
        for obj in _linked(item, key):
            ids.add(getattr(obj, scope_column(target)))
    return ids


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
                label = rel.info.get("label", rel.key)
                raise ValidationError(_("Связанная запись в поле «%(field)s» не найдена",
                                        field=label), field=rel.key)


def check_in_scope(session, item: Any) -> None:
    """Refuse to write `item` if it or anything it links to lies outside the user's scope.

    Raises ScopeError (a Russian message). A row with no unit at all is only
    writable by users whose scope is everything.
    """
    scope = current().scope
    if scope.all:
        return
    ids = _unit_ids_of(item)
    if None in ids:
        raise ScopeError(_("Укажите подразделение из вашей области данных"))
    if not ids:
        return
    # No autoflush: the row being checked is not in the session yet (FAB adds it
    # after pre_add), and flushing its parent would half-save it.
    with session.no_autoflush:
        found = session.scalar(
            select(func.count()).select_from(Unit).where(Unit.id.in_(ids), scope.clause(Unit.id))
        )
    if found != len(ids):
        raise ScopeError(_("Запись выходит за пределы вашей области данных"))


def restore_unseen_links(session, item: Any) -> None:
    """Put back links to rows outside the editor's scope that a save dropped.

    The editor's dropdown cannot offer them, so their absence from his form (or
    payload) is not a decision to remove them: e.g. a head office's user delegated
    a unit of another branch by the administrator keeps it when his branch's
    user administrator edits his phone number.
    """
    state = sa_inspect(item)
    scope = current().scope
    if scope.all or not state.persistent:
        return
    for key, target in related_scoped(type(item)).items():
        rel = state.mapper.relationships[key]
        if not rel.uselist:
            continue
        dropped = [o for o in state.attrs[key].history.deleted if o is not None]
        if not dropped:
            continue
        ids = {getattr(o, scope_column(target)) for o in dropped}
        with session.no_autoflush:
            visible = set(session.scalars(
                select(Unit.id).where(Unit.id.in_(ids), scope.clause(Unit.id))))
        collection = getattr(item, key)
        for obj in dropped:
            if getattr(obj, scope_column(target)) not in visible and obj not in collection:
                collection.append(obj)
