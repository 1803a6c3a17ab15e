"""Effective rights from drafted role values, in memory: what a user's rights would
be if some of his roles held other values. Nothing is written: the roles' stored
values and permissions are read, the drafts replace them in Python, and the
result is an `EffectiveRights` like `security.effective.resolve` returns (the
what-if preview compares the two). `resolve` itself is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask_appbuilder.security.sqla.models import Role, assoc_user_role
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.rights import RoleProfile
from models.user import AppUser, manager_client, user_extra_unit
from security.catalogue import load_catalogue
from security.effective import SCOPE_RIGHT, EffectiveRights, _scope_from
from security.fab_permissions import permission_view_ids, role_assignments
from security.scope import Scope
from security.sync import (
    PUBLIC_ROLE,
    desired_permissions,
    governed_keys,
    governed_views,
    role_values,
)


def role_keys(values: Mapping[str, str], side: str, held: set[tuple[str, str]],
              views, all_keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Return the (permission, view) pairs a role holding `values` would get: what
    it holds outside governed views, and on them what the values grant (the same
    rule as `security.sync`; a cabinet role never gets a back-office right)."""
    catalogue = load_catalogue()
    if side == "cabinet":
        values = {code: value for code, value in values.items() if code in catalogue.rights
                  and "cabinet" in catalogue.sections[catalogue.rights[code].section].sides}
    owned = governed_keys(views)
    return {key for key in held if key not in owned} | (desired_permissions(values, views)
                                                        & all_keys)


def _units(session: Session, user: AppUser) -> tuple[set[int], set[int]]:
    extra = set(session.scalars(select(user_extra_unit.c.unit_id)
                                .where(user_extra_unit.c.user_id == user.id)))
    owners = [user.id] + ([user.manager_id] if user.manager_id else [])
    clients = set(session.scalars(select(manager_client.c.unit_id)
                                  .where(manager_client.c.user_id.in_(owners))))
    return extra, clients


def draft_rights(session: Session, user: AppUser,
                 drafts: Mapping[int, Mapping[str, str]]) -> EffectiveRights:
    """Return `user`'s effective rights if each role id of `drafts` held its drafted
    values (codes not drafted keep their stored values). Reads, never writes."""
    catalogue = load_catalogue()
    appbuilder = current_app.appbuilder
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN", "Admin")
    roles = list(session.scalars(
        select(Role).join(assoc_user_role, assoc_user_role.c.role_id == Role.id)
        .where(assoc_user_role.c.user_id == user.id)))
    views = governed_views(appbuilder)
    ids = permission_view_ids(session)
    names = {pv_id: key for key, pv_id in ids.items()}
    held = role_assignments(session, [role.id for role in roles])
    per_role: list[dict[str, str]] = []
    permissions: set[tuple[str, str]] = set()
    sides: set[str] = set()
    for role in roles:
        profile = session.get(RoleProfile, role.id)
        side = profile.side if profile else "back_office"
        if profile is not None:
            sides.add(profile.side)
        values = {code: right.default for code, right in catalogue.rights.items()}
        values.update({c: v for c, v in role_values(session, role).items()
                       if c in catalogue.rights})
        keys = {names[pv_id] for pv_id in held.get(role.id, ())}
        if role.id in drafts and role.name not in (admin_role, PUBLIC_ROLE):
            values.update({code: catalogue.validate_value(code, value)
                           for code, value in drafts[role.id].items()})
            keys = role_keys(values, side, keys, views, set(ids))
        per_role.append(values)
        permissions |= keys
    merged = {code: catalogue.merge(code, [values[code] for values in per_role])
              for code in catalogue.rights} if roles else {}
    if not roles:
        merged = {code: catalogue.merge(code, []) for code in catalogue.rights}
    extra, clients = _units(session, user)
    home = user.home_unit_id
    choices = merged.get(SCOPE_RIGHT, frozenset())
    choices = choices if isinstance(choices, frozenset) else {choices}
    scope = _scope_from(choices, home, extra, clients) if roles else Scope.nothing()
    return EffectiveRights(
        user_id=user.id, username=user.username,
        roles=frozenset(role.name for role in roles),
        is_admin=admin_role in {role.name for role in roles},
        permissions=frozenset(permissions), values=merged, scope=scope,
        sides=frozenset(sides),
        own_units=frozenset(({home} if home is not None else set()) | extra),
    )
