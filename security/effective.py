"""Effective rights: everything the security layer needs about a user, resolved
with exactly two SQL queries, kept on `flask.g` for the request and across
requests by security.rights_cache until the user's rights token changes.

Query 1 reads the FAB permissions of the user's roles; query 2 reads, as one
UNION ALL, the role names, the rights catalogue values of those roles, the role
sides, the user's home and delegated units and the clients the user (or, for an
assistant, his manager) serves. Nothing is cached across requests, so a change
to a role, a user's roles or units takes effect on the user's next request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
    assoc_user_role,
)
from sqlalchemy import String, cast, literal, or_, select, union_all
from sqlalchemy.orm import Session

from core.errors import Forbidden
from models.org import Unit, UnitClosure
from models.rights import RoleProfile, RoleRight
from models.user import AppUser, manager_client, user_extra_unit
from security.catalogue import Catalogue, load_catalogue
from security.scope import Scope

SCOPE_RIGHT = "scope.data"


@dataclass(frozen=True)
class EffectiveRights:
    """The resolved rights of one user for one request."""

    user_id: int | None
    username: str
    roles: frozenset[str]
    is_admin: bool
    permissions: frozenset[tuple[str, str]]
    values: Mapping[str, Any]
    scope: Scope
    sides: frozenset[str] = field(default_factory=frozenset)
    #: The user's home and delegated units: "own branch" rights start from them.
    own_units: frozenset[int] = field(default_factory=frozenset)

    def can(self, permission_name: str, view_name: str) -> bool:
        """Return True when a FAB permission is granted to one of the user's roles."""
        return (permission_name, view_name) in self.permissions

    def value(self, code: str) -> Any:
        """Return the merged value of a catalogue right (its default when unset).

        Raises KeyError for a code that is not in the catalogue.
        """
        if code not in self.values:
            return load_catalogue().rights[code].default
        return self.values[code]

    def at_least(self, code: str, minimum: str) -> bool:
        """Return True when the right's value ranks at or above `minimum`."""
        catalogue = load_catalogue()
        return catalogue.rank(code, self.value(code)) >= catalogue.rank(code, minimum)

    def flag(self, code: str) -> bool:
        """Return True when a yes/no right is "yes"."""
        return self.value(code) == "yes"

    def allows(self, code: str, minimum: str | None = None) -> bool:
        """Return True when the user holds the right: an administrator always; others
        a yes/no right set to "yes", or an access level at or above `minimum`.

        This is the one place of the administrator rule for catalogue rights."""
        if self.is_admin:
            return True
        return self.flag(code) if minimum is None else self.at_least(code, minimum)

    def require(self, code: str, minimum: str | None = None, refusal=None, *,
                field: str | None = None) -> None:
        """Pass when `allows(code, minimum)`; otherwise raise `refused(...)`."""
        if not self.allows(code, minimum):
            raise self.refused(code, minimum, refusal, field=field)

    def refused(self, code: str, minimum: str | None = None, refusal=None, *,
                field: str | None = None) -> Forbidden:
        """Return the Forbidden error for a missing right: «Нет права «…»», or
        `refusal` (a lazy gettext text that may name `%(right)s` and `%(level)s`),
        with the right's and the level's labels read from the catalogue in the
        user's language; `field` names the form field it belongs to."""
        from flask_babel import gettext as _

        right, level = right_label(code), right_label(code, minimum) if minimum else ""
        if refusal is None:
            message = (_("Нет права «%(right)s» (нужен уровень «%(level)s»)", right=right,
                         level=level) if minimum else _("Нет права «%(right)s»", right=right))
        else:
            message = str(refusal) % {"right": right, "level": level}
        return Forbidden(message, field=field)


def right_label(code: str, value: str | None = None) -> str:
    """Return the catalogue's label of a right (or of one of its values) in the
    language of the request (Russian unless it is English)."""
    from flask_babel import get_locale

    locale = get_locale()
    lang = "en" if locale is not None and locale.language == "en" else "ru"
    catalogue = load_catalogue()
    if value is not None:
        return catalogue.label(code, value, lang)
    return getattr(catalogue.rights[code], lang)



ANONYMOUS = EffectiveRights(
    user_id=None,
    username="",
    roles=frozenset(),
    is_admin=False,
    permissions=frozenset(),
    values={},
    scope=Scope.nothing(),
)


