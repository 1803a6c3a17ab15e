"""Keep FAB permissions in step with the rights catalogue.

A role's FAB permissions on a governed view are derived, never edited: each
view declares its `governing_right`, each FAB permission name maps to the
access level it needs, and `sync_role_permissions` rewrites the role's
permissions on governed views from the role's right values. Views that no
right governs stay with the administrator role only (deny by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.rights import RoleProfile, RoleRight
from security.catalogue import Catalogue, CatalogueError, load_catalogue
from security.fab_permissions import (
    ensure_permissions,
    permission_view_ids,
    role_assignments,
    write_role_assignments,
)
from security.presets import load_presets

PUBLIC_ROLE = "Public"
# FAB permission name -> access level it needs under an "access" right.
ACCESS_LEVEL_OF = {
    "can_list": "view",
    "can_show": "view",
    "can_get": "view",
    "can_info": "view",
    "can_download": "view",
    "can_export": "view",
    "can_edit": "edit",
    "can_put": "edit",
    "can_add": "create",
    "can_post": "create",
    "can_delete": "delete",
    # FAB names action permissions after the action, without "can_".
    "muldelete": "delete",
}
# What every signed-in user may do with his own account, whatever his rights.
SELF_SERVICE = frozenset(
    {
        ("can_this_form_get", "UchetUserInfoEditView"),
        ("can_this_form_post", "UchetUserInfoEditView"),
        ("can_this_form_get", "ResetMyPasswordView"),
        ("can_this_form_post", "ResetMyPasswordView"),
        ("can_userinfo", "UserView"),
        ("resetmypassword", "UserView"),
        ("userinfoedit", "UserView"),
        ("can_get", "MenuApi"),
    }
)


@dataclass(frozen=True)
class GovernedView:
    """What the sync needs to know about one registered view or API."""

    name: str  # FAB class_permission_name
    right: str
    permissions: frozenset[str]
    levels: Mapping[str, str]
    menu: str | None = None
    category: str | None = None
    #: permission -> right, where one permission answers to another right
    #: (prices: viewing to «Просмотр цен», editing to «Изменение цен»).
    permission_rights: Mapping[str, str] = field(default_factory=dict)

    def right_of(self, permission: str) -> str:
        """Return the catalogue right that grants `permission` on this view."""
        return self.permission_rights.get(permission, self.right)


def governed_views(appbuilder) -> list[GovernedView]:
    """Return the registered views that a catalogue right governs.

    Raises CatalogueError when a view names a right the catalogue lacks.
    """
    menus = getattr(appbuilder, "uchet_menus", {})
    catalogue = load_catalogue()
    result = []
    for view in appbuilder.baseviews:
        right = getattr(view, "governing_right", None)
        if not right:
            continue
        if right not in catalogue.rights:
            raise CatalogueError(f"{type(view).__name__}: unknown governing right {right!r}")
        menu, category = menus.get(type(view).__name__, (None, None))
        extra_rights = dict(getattr(view, "permission_rights", {}) or {})
        for code in extra_rights.values():
            if code not in catalogue.rights:
                raise CatalogueError(f"{type(view).__name__}: unknown right {code!r}")
        result.append(
            GovernedView(
                name=view.class_permission_name,
                right=right,
                permissions=frozenset(view.base_permissions or ()),
                levels=dict(getattr(view, "permission_levels", {}) or {}),
                menu=menu,
                category=category,
                permission_rights=extra_rights,
            )
        )
    return result


def _granted(catalogue: Catalogue, right: str, value: str, permission: str,
             levels: Mapping[str, str]) -> bool:
    kind = catalogue.rights[right].kind
    if kind == "flag":
        return value == "yes"
    if kind == "scope":
        return value != "none"
    if kind == "access":
        # Unknown permissions need the top level: deny by default.
        needed = levels.get(permission) or ACCESS_LEVEL_OF.get(permission, "delete")
        return catalogue.rank(right, value) >= catalogue.rank(right, needed)
    return False


def desired_permissions(values: Mapping[str, str], views: Iterable[GovernedView],
                        catalogue: Catalogue | None = None) -> set[tuple[str, str]]:
    """Return the (permission, view or menu) pairs a role with `values` should hold."""
    catalogue = catalogue or load_catalogue()
    wanted: set[tuple[str, str]] = set(SELF_SERVICE)
    for view in views:
        granted = set()
        for p in view.permissions:
            right = view.right_of(p)
            value = values.get(right, catalogue.rights[right].default)
            if _granted(catalogue, right, value, p, view.levels):
                granted.add(p)
        wanted |= {(p, view.name) for p in granted}
        if view.menu and granted:
            wanted.add(("menu_access", view.menu))
            if view.category:
                wanted.add(("menu_access", view.category))
    return wanted


def governed_keys(views: Iterable[GovernedView]) -> set[tuple[str, str]]:
    """Return every (permission, view or menu) pair that the sync owns."""
    keys: set[tuple[str, str]] = set(SELF_SERVICE)
    for view in views:
        keys |= {(p, view.name) for p in view.permissions}
        if view.menu:
            keys.add(("menu_access", view.menu))
            if view.category:
                keys.add(("menu_access", view.category))
    return keys


def role_values(session: Session, role: Role) -> dict[str, str]:
    """Return the stored right values of a role (code -> value)."""
    rows = session.execute(
        select(RoleRight.code, RoleRight.value).where(RoleRight.role_id == role.id)
    )
    return dict(rows.all())


def _role_keys(session: Session, role: Role, views: list[GovernedView], admin_role_name: str,
               all_keys: Iterable[tuple[str, str]],
               held: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Return the (permission, view) pairs the role should hold, out of `all_keys`.

    The administrator holds every permission, the anonymous role none; any other
    role keeps what it `held` outside governed views and gets, on governed
    views, what its rights grant.
    """
    if role.name == admin_role_name:
        return set(all_keys)
    if role.name == PUBLIC_ROLE:
        return set()
    owned = governed_keys(views)
    profile = session.get(RoleProfile, role.id)
    values = role_values(session, role)
    if profile is not None and profile.side == "cabinet":
        # A client-side role never gets a back-office permission, whatever is stored.
        catalogue = load_catalogue()
        values = {code: value for code, value in values.items() if code in catalogue.rights
                  and "cabinet" in catalogue.sections[catalogue.rights[code].section].sides}
    wanted = desired_permissions(values, views) & set(all_keys)
    return {key for key in held if key not in owned} | wanted


