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

from models.org import Unit
from services.orgtree import subtree_ids_query


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


class FilterInScope(BaseFilter):
    """FAB filter applying the current user's scope to a unit-id column.

    Used in base_filters and related-field filters; the value is ignored.
    """

    name = "В области данных пользователя"
    arg_name = "uchet_scope"

    def apply(self, query, value):
        from security.effective import current

        column = getattr(self.model, self.column_name)
        return query.filter(current().scope.clause(column))