def _permissions_query(user_id: int):
    pvr = assoc_permissionview_role
    ur = assoc_user_role
    return (
        select(Permission.name, ViewMenu.name)
        .select_from(PermissionView)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
        .join(pvr, pvr.c.permission_view_id == PermissionView.id)
        .join(ur, ur.c.role_id == pvr.c.role_id)
        .where(ur.c.user_id == user_id)
        .distinct()
    )


def _facts_query(user_id: int):
    """One UNION ALL of (kind, key, value) facts about the user."""
    ur = assoc_user_role
    text = String(100)
    manager_of_user = select(AppUser.manager_id).where(AppUser.id == user_id).scalar_subquery()
    home = select(AppUser.home_unit_id.label("unit_id")).where(AppUser.id == user_id)
    clients = select(manager_client.c.unit_id).where(
        or_(manager_client.c.user_id == user_id, manager_client.c.user_id == manager_of_user))
    extra = select(user_extra_unit.c.unit_id).where(user_extra_unit.c.user_id == user_id)
    parts = [
        select(literal("role"), Role.name, cast(Role.id, text))
        .join(ur, ur.c.role_id == Role.id)
        .where(ur.c.user_id == user_id),
        select(literal("right"), RoleRight.code, RoleRight.value)
        .join(ur, ur.c.role_id == RoleRight.role_id)
        .where(ur.c.user_id == user_id),
        select(literal("side"), RoleProfile.side, literal(""))
        .join(ur, ur.c.role_id == RoleProfile.role_id)
        .where(ur.c.user_id == user_id),
        select(literal("home"), cast(AppUser.home_unit_id, text), literal(""))
        .where(AppUser.id == user_id, AppUser.home_unit_id.is_not(None)),
        select(literal("extra"), cast(user_extra_unit.c.unit_id, text), literal(""))
        .where(user_extra_unit.c.user_id == user_id),
        select(literal("client"), cast(manager_client.c.unit_id, text), literal(""))
        .where(or_(manager_client.c.user_id == user_id,
                   manager_client.c.user_id == manager_of_user)),
        # The closure rows of the anchors, so that the scope's unit ids are known
        # as values for the whole request (security.scope.Scope.units/shared):
        # below the home unit and the served clients, above every anchor.
        select(literal("down"), cast(UnitClosure.ancestor_id, text),
               cast(UnitClosure.descendant_id, text))
        .where(UnitClosure.ancestor_id.in_(home.union(clients))),
        select(literal("up"), cast(UnitClosure.descendant_id, text),
               cast(UnitClosure.ancestor_id, text))
        .where(UnitClosure.descendant_id.in_(home.union(clients, extra))),
        # The kind of every unit that can be in scope (the home and delegated units,
        # and the units below the home unit and the served clients): a column that
        # only holds branches is filtered by the branches alone (ScopePath.kinds).
        select(literal("kind"), cast(Unit.id, text), cast(Unit.kind, text))
        .where(or_(Unit.id.in_(home.union(extra)),
                   Unit.id.in_(select(UnitClosure.descendant_id)
                               .where(UnitClosure.ancestor_id.in_(home.union(clients)))))),
    ]
    return union_all(*parts)


def _scope_from(choices: Iterable[str], home: int | None, extra: set[int],
                clients: set[int], down: Mapping[int, set[int]] | None = None,
                up: Mapping[int, set[int]] | None = None,
                kinds: Mapping[int, str] | None = None) -> Scope:
    """Translate the chosen data-scope values into unit anchors (deny by default),
    with the ids in scope resolved when the closure rows `down` (anchor: its
    subtree) and `up` (anchor: its ancestors) are given, and grouped by kind when
    `kinds` (unit id: its kind) is."""
    choices = set(choices)
    if "all" in choices:
        return Scope.everything()
    exact: set[int] = set()
    subtree: set[int] = set()
    if home is not None:
        if "own_unit" in choices or "delegated" in choices:
            exact.add(home)
        if "own_subtree" in choices:
            subtree.add(home)
    if "delegated" in choices:
        exact |= extra
    if "manager_clients" in choices:
        subtree |= clients
    if down is None or up is None:
        return Scope(all=False, exact=frozenset(exact), subtree=frozenset(subtree))
    units = set(exact)
    for anchor in subtree:
        units |= down.get(anchor, set())
    # What is shared above a unit is read by it: the anchors' ancestors (a unit
    # inside a subtree has the anchor's ancestors and its own, all in `units`).
    shared = set(units)
    for anchor in exact | subtree:
        shared |= up.get(anchor, set())
    by_kind = None
    if kinds is not None:
        grouped: dict[str, set[int]] = defaultdict(set)
        for unit in units:
            # A unit whose kind is unknown is kept under no kind: a kind-restricted
            # filter leaves it out, as it leaves out every unit not of its kinds.
            if unit in kinds:
                grouped[kinds[unit]].add(unit)
        by_kind = tuple(sorted((k, frozenset(v)) for k, v in grouped.items()))
    return Scope(all=False, exact=frozenset(exact), subtree=frozenset(subtree),
                 units=frozenset(units), shared=frozenset(shared), kinds=by_kind)


