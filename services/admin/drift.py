"""Drift: where a role made from a preset differs from that preset today, and
putting one right or all of them back. The administrator's home and the role
list read `drift` / `drift_counts`; the resets are commands (journaled: the
rows by the journal hook, the change in the role's history)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_appbuilder.security.sqla.models import Role
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from models.rights import RoleProfile
from security.catalogue import load_catalogue
from security.effective import right_label
from security.presets import Preset, load_presets
from security.sync import role_values
from services.admin.rights import _editable, _role, apply_values, full_values, validate_values
from services.boundary import command


@dataclass(frozen=True)
class Drift:
    """One right where the role differs from its preset (labels in the request's language)."""

    code: str
    right: str
    section: str
    value: str
    value_label: str
    preset_value: str
    preset_label: str


def origin(session: Session, role: Role) -> Preset | None:
    """Return the preset the role was made from, or None (a role made from scratch,
    the administrator's role: it holds every right by definition)."""
    profile = session.get(RoleProfile, role.id)
    code = profile and (profile.origin_preset or profile.preset)
    if not code or code == "admin":
        return None
    return load_presets().get(code)


def _differences(values: dict[str, str], preset: Preset) -> list[str]:
    return [code for code, value in values.items() if preset.values.get(code, value) != value]


def drift(session: Session, role: Role) -> list[Drift]:
    """Return the rights where `role` differs from its preset today, in catalogue
    order ([] for a role without a preset)."""
    preset = origin(session, role)
    if preset is None:
        return []
    catalogue = load_catalogue()
    values = full_values(session, role)
    result = []
    for code in _differences(values, preset):
        right = catalogue.rights[code]
        result.append(Drift(
            code=code, right=right_label(code), section=catalogue.sections[right.section].ru,
            value=values[code], value_label=right_label(code, values[code]),
            preset_value=preset.values[code],
            preset_label=right_label(code, preset.values[code]),
        ))
    return result


def drift_counts(session: Session) -> dict[int, int]:
    """Return {role id: number of rights differing from its preset} for every role
    made from a preset (three queries whatever the number of roles)."""
    from models.rights import RoleRight

    catalogue = load_catalogue()
    presets = load_presets()
    origins = {}
    for profile in session.scalars(select(RoleProfile)):
        code = profile.origin_preset or profile.preset
        if code and code != "admin" and code in presets:
            origins[profile.role_id] = presets[code]
    stored: dict[int, dict[str, str]] = {role_id: {} for role_id in origins}
    rows = session.execute(select(RoleRight.role_id, RoleRight.code, RoleRight.value)
                           .where(RoleRight.role_id.in_(list(origins))))
    for role_id, code, value in rows:
        stored[role_id][code] = value
    counts = {}
    for role_id, preset in origins.items():
        values = {code: stored[role_id].get(code, right.default)
                  for code, right in catalogue.rights.items()}
        counts[role_id] = len(_differences(values, preset))
    return counts


def _with_dependencies(changes: dict[str, str], values: dict[str, str], preset: Preset,
                       differing: set[str]) -> dict[str, str]:
    """Return `changes` plus the other differing rights a dependency ties to them:
    putting one right back must not leave another right without what it requires
    (the preset itself keeps every dependency, so this ends)."""
    catalogue = load_catalogue()
    changes = dict(changes)
    while True:
        current = {**values, **changes}
        added = False
        for right in catalogue.rights.values():
            for dep in right.depends:
                if catalogue.rank(right.code, current[right.code]) < catalogue.rank(
                        right.code, dep.when) or catalogue.rank(
                        dep.right, current[dep.right]) >= catalogue.rank(dep.right, dep.min):
                    continue
                for code in (right.code, dep.right):
                    if code in differing and code not in changes:
                        changes[code] = preset.values[code]
                        added = True
                        break
        if not added:
            return changes


@command
def reset_to_origin(session: Session, role_id: int, codes: Iterable[str] | None = None) -> int:
    """Put the given rights (all differing ones when `codes` is None) back to the
    role's preset values, with the differing rights a dependency ties to them;
    returns rows changed.

    Raises ValidationError when the role has no preset, a code is not among the
    differences, or the result would break a dependency (nothing is written then)."""
    role = _role(session, role_id)
    _editable(role)
    preset = origin(session, role)
    if preset is None:
        raise ValidationError(_("Роль «%(name)s» создана не из шаблона", name=role.name))
    differing = set(_differences(full_values(session, role), preset))
    wanted = differing if codes is None else set(codes)
    unknown = wanted - differing
    if unknown:
        raise ValidationError(_("Право уже совпадает с шаблоном или не существует"))
    changes = _with_dependencies({code: preset.values[code] for code in wanted},
                                 full_values(session, role), preset, differing)
    clean = validate_values(role_values(session, role), changes, preset.side)
    return apply_values(session, role, clean, "drift")
