"""The one row-scope mechanism, NetBox `restrict()` style:
`scoped(select(Model), rights, action)` keeps the rows of `Model` that the user
may read (or write), by the path the model declares (`models.scoping.ScopePath`).

Every screen, API, export, dropdown, lookup, cabinet page, PDF and statistic
reads through `scoped()` (FAB through `FilterInScope`, which calls it); nothing
else picks a unit column. Deny by default: a scope with no anchors matches
nothing, and an anonymous request has no anchors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import and_, exists, false, or_, select, true, union
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.elements import ColumnElement

from models.org import Unit, UnitClosure, subtree_ids_query
from models.scoping import ScopePath

#: What a user does with the rows: reading is wider than writing (shared rows of
#: the units above him, network contracts his branch serves).
READ, WRITE = "read", "write"
#: Whose pages read: the back office's (by the branch a row is in) or the client
#: cabinet's (a voucher by the office that referred it).
BACK_OFFICE, CABINET = "back_office", "cabinet"


@dataclass(frozen=True)
class Scope:
    """Units in scope: `exact` units, whole subtrees under `subtree`, or all.

    `units` (the ids of every unit in scope) and `shared` (those and their
    ancestors) are resolved once, from the closure table, when the user's rights
    are (`security.effective.resolve`): the filters then send the ids as values,
    which the planner matches against an index (`branch_id IN (5)` is
    `branch_id = 5`), where a closure sub-select hides the branch from it. A scope
    built from anchors alone (None there) filters by sub-selects instead.

    `kinds` (resolved with `units`, by the same query) holds the units in scope by
    their kind, as sorted (kind, ids) pairs: a column that only ever holds a branch
    (`ScopePath.kinds`) is filtered by the branches alone. None: not resolved (the
    filter then uses every unit in scope, which is wider, never narrower).
    """

    all: bool
    exact: frozenset[int]
    subtree: frozenset[int]
    units: frozenset[int] | None = None
    shared: frozenset[int] | None = None
    kinds: tuple[tuple[str, frozenset[int]], ...] | None = None

    @classmethod
    def everything(cls) -> Scope:
        """Return the scope of an unrestricted user."""
        return cls(all=True, exact=frozenset(), subtree=frozenset())

    @classmethod
    def nothing(cls) -> Scope:
        """Return the empty scope (deny by default)."""
        return cls(all=False, exact=frozenset(), subtree=frozenset())

    @property
    def is_empty(self) -> bool:
        """Return True when the scope matches no unit at all."""
        return not self.all and not self.exact and not self.subtree

    def unit_ids(self):
        """Return the unit ids in scope: a sorted list when resolved, else a SELECT
        over the closure table (None when the scope is all or empty)."""
        if self.all:
            return None
        if self.units is not None:
            return sorted(self.units) or None
        parts = []
        if self.exact:
            parts.append(select(Unit.id).where(Unit.id.in_(sorted(self.exact))))
        if self.subtree:
            parts.append(subtree_ids_query(sorted(self.subtree)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else union(*parts)

    def ids_of(self, kinds) -> list[int] | None:
        """Return the sorted ids of the units in scope of the given `kinds`, or None
        when the kinds are not resolved (or `kinds` is None: any kind)."""
        if kinds is None or self.kinds is None or self.units is None:
            return None
        wanted = set(kinds)
        return sorted({i for kind, ids in self.kinds if kind in wanted for i in ids})

    def clause(self, column, kinds=None) -> ColumnElement:
        """Return a WHERE clause keeping rows whose unit `column` is in scope; with
        `kinds`, the units of those kinds only (one id: `column = id`, which the
        planner matches against a (unit, date) index as it cannot a longer list)."""
        if self.all:
            return true()
        narrowed = self.ids_of(kinds)
        if narrowed is not None:
            if not narrowed:
                return false()
            return column == narrowed[0] if len(narrowed) == 1 else column.in_(narrowed)
        ids = self.unit_ids()
        if ids is None:
            return false()
        return column.in_(ids)

    def shared_clause(self, column) -> ColumnElement:
        """Return a WHERE clause keeping rows owned by a unit in scope or by one of
        its ancestors: what the network or a region keeps is read by the branches
        below it (an insurer registered for the network, say), not the reverse."""
        if self.all:
            return true()
        if self.shared is not None:
            return column.in_(sorted(self.shared)) if self.shared else false()
        ids = self.unit_ids()
        if ids is None:
            return false()
        # The closure table holds each unit as its own ancestor at depth 0.
        return column.in_(select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id.in_(ids)))


def path_of(model: type) -> ScopePath | None:
    """Return the scope path `model` declares, or None for a model outside the tree."""
    return getattr(model, "__scope__", None)


def is_scoped(model: type) -> bool:
    """Return True when rows of `model` are placed in the organisation tree."""
    return path_of(model) is not None


def side_of(rights: Any) -> str:
    """Return the side a user reads from when the page does not say: the cabinet's
    for a user whose roles are all the client cabinet's, else the back office's."""
    sides = getattr(rights, "sides", frozenset())
    return CABINET if sides and sides <= {CABINET} else BACK_OFFICE


def scoped(stmt, rights: Any, action: str = READ, *, model: type | None = None,
           side: str | None = None):
    """Return `stmt` (a SELECT or a FAB query) narrowed to the rows of its model that
    `rights` may `action` (READ or WRITE), seen from `side` (default: `side_of`).

    `model` defaults to the statement's first entity; pass it for an aggregate. A
    model without a scope path is returned unnarrowed (permissions govern it).
    """
    if model is None:
        model = stmt.column_descriptions[0]["entity"]
        if model is None:
            raise TypeError("scoped(): pass model= for a statement without an entity")
    if not is_scoped(model):
        return stmt
    return stmt.where(_clause(model, rights, action, side))


def _clause(model: type, rights: Any, action: str = READ,
            side: str | None = None) -> ColumnElement:
    """Return the WHERE clause of `scoped()`: the model's placement in the user's
    scope, and its rules about who the user is."""
    side = side or side_of(rights)
    path = path_of(model)
    if side == CABINET and path.cabinet is not None:
        path = path.cabinet
    placed = _placement(model, path, rights, action, side)
    rules = _rules(model, path, rights)
    return placed if rules is None else and_(placed, rules)


def _placement(model: type, path: ScopePath, rights: Any, action: str,
               side: str) -> ColumnElement:
    scope: Scope = rights.scope
    if path.where is not None:
        return path.where(scope)
    if path.through is not None:
        parent, key = _parent(model, path.through)
        return key.in_(select(parent.id).where(_clause(parent, rights, action, side)))
    if path.column is None:
        return true()
    column = getattr(model, path.column)
    if action == READ and path.shared:
        return scope.shared_clause(column)
    if action == READ and path.readers is not None:
        return _or_readers(model, column, path.readers, scope)
    return scope.clause(column, path.kinds)


def _or_readers(model: type, column, readers: str, scope: Scope) -> ColumnElement:
    """Rows of the units in scope, and rows one of whose `readers` units is in scope."""
    if scope.all:
        return true()
    ids = scope.unit_ids()
    if ids is None:
        return false()
    rel = sa_inspect(model).relationships[readers]
    (_own, row_key), = rel.synchronize_pairs
    (_unit, unit_key), = rel.secondary_synchronize_pairs
    read = exists(select(row_key).where(row_key == model.id, unit_key.in_(ids)))
    return or_(column.in_(ids), read)


def _rules(model: type, path: ScopePath, rights: Any) -> ColumnElement | None:
    clauses = []
    if path.rules is not None:
        clauses.append(path.rules(rights))
    if path.rules_of is not None:
        parent, key = _parent(model, path.rules_of)
        parent_rules = path_of(parent).rules
        clause = parent_rules(rights) if parent_rules is not None else None
        if clause is not None:
            # Correlated: a page of rows probes its parents by key, instead of
            # building the set of every visible parent first.
            clauses.append(exists().where(parent.id == key, clause))
    clauses = [c for c in clauses if c is not None]
    return and_(*clauses) if clauses else None


def _parent(model: type, key: str):
    """Return (parent model, the model's foreign-key attribute) of relationship `key`."""
    mapper = sa_inspect(model)
    rel = mapper.relationships[key]
    (column,) = rel.local_columns
    return rel.mapper.class_, getattr(model, mapper.get_property_by_column(column).key)


class FilterInScope(BaseFilter):
    """FAB filter applying `scoped()` for the current user to the filtered model;
    used in base_filters and related-field filters. The column and the value are
    ignored."""

    name = "В области данных пользователя"
    arg_name = "uchet_scope"

    def apply(self, query, value):
        from security.effective import current

        return scoped(query, current(), model=self.model)