def resolve(session: Session, user: Any, catalogue: Catalogue | None = None) -> EffectiveRights:
    """Return the effective rights of `user` (two SQL queries).

    Per right, the values of the user's roles merge as the catalogue says
    (most permissive, or union for the data scope); a role without a stored
    value contributes the right's default.
    """
    catalogue = catalogue or load_catalogue()
    uid = user.id
    permissions = frozenset((p, v) for p, v in session.execute(_permissions_query(uid)))
    roles: dict[str, int] = {}
    by_role_values: dict[str, list[str]] = defaultdict(list)
    sides: set[str] = set()
    home: int | None = None
    extra: set[int] = set()
    clients: set[int] = set()
    down: dict[int, set[int]] = defaultdict(set)
    up: dict[int, set[int]] = defaultdict(set)
    unit_kinds: dict[int, str] = {}
    for kind, key, value in session.execute(_facts_query(uid)):
        if kind == "role":
            roles[key] = int(value)
        elif kind == "right":
            if key in catalogue.rights:
                by_role_values[key].append(value)
        elif kind == "side":
            sides.add(key)
        elif kind == "home":
            home = int(key)
        elif kind == "extra":
            extra.add(int(key))
        elif kind == "client":
            clients.add(int(key))
        elif kind == "down":
            down[int(key)].add(int(value))
        elif kind == "up":
            up[int(key)].add(int(value))
        elif kind == "kind":
            unit_kinds[int(key)] = value
    values: dict[str, Any] = {}
    for code, right in catalogue.rights.items():
        stored = by_role_values.get(code, [])
        # Roles without a stored row contribute the default.
        missing = len(roles) - len(stored)
        merged_input = stored + [right.default] * max(missing, 0) if roles else []
        values[code] = catalogue.merge(code, merged_input)
    admin_role = current_app.config.get("AUTH_ROLE_ADMIN", "Admin")
    scope_value = values.get(SCOPE_RIGHT, frozenset())
    scope_choices = scope_value if isinstance(scope_value, frozenset) else {scope_value}
    # No role, no data: the catalogue default must not open a scope by itself.
    scope = (_scope_from(scope_choices, home, extra, clients, down, up, unit_kinds) if roles
             else Scope.nothing())
    return EffectiveRights(
        user_id=uid,
        username=user.username,
        roles=frozenset(roles),
        is_admin=admin_role in roles,
        permissions=permissions,
        values=values,
        scope=scope,
        sides=frozenset(sides),
        own_units=frozenset(({home} if home is not None else set()) | extra),
    )


def current_user_object() -> Any | None:
    """Return the authenticated user of this request (session or JWT), or None."""
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    try:
        from flask_jwt_extended import current_user as jwt_user
        from flask_jwt_extended import verify_jwt_in_request

        if verify_jwt_in_request(optional=True) and jwt_user is not None:
            return jwt_user
    except Exception:
        return None
    return None


def current() -> EffectiveRights:
    """Return the current request's effective rights, resolving them once."""
    cached = g.get("_uchet_rights")
    if cached is not None:
        return cached
    user = current_user_object()
    if user is None or not getattr(user, "is_active", False):
        rights = ANONYMOUS
    else:
        # Resolved once per change of the user's rights, not once per request
        # (security.rights_cache: keyed by the token his row carries).
        from security.rights_cache import cached

        rights = cached(current_app, user,
                        lambda: resolve(current_app.appbuilder.session, user))
    g._uchet_rights = rights
    return rights


def forget() -> None:
    """Drop this request's cached rights (after a change to the current user's own rights)."""
    g.pop("_uchet_rights", None)