def sync_role_permissions(session: Session, role: Role, views: list[GovernedView],
                          admin_role_name: str) -> None:
    """Rewrite the role's FAB permissions on governed views from its rights (no commit).

    The administrator role holds every permission; the anonymous role none.
    """
    _sync_roles(session, [role], views, admin_role_name)


def _sync_roles(session: Session, roles: list[Role], views: list[GovernedView],
                admin_role_name: str) -> None:
    """Rewrite the FAB permissions of `roles` from their rights in one pass:
    three reads and at most one insert and one delete per role (no commit)."""
    session.flush()
    ids = permission_view_ids(session)
    by_id = {pv_id: key for key, pv_id in ids.items()}
    held = role_assignments(session, [role.id for role in roles])
    wanted = {}
    for role in roles:
        keys = _role_keys(session, role, views, admin_role_name, ids,
                          {by_id[pv_id] for pv_id in held.get(role.id, ())})
        wanted[role.id] = {ids[key] for key in keys}
    write_role_assignments(session, wanted, held)
    for role in roles:
        # Written past the ORM: the loaded collection is out of date.
        session.expire(role, ["permissions"])


def ensure_rights_rows(session: Session, role: Role, catalogue: Catalogue,
                       preset_values: Mapping[str, str] | None = None) -> None:
    """Give the role a stored value for every catalogue right (no commit).

    A new right takes the preset's value, else the value of its `inherit_from`
    right (price categories copy price types on upgrade), else its default.
    """
    stored = role_values(session, role)
    for code, right in catalogue.rights.items():
        if code in stored:
            continue
        if preset_values and code in preset_values:
            value = preset_values[code]
        elif right.inherit_from and right.inherit_from in stored:
            value = stored[right.inherit_from]
        else:
            value = right.default
        value = catalogue.validate_value(code, value)
        session.add(RoleRight(role_id=role.id, code=code, value=value))
        stored[code] = value


def check_stored_rights(session: Session, catalogue: Catalogue | None = None) -> list[str]:
    """Return one message per stored right with an unknown code or an invalid value."""
    catalogue = catalogue or load_catalogue()
    problems = []
    rows = session.execute(
        select(Role.name, RoleRight.code, RoleRight.value).join(Role, Role.id == RoleRight.role_id)
    )
    for role_name, code, value in rows:
        try:
            catalogue.validate_value(code, value)
        except ValueError as exc:
            problems.append(f"role {role_name!r}: {exc}")
    return problems


def ensure_preset_roles(session: Session, admin_role_name: str) -> dict[str, Role]:
    """Create the preset roles that do not exist yet; return {preset code: role} (no commit)."""
    catalogue = load_catalogue()
    presets = load_presets()
    roles = {}
    for code, preset in presets.items():
        profile = session.scalar(select(RoleProfile).where(RoleProfile.preset == code))
        role = profile.role if profile else None
        name = admin_role_name if code == "admin" else preset.ru
        if role is None:
            role = session.scalar(select(Role).where(Role.name == name))
        created = role is None
        if created:
            role = Role(name=name)
            session.add(role)
            session.flush()
        if profile is None and session.get(RoleProfile, role.id) is None:
            session.add(RoleProfile(role_id=role.id, preset=code, origin_preset=code,
                                    side=preset.side,
                                    description=preset.description.get("ru")))
        session.flush()
        # A new role takes the preset; an existing one keeps its own values and
        # gets new rights by inheritance or default, like any other role.
        ensure_rights_rows(session, role, catalogue, preset.values if created else None)
        roles[code] = role
    if session.scalar(select(Role).where(Role.name == PUBLIC_ROLE)) is None:
        session.add(Role(name=PUBLIC_ROLE))
    session.flush()
    return roles


def sync_all(session: Session, appbuilder) -> None:
    """Create permissions, preset roles and rights rows, then derive every role's
    FAB permissions from its rights. The caller commits.

    Raises CatalogueError when stored rights do not fit the catalogue.
    """
    admin = appbuilder.sm.auth_role_admin
    ensure_preset_roles(session, admin)
    session.flush()
    # In bulk, not through FAB's add_permissions (a commit per row); the
    # administrator gets every permission below, like any role from its rights.
    ensure_permissions(session, appbuilder)
    for role in session.scalars(select(Role)):
        ensure_rights_rows(session, role, load_catalogue())
    session.flush()
    problems = check_stored_rights(session)
    if problems:
        raise CatalogueError("; ".join(problems))
    _sync_roles(session, list(session.scalars(select(Role))), governed_views(appbuilder), admin)
