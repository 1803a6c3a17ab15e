"""An administrator's desk: accounts that cannot work (no unit or no role) and the
latest changes of role rights from the change journal."""

from __future__ import annotations

from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import or_, select

from models.journal import JournalEntry
from models.user import AppUser
from security.catalogue import load_catalogue
from security.effective import right_label
from security.scope import scoped

SHOWN = 10


def users_to_fix(session, rights) -> list[AppUser]:
    """Return the active users in scope without a home unit or without a role, by name."""
    return list(session.scalars(scoped(
        select(AppUser).where(AppUser.active.is_(True),
                              or_(AppUser.home_unit_id.is_(None), ~AppUser.roles.any()))
        .order_by(AppUser.last_name, AppUser.first_name), rights)))


@dataclass(frozen=True)
class RightsChange:
    """One change of a role's right, as a person reads it."""

    entry: JournalEntry
    who: str
    role: str
    right: str
    before: str
    after: str


def _value(code: str, value) -> str:
    if value is None:
        return ""
    try:
        return right_label(code, str(value))
    except (KeyError, ValueError):  # a value the catalogue no longer has (RightValueError)
        return str(value)


def recent_rights_changes(session, limit: int = SHOWN) -> list[RightsChange]:
    """Return the latest changes of role rights made by people (not the deploy's sync),
    newest first: who, which role, which right, its value before and after."""
    entries = session.scalars(
        select(JournalEntry)
        .where(JournalEntry.table_name == "role_right", JournalEntry.user_id.is_not(None))
        .order_by(JournalEntry.at.desc(), JournalEntry.id.desc()).limit(limit)).all()
    users = {u.id: u for u in session.scalars(
        select(AppUser).where(AppUser.id.in_({e.user_id for e in entries})))}
    roles = dict(session.execute(select(Role.id, Role.name)).all())
    known = load_catalogue().rights
    changes = []
    for entry in entries:
        row = entry.after or entry.before or {}
        code = row.get("code", "")
        user = users.get(entry.user_id)
        changes.append(RightsChange(
            entry, user.get_full_name() if user else entry.username,
            roles.get(row.get("role_id"), ""),
            right_label(code) if code in known else code,
            _value(code, (entry.before or {}).get("value")),
            _value(code, (entry.after or {}).get("value"))))
    return changes


def drifted_roles(session) -> list[tuple[Role, int]]:
    """Return the roles made from a preset that differ from it today, each with the
    number of differing rights, most drifted first (services/admin/drift.py counts)."""
    from services.admin.drift import drift_counts

    counts = {role_id: n for role_id, n in drift_counts(session).items() if n}
    if not counts:
        return []
    roles = session.scalars(select(Role).where(Role.id.in_(list(counts))))
    return sorted(((role, counts[role.id]) for role in roles),
                  key=lambda pair: (-pair[1], pair[0].name))
