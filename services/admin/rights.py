"""Role administration: save rights, copy a role, reset it to a preset, create and
delete roles. Each public function is one transaction: it validates everything
first, writes, re-derives the role's FAB permissions and commits; on a refusal
nothing is written. Every row change is journaled by the session hook.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actor import current_actor
from core.errors import NotFound, ValidationError
from models.journal import JournalEntry
from models.rights import RoleChange, RoleProfile, RoleRight
from security.catalogue import RightValueError, load_catalogue
from security.presets import load_presets
from security.sync import (
    PUBLIC_ROLE,
    ensure_rights_rows,
    governed_views,
    role_values,
    sync_role_permissions,
)
from services.boundary import command


def _admin_name() -> str:
    return current_app.appbuilder.sm.auth_role_admin


def _role(session: Session, role_id: int) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise NotFound(_("Роль не найдена"))
    return role


def _editable(role: Role) -> None:
    if role.name == PUBLIC_ROLE:
        raise ValidationError(_("Роль анонимного посетителя не имеет прав и не редактируется"))
    if role.name == _admin_name():
        raise ValidationError(
            _("Роль «%(name)s» имеет все права и не редактируется", name=role.name)
        )


def _resync(session: Session, role: Role) -> None:
    appbuilder = current_app.appbuilder
    sync_role_permissions(session, role, governed_views(appbuilder), _admin_name())


def full_values(session: Session, role: Role) -> dict[str, str]:
    """Return every catalogue right's value for the role: stored, else the default."""
    catalogue = load_catalogue()
    stored = role_values(session, role)
    return {code: stored.get(code, right.default) for code, right in catalogue.rights.items()}


def record_change(session: Session, role: Role, kind: str, before: Mapping[str, str],
                  after: Mapping[str, str]) -> RoleChange | None:
    """Add the history record of one change of the role's rights (None when nothing
    changed): who, and the role's whole values before and after (for rollback)."""
    if dict(before) == dict(after):
        return None
    user_id, username = current_actor()
    change = RoleChange(role_id=role.id, user_id=user_id, username=username, kind=kind,
                        before=dict(before), after=dict(after))
    session.add(change)
    session.flush()
    return change


def apply_values(session: Session, role: Role, clean: Mapping[str, str], kind: str) -> int:
    """Write validated values, record the change in the role's history and re-derive
    its FAB permissions (no commit); returns rows changed."""
    before = full_values(session, role)
    changed = _write(session, role, clean)
    session.flush()
    record_change(session, role, kind, before, full_values(session, role))
    _resync(session, role)
    return changed


def role_side(session: Session, role: Role) -> str:
    """Return the role's side: back_office (the default) or cabinet."""
    profile = session.get(RoleProfile, role.id)
    return profile.side if profile else "back_office"


def validate_values(stored: Mapping[str, str], changes: Mapping[str, str],
                    side: str = "back_office") -> dict[str, str]:
    """Return the normalised changes; raise ValidationError listing every bad value,
    every right the role's side may not hold and every broken dependency (in Russian)."""
    catalogue = load_catalogue()
    errors: list[str] = []
    clean: dict[str, str] = {}
    for code, value in changes.items():
        try:
            clean[code] = catalogue.validate_value(code, value)
        except RightValueError:
            label = catalogue.rights[code].ru if code in catalogue.rights else code
            errors.append(_("Недопустимое значение «%(value)s» права «%(right)s»",
                            value=value, right=label))
            continue
        right = catalogue.rights[code]
        if side not in catalogue.sections[right.section].sides and clean[code] != right.default:
            errors.append(_("Право «%(right)s» не выдаётся ролям личного кабинета",
                            right=right.ru))
    if not errors:
        errors.extend(catalogue.check_dependencies({**stored, **clean}))
    if errors:
        raise ValidationError("; ".join(errors))
    return clean


def _write(session: Session, role: Role, clean: Mapping[str, str]) -> int:
    query = select(RoleRight).where(RoleRight.role_id == role.id)
    rows = {r.code: r for r in session.scalars(query)}
    changed = 0
    for code, value in clean.items():
        row = rows.get(code)
        if row is None:
            session.add(RoleRight(role_id=role.id, code=code, value=value))
            changed += 1
        elif row.value != value:
            row.value = value
            changed += 1
    return changed


@command
def save_matrix(session: Session, changes: Mapping[int, Mapping[str, str]]) -> int:
    """Save right values for several roles at once, all or nothing; returns rows changed.

    Raises ValidationError naming the role and every problem; nothing is saved then.
    """
    plans = []
    problems = []
    for role_id, values in changes.items():
        if not values:
            continue
        role = _role(session, role_id)
        try:
            _editable(role)
            side = role_side(session, role)
            plans.append((role, validate_values(role_values(session, role), values, side)))
        except ValidationError as exc:
            problems.append(f"{role.name}: {exc}")
    if problems:
        raise ValidationError(" | ".join(problems))
    changed = 0
    for role, clean in plans:
        changed += apply_values(session, role, clean, "save")
    return changed


