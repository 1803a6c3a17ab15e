"""The history of a role's rights as saved changes (who, when, which rights from
what to what) and rollback to a past state: the values before or after one
change, written as a new change of its own (journaled like any save)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from models.rights import RoleChange
from security.catalogue import load_catalogue
from security.effective import right_label
from services.admin.rights import (
    _editable,
    _role,
    apply_values,
    full_values,
    role_side,
    validate_values,
)
from services.boundary import command

KIND_LABELS = {"save": _l("Сохранение матрицы"), "reset": _l("Сброс к шаблону"),
               "drift": _l("Возврат к шаблону"), "rollback": _l("Откат")}


@dataclass(frozen=True)
class Line:
    """One right changed by a saved change, with labels."""

    code: str
    right: str
    before: str
    after: str


def _label(code: str, value: str | None) -> str:
    try:
        return right_label(code, value) if value is not None else ""
    except ValueError:
        # A value the catalogue no longer allows is shown as stored.
        return str(value)


def lines(change: RoleChange) -> list[Line]:
    """Return the rights the change altered (catalogue order; unknown codes last)."""
    catalogue = load_catalogue()
    codes = [c for c in catalogue.rights if change.before.get(c) != change.after.get(c)]
    return [Line(code, right_label(code), _label(code, change.before.get(code)),
                 _label(code, change.after.get(code))) for code in codes]


def kind_label(change: RoleChange) -> str:
    """Return what the administrator did, in words."""
    return str(KIND_LABELS.get(change.kind, change.kind))


def changes(session: Session, role_id: int, limit: int = 100) -> list[RoleChange]:
    """Return the role's saved changes, newest first."""
    return list(session.scalars(
        select(RoleChange).where(RoleChange.role_id == role_id)
        .order_by(RoleChange.id.desc()).limit(limit)))


@command
def rollback(session: Session, role_id: int, change_id: int, state: str = "before") -> int:
    """Restore the role's values as they were `before` (or `after`) change
    `change_id`; returns rows changed. The restore is itself a change in the history.

    Raises NotFound for a change of another role, ValidationError when the role
    may not be edited or the old state breaks today's catalogue rules."""
    role = _role(session, role_id)
    _editable(role)
    change = session.get(RoleChange, change_id)
    if change is None or change.role_id != role.id or state not in ("before", "after"):
        raise NotFound(_("Изменение не найдено"))
    catalogue = load_catalogue()
    target = change.before if state == "before" else change.after
    current = full_values(session, role)
    wanted = {code: value for code, value in target.items()
              if code in catalogue.rights and current.get(code) != value}
    clean = validate_values(current, wanted, role_side(session, role))
    return apply_values(session, role, clean, "rollback")
