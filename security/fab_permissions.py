"""FAB's permission rows for the registered views and menus, written in bulk.

`AppBuilder.add_permissions` creates the same rows one at a time, committing
after each (about 1,650 commits and 12,400 statements for Uchet's views: most
of `flask uchet sync`'s time). `ensure_permissions` reads what exists in three
queries and inserts what is missing in one statement per table, in the
caller's transaction.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

MENU_ACCESS = "menu_access"


def registered_pairs(appbuilder) -> tuple[set[tuple[str, str]], set[str]]:
    """Return the (permission, view or menu) pairs the app's views and menu need,
    and the names of the registered views (FAB `class_permission_name`).

    The same pairs as FAB's `add_permissions`: each view's `base_permissions`
    on its permission name, `menu_access` on each menu category and item.
    """
    pairs: set[tuple[str, str]] = set()
    views: set[str] = set()
    for view in appbuilder.baseviews:
        name = view.class_permission_name
        if not name:
            continue
        views.add(name)
        pairs |= {(p, name) for p in view.base_permissions or () if p}
    if appbuilder.menu is not None:
        for category in appbuilder.menu.get_list():
            if category.name:
                pairs.add((MENU_ACCESS, category.name))
            pairs |= {(MENU_ACCESS, item.name) for item in category.childs
                      if item.name and item.name != "-"}
    return pairs, views


def _ids(session: Session, model) -> dict[str, int]:
    return dict(session.execute(select(model.name, model.id)).all())


def _insert_names(session: Session, model, names: set[str]) -> dict[str, int]:
    """Insert the missing names into `model`'s table; return every name -> id."""
    existing = _ids(session, model)
    missing = sorted(names - existing.keys())
    if missing:
        session.execute(insert(model), [{"name": name} for name in missing])
        existing = _ids(session, model)
    return existing


def ensure_permissions(session: Session, appbuilder) -> int:
    """Create the permissions, view-menus and permission-views the registered
    views and menus need, and remove a registered view's permissions that the
    view no longer exposes (no commit). Roles are not touched here, except that
    a removed permission-view is taken from every role holding it.

    Returns the number of permission-views created.
    """
    pairs, views = registered_pairs(appbuilder)
    permission_ids = _insert_names(session, Permission, {p for p, _v in pairs})
    view_ids = _insert_names(session, ViewMenu, {v for _p, v in pairs} | views)
    existing = permission_view_ids(session)
    missing = sorted(pairs - existing.keys())
    if missing:
        session.execute(insert(PermissionView), [
            {"permission_id": permission_ids[p], "view_menu_id": view_ids[v]} for p, v in missing
        ])
    # FAB means to drop these too, but skips any that a role holds, and the
    # administrator holds them all: a removed endpoint's permission would linger.
    stale = [pv_id for (p, v), pv_id in existing.items()
             if v in views and p != MENU_ACCESS and (p, v) not in pairs]
    if stale:
        stale_permissions = {permission_ids[p] for p, v in existing
                             if existing[p, v] in stale}
        session.execute(delete(assoc_permissionview_role)
                        .where(assoc_permissionview_role.c.permission_view_id.in_(stale)))
        session.execute(delete(PermissionView).where(PermissionView.id.in_(stale)))
        # As FAB does: a permission goes with its last permission-view.
        used = select(PermissionView.permission_id)
        session.execute(delete(Permission).where(Permission.id.in_(stale_permissions),
                                                 Permission.id.not_in(used)))
        # Deleted past the ORM: loaded roles may still list these permission-views.
        session.expire_all()
    return len(missing)


def permission_view_ids(session: Session) -> dict[tuple[str, str], int]:
    """Return every permission-view: (permission, view or menu) -> id."""
    rows = session.execute(
        select(PermissionView.id, Permission.name, ViewMenu.name)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
    )
    return {(p, v): pv_id for pv_id, p, v in rows}


def role_assignments(session: Session, role_ids: list[int]) -> dict[int, set[int]]:
    """Return role id -> ids of the permission-views it holds, for `role_ids`."""
    link = assoc_permissionview_role
    held: dict[int, set[int]] = {role_id: set() for role_id in role_ids}
    rows = session.execute(select(link.c.role_id, link.c.permission_view_id)
                           .where(link.c.role_id.in_(role_ids)))
    for role_id, pv_id in rows:
        held[role_id].add(pv_id)
    return held


def write_role_assignments(session: Session, wanted: dict[int, set[int]],
                           held: dict[int, set[int]]) -> None:
    """Make each role in `wanted` hold exactly those permission-views (no commit):
    one insert for all roles, one delete per role that loses some."""
    link = assoc_permissionview_role
    add = [{"role_id": role_id, "permission_view_id": pv_id}
           for role_id, ids in wanted.items() for pv_id in sorted(ids - held.get(role_id, set()))]
    drop = [(role_id, pv_id) for role_id, ids in wanted.items()
            for pv_id in held.get(role_id, set()) - ids]
    if add:
        session.execute(insert(link), add)
    for role_id in {role_id for role_id, _pv in drop}:
        session.execute(delete(link).where(
            link.c.role_id == role_id,
            link.c.permission_view_id.in_([pv for r, pv in drop if r == role_id])))
