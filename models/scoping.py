"""How a model declares where its rows sit in the organisation tree.

A model placed in the tree sets `__scope__ = ScopePath(...)`; `security.scope`
reads the declaration and builds the one row filter (`scoped()`), used by every
screen, API, dropdown, lookup, page and service. A model without `__scope__` is
not placed in the tree (a classifier): its permissions alone govern it.

    __scope__ = ScopePath(column="branch_id")                  # its unit column
    __scope__ = ScopePath(column="unit_id", shared=True)       # read below its unit too
    __scope__ = ScopePath(through="contract")                  # with its parent row
    __scope__ = ScopePath(column="branch_id", readers="branches")  # + units that read it
    __scope__ = ScopePath(column="branch_id", kinds=("branch",))   # holds only branches
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: `ScopePath.kinds` of a column that only ever holds a branch (models.org.UnitKind).
BRANCH_ONLY = ("branch",)


@dataclass(frozen=True)
class ScopePath:
    """Where the rows of a model sit, for reading and for writing.

    Placement (one of): `column`, the unit-id column (with `shared`, the rows a unit
    owns are also read, never written, by the units below it: the network's
    insurers); `through`, a many-to-one relationship whose row's scope decides
    (a programme through its contract); `where(scope)`, a placement the others
    cannot say. `readers` names a many-to-many relationship to units that read the
    row but do not write it (the branches a network contract serves).

    Rules narrow the placed rows by who the user is: `rules(rights)` returns a
    WHERE clause or None (no restriction); `rules_of` names a many-to-one
    relationship whose row's rules also apply, through a correlated EXISTS (a
    voucher line is seen when its voucher is).

    `kinds` names the unit kinds the `column` can hold (the save rules refuse any
    other): the filter then sends only the scope's units of those kinds, so a
    registrar's vouchers are `branch_id = 11`, not `branch_id IN (11, 28, 29, ...)`
    with his branch's departments, which the planner answers from the all-branch
    date index instead of the branch's. None: any kind.

    `cabinet` is the path by which the client cabinet reads the rows (a voucher
    by the office that referred it); None: the same path.
    """

    column: str | None = None
    shared: bool = False
    through: str | None = None
    where: Callable[[Any], Any] | None = None
    readers: str | None = None
    rules: Callable[[Any], Any] | None = None
    rules_of: str | None = None
    cabinet: ScopePath | None = None
    kinds: tuple[str, ...] | None = None
