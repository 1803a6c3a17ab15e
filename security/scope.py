"""The one row-scope mechanism: which organisation units a user may see.

Every view, API, export, dropdown and service narrows rows with
`Scope.clause(column)` (through `FilterInScope` for FAB). Deny by default: a
scope with no anchors matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false, select, true, union
from sqlalchemy.sql.elements import ColumnElement

from models.org import Unit, UnitClosure, subtree_ids_query


@dataclass(frozen=True)
class Scope:
    """Units in scope: `exact` units, whole subtrees under `subtree`, or all."""

    all: bool
    exact: frozenset[int]
    subtree: frozenset[int]

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
        """Return a SELECT of the unit ids in scope (None when the scope is all)."""
        if self.all:
            return None
        parts = []
        if self.exact:
            parts.append(select(Unit.id).where(Unit.id.in_(sorted(self.exact))))
        if self.subtree:
            parts.append(subtree_ids_query(sorted(self.subtree)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else union(*parts)

    def clause(self, column) -> ColumnElement:
        """Return a WHERE clause keeping rows whose unit `column` is in scope."""
        if self.all:
            return true()
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
        ids = self.unit_ids()
        if ids is None:
            return false()
        # The closure table holds each unit as its own ancestor at depth 0.
        return column.in_(select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id.in_(ids)))


def is_scoped(model: type) -> bool:
    """Return True when rows of `model` are placed in the organisation tree."""
    return hasattr(model, "__scope_column__") or hasattr(model, "__scope_clause__")


def row_clause(model: type, scope: Scope) -> ColumnElement:
    """Return the WHERE clause keeping the rows of `model` that `scope` may read.

    A model declares either `__scope_column__` (the unit-id column; with
    `__scope_shared__ = True` rows of ancestor units are readable too) or a
    `__scope_clause__(scope)` classmethod (rows placed through a parent, e.g. a
    programme through its contract).
    """
    custom = getattr(model, "__scope_clause__", None)
    if custom is not None:
        return custom(scope)
    column = getattr(model, model.__scope_column__)
    if getattr(model, "__scope_shared__", False):
        return scope.shared_clause(column)
    return scope.clause(column)


def write_clause(model: type, scope: Scope) -> ColumnElement:
    """Return the WHERE clause keeping the stored rows of `model` that `scope` may
    change or delete: its own units' rows, not the ones it only reads (a network's
    insurer, a network contract it serves). A model may declare
    `__scope_write_clause__(scope)`; by default the scope column decides."""
    custom = getattr(model, "__scope_write_clause__", None)
    if custom is not None:
        return custom(scope)
    if hasattr(model, "__scope_column__"):
        return scope.clause(getattr(model, model.__scope_column__))
    return row_clause(model, scope)


class FilterInScope(BaseFilter):
    """FAB filter applying the current user's read scope to the filtered model
    (`row_clause`); used in base_filters and related-field filters. The column
    and the value are ignored."""

    name = "В области данных пользователя"
    arg_name = "uchet_scope"

    def apply(self, query, value):
        from security.effective import current

        return query.filter(row_clause(self.model, current().scope))
