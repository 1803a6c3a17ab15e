"""An administrator's desk: accounts that cannot work (no unit or no role) and the
latest changes of role rights from the change journal."""

from __future__ import annotations

from sqlalchemy import or_, select

from models.journal import JournalEntry
from models.user import AppUser
from security.scope import scoped

SHOWN = 10


def users_to_fix(session, rights) -> list[AppUser]:
    """Return the active users in scope without a home unit or without a role, by name."""
    return list(session.scalars(scoped(
        select(AppUser).where(AppUser.active.is_(True),
                              or_(AppUser.home_unit_id.is_(None), ~AppUser.roles.any()))
        .order_by(AppUser.last_name, AppUser.first_name), rights)))


def recent_rights_changes(session, limit: int = SHOWN) -> list[JournalEntry]:
    """Return the latest journal entries of role rights and role assignments, newest first."""
    return list(session.scalars(
        select(JournalEntry)
        .where(JournalEntry.table_name.in_(("role_right", "ab_user_role", "ab_role")))
        .order_by(JournalEntry.at.desc(), JournalEntry.id.desc()).limit(limit)))
