"""Branch-scoped rights ("нет доступа / только своего филиала / всех филиалов"):
which price categories a user may see, edit or import into.

A user's branches are the branches at or above his home and delegated units (a
doctor's department belongs to one branch) and the branches below them (a
regional accountant's "own branch" means the branches of his region).
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true

from models.org import Unit, UnitClosure
from models.refbooks import price_category_branch
from security.effective import EffectiveRights


def user_branch_ids(rights: EffectiveRights):
    """Return a SELECT of the ids of the user's branches."""
    anchors = sorted(rights.own_units)
    return (
        select(Unit.id)
        .join(UnitClosure, or_(
            and_(UnitClosure.ancestor_id == Unit.id, UnitClosure.descendant_id.in_(anchors)),
            and_(UnitClosure.descendant_id == Unit.id, UnitClosure.ancestor_id.in_(anchors)),
        ))
        .where(Unit.kind == "branch")
    )


def category_clause(rights: EffectiveRights, code: str, column):
    """Return a WHERE clause keeping price categories (`column`) that the branch-scope
    right `code` lets the user reach: all, those of his branches, or none."""
    if rights.is_admin:
        return true()
    value = rights.value(code)
    if value == "all":
        return true()
    if value != "own" or not rights.own_units:
        return false()
    return column.in_(
        select(price_category_branch.c.category_id)
        .where(price_category_branch.c.branch_id.in_(user_branch_ids(rights)))
    )


def category_allowed(session, rights: EffectiveRights, code: str, category_id: int) -> bool:
    """Return True when the right lets the user reach this price category."""
    from models.refbooks import PriceCategory

    return session.scalar(
        select(PriceCategory.id).where(PriceCategory.id == category_id,
                                       category_clause(rights, code, PriceCategory.id))
    ) is not None
