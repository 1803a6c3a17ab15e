"""Effective rights resolved at most once per change, not once per request.

Every user row holds a `rights_epoch`: a random token replaced, in the same
transaction, by any change that can change what the user may do — the user row
itself (roles, home and delegated units, served clients, manager, activity), and,
for every user at once, a role, its rights, profile or permissions, the
organisation tree (the scope's unit ids are resolved from the closure table), and
the departments and staff (the list screens keep their search drop-downs of units,
departments and staff per token: views.search_choices). The
token is read with the user row that every request loads anyway, so checking it
costs no query; the rights resolved for (user id, token) are kept in Redis when
REDIS_URL is set (shared by every worker and machine), else in the process. A warm
request runs no security query; the first request after a change resolves the
rights again (two queries) — a revocation is in force on the next request, in every
worker, because the old token is never read again.

The tokens are random rather than counted so that a rolled-back transaction (or a
restored backup) never brings back a token that named other rights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Tables whose change may change any user's rights, or the choices of units,
#: departments and staff the list screens keep per token (views.search_choices):
#: all tokens are replaced.
EVERYONE = frozenset({
    "ab_role", "ab_permission", "ab_view_menu", "ab_permission_view",
    "ab_permission_view_role", "role_right", "role_profile", "org_unit", "org_unit_closure",
    "ref_department", "staff_employee",
})
#: Tables of one user's facts, changed through his row's relationships (his token).
USER_TABLES = frozenset({"ab_user", "ab_user_role", "user_extra_unit", "manager_client"})
#: Attributes of a user row that do not touch his rights.
NEUTRAL = frozenset({"rights_epoch", "last_login", "login_count", "fail_login_count",
                     "changed_on", "session_epoch", "password", "phone", "email",
                     "first_name", "last_name", "position"})
#: How long Redis keeps an entry nobody asks for (seconds).
REDIS_TTL = 600
#: How many users' rights a process keeps without Redis.
LOCAL_SIZE = 4096


def new_token() -> int:
    """Return a fresh rights token (a random positive 62-bit integer)."""
    return secrets.randbits(62) or 1


class _Local:
    """A small thread-safe LRU mapping (the in-process store)."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: str):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: str, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_local = _Local(LOCAL_SIZE)


def _salt() -> str:
    """Return what else the resolved rights depend on: the catalogue file."""
    from security.catalogue import CATALOGUE_PATH

    global _SALT
    if _SALT is None:
        _SALT = hashlib.sha1(CATALOGUE_PATH.read_bytes()).hexdigest()[:12]
    return _SALT


_SALT: str | None = None