def save_role_rights(session: Session, role_id: int, changes: Mapping[str, str]) -> int:
    """Save right values of one role; returns rows changed. Raises ValidationError."""
    return save_matrix(session, {role_id: changes})


@command
def create_role(session: Session, name: str, side: str = "back_office",
                preset: str | None = None) -> Role:
    """Create a role with default rights (or a preset's); returns it. Raises ValidationError."""
    role = _new_role(session, name, side, preset)
    return role


def _new_role(session: Session, name: str, side: str, preset: str | None) -> Role:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Укажите название роли"))
    if session.scalar(select(Role).where(Role.name == name)):
        raise ValidationError(_("Роль «%(name)s» уже существует", name=name))
    presets = load_presets()
    if preset and preset not in presets:
        raise ValidationError(_("Неизвестный шаблон роли: %(preset)s", preset=preset))
    if side not in ("back_office", "cabinet"):
        raise ValidationError(_("Неизвестная сторона: %(side)s", side=side))
    role = Role(name=name)
    session.add(role)
    session.flush()
    values = presets[preset].values if preset else None
    # Only the preset role itself carries `preset` (the sync finds it by it); a role
    # made from one remembers it as its origin, for the drift page.
    session.add(RoleProfile(role_id=role.id, side=presets[preset].side if preset else side,
                            preset=None, origin_preset=preset))
    ensure_rights_rows(session, role, load_catalogue(), values)
    session.flush()
    _resync(session, role)
    return role


@command
def copy_role(session: Session, role_id: int, new_name: str) -> Role:
    """Create a new role with the same rights and side as `role_id`; returns it."""
    source = _role(session, role_id)
    stored = role_values(session, source)
    profile = session.get(RoleProfile, source.id)
    role = _new_role(session, new_name, profile.side if profile else "back_office", None)
    if profile is not None:
        session.get(RoleProfile, role.id).origin_preset = profile.origin_preset
    _write(session, role, stored)
    session.flush()
    _resync(session, role)
    return role


@command
def reset_role(session: Session, role_id: int, preset_code: str) -> int:
    """Set every right of the role to the preset's value; returns rows changed."""
    role = _role(session, role_id)
    _editable(role)
    presets = load_presets()
    if preset_code not in presets:
        raise ValidationError(_("Неизвестный шаблон роли: %(preset)s", preset=preset_code))
    preset = presets[preset_code]
    profile = session.get(RoleProfile, role.id)
    if profile is None:
        session.add(RoleProfile(role_id=role.id, side=preset.side, preset=preset_code,
                                origin_preset=preset_code))
    else:
        profile.side = preset.side
        profile.origin_preset = preset_code
    session.flush()
    return apply_values(session, role, dict(preset.values), "reset")


@command
def delete_role(session: Session, role_id: int) -> None:
    """Delete a role that no user holds. Raises ValidationError otherwise."""
    role = _role(session, role_id)
    _editable(role)
    holders = session.scalar(
        select(func.count())
        .select_from(assoc_user_role)
        .where(assoc_user_role.c.role_id == role.id)
    )
    if holders:
        raise ValidationError(
            _("Роль «%(name)s» назначена пользователям (%(n)s): сначала снимите её",
              name=role.name, n=holders)
        )
    # Delete the rights through the ORM (not the FK cascade) so the journal keeps them.
    for row in session.scalars(select(RoleRight).where(RoleRight.role_id == role.id)):
        session.delete(row)
    profile = session.get(RoleProfile, role.id)
    if profile is not None:
        session.delete(profile)
    session.flush()
    session.delete(role)


def role_history(session: Session, role_id: int, limit: int = 200) -> list[dict]:
    """Return the journaled changes of the role's rights, newest first, as dicts with
    at, username, code, before, after."""
    rows = dict(session.execute(
        select(RoleRight.id, RoleRight.code).where(RoleRight.role_id == role_id)
    ).all())
    if not rows:
        return []
    entries = session.scalars(
        select(JournalEntry)
        .where(JournalEntry.table_name == "role_right",
               JournalEntry.row_pk.in_([str(i) for i in rows]))
        .order_by(JournalEntry.id.desc())
        .limit(limit)
    )
    history = []
    for entry in entries:
        history.append({
            "at": entry.at,
            "username": entry.username,
            "action": entry.action_label,
            "code": rows.get(int(entry.row_pk)),
            "before": (entry.before or {}).get("value"),
            "after": (entry.after or {}).get("value"),
        })
    return history