def _redis(app):
    """Return the app's Redis client for the cache, or None without REDIS_URL."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("uchet_rights_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        app.extensions["uchet_rights_redis"] = client
    return client


def cached(app, user, resolve) -> Any:
    """Return the effective rights of `user` for his current token: from the cache, or
    `resolve()` stored there. A failing Redis is logged and bypassed, never fatal."""
    token = getattr(user, "rights_epoch", None)
    if token is None:
        return resolve()
    key = f"uchet:rights:{_salt()}:{user.id}:{token}"
    rights = _local.get(key)
    if rights is not None:
        return rights
    client = _redis(app)
    if client is not None:
        try:
            raw = client.get(key)
            if raw is not None:
                rights = from_json(raw)
        except Exception as exc:  # Redis down: resolve, as without a cache
            log.warning("rights cache: Redis unavailable (%s)", exc)
            client = None
    if rights is None:
        rights = resolve()
        if client is not None:
            try:
                client.set(key, to_json(rights), ex=REDIS_TTL)
            except Exception as exc:
                log.warning("rights cache: Redis unavailable (%s)", exc)
    _local.set(key, rights)
    return rights


def to_json(rights) -> str:
    """Return `rights` (an EffectiveRights) as JSON (Redis holds no pickles)."""
    scope = rights.scope

    def ids(values):
        return None if values is None else sorted(values)

    return json.dumps({
        "user_id": rights.user_id, "username": rights.username, "roles": sorted(rights.roles),
        "is_admin": rights.is_admin, "permissions": sorted(map(list, rights.permissions)),
        "values": {k: ({"set": sorted(v)} if isinstance(v, frozenset) else v)
                   for k, v in rights.values.items()},
        "scope": {"all": scope.all, "exact": ids(scope.exact), "subtree": ids(scope.subtree),
                  "units": ids(scope.units), "shared": ids(scope.shared),
                  "kinds": (None if scope.kinds is None
                            else {kind: sorted(units) for kind, units in scope.kinds})},
        "sides": sorted(rights.sides), "own_units": sorted(rights.own_units)})


def from_json(raw) -> Any:
    """Return the EffectiveRights `to_json` wrote."""
    from security.effective import EffectiveRights
    from security.scope import Scope

    data = json.loads(raw)
    s = data["scope"]

    def ids(values):
        return None if values is None else frozenset(values)

    return EffectiveRights(
        user_id=data["user_id"], username=data["username"], roles=frozenset(data["roles"]),
        is_admin=data["is_admin"], permissions=frozenset(map(tuple, data["permissions"])),
        values={k: (frozenset(v["set"]) if isinstance(v, dict) else v)
                for k, v in data["values"].items()},
        scope=Scope(all=s["all"], exact=frozenset(s["exact"]), subtree=frozenset(s["subtree"]),
                    units=ids(s["units"]), shared=ids(s["shared"]),
                    kinds=None if s.get("kinds") is None else tuple(
                        sorted((k, frozenset(v)) for k, v in s["kinds"].items()))),
        sides=frozenset(data["sides"]), own_units=frozenset(data["own_units"]))


# --------------------------------------------------------------- replacing tokens


def _pending(session: Session) -> dict:
    return session.info.setdefault("rights_epoch", {"all": False, "managers": set()})


def _table(obj) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _before_flush(session: Session, _context, _instances) -> None:
    from sqlalchemy import inspect

    from models.user import AppUser

    pending = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, AppUser):
            if obj in session.new or obj in session.deleted:
                continue
            state = inspect(obj)
            changed = {a.key for a in state.attrs if a.history.has_changes()}
            if changed - NEUTRAL:
                obj.rights_epoch = new_token()
            if "served_clients" in changed:
                pending["managers"].add(obj.id)  # his assistants read his clients
        elif _table(obj) in EVERYONE:
            pending["all"] = True


def _after_flush_postexec(session: Session, _context) -> None:
    pending = session.info.pop("rights_epoch", None)
    if pending:
        _replace(session, everyone=pending["all"], managers=pending["managers"])


def _replace(session: Session, *, everyone: bool = False, managers=()) -> None:
    from models.user import AppUser

    table = AppUser.__table__
    session.info["rights_epoch_replacing"] = True
    try:
        if everyone:
            session.execute(update(table).values(rights_epoch=new_token()))
        elif managers:
            session.execute(update(table).where(table.c.manager_id.in_(sorted(managers)))
                            .values(rights_epoch=new_token()))
    finally:
        session.info.pop("rights_epoch_replacing", None)


def replace_all(session: Session) -> None:
    """Replace every user's token (after a change the hooks cannot see; the caller
    commits)."""
    _replace(session, everyone=True)


def _on_execute(state):
    """A bulk UPDATE / INSERT / DELETE through the session on a rights table replaces
    every token too (the flush hooks do not see it). Returns its result."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    if state.session.info.get("rights_epoch_replacing"):
        return None
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name not in EVERYONE and name not in USER_TABLES:
        return None
    result = state.invoke_statement()
    _replace(state.session, everyone=True)
    return result


def install() -> None:
    """Register the hooks on every session (idempotent)."""
    for name, fn in (("before_flush", _before_flush),
                     ("after_flush_postexec", _after_flush_postexec),
                     ("do_orm_execute", _on_execute)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
