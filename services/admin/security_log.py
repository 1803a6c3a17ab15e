"""The security journals, written as things happen.

- Sign-ins (success, failure, lock-out) and the reads of patients' data are
  written at the end of their request, in a unit of work of their own (a failed
  sign-in has no other).
- Password, session, activation, role and rights changes are found in the flush
  that makes them and written on its connection: the event and the change are
  committed, or rolled back, together.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, request
from flask_appbuilder.security.sqla.models import Role
from flask_limiter.util import get_remote_address
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from core.actor import current_actor
from models.rights import RoleRight
from models.security_log import PatientAccess, SecurityEvent
from models.user import AppUser
from security import access_log, throttle
from services.boundary import transaction

PENDING = "security_events_pending"


def _address() -> str | None:
    try:
        return get_remote_address()[:64]
    except RuntimeError:  # outside a request
        return None


def record(kind: str, *, username: str | None = None, user_id: int | None = None,
           target: AppUser | None = None, detail: str | None = None) -> None:
    """Write one security event in a unit of work of its own (the actor is the
    signed-in user unless `username` names who acted)."""
    actor_id, actor_name = current_actor()
    with transaction() as session:
        session.execute(insert(SecurityEvent).values(
            at=dt.datetime.now(dt.UTC), kind=kind,
            user_id=user_id if username is not None else actor_id,
            username=(username if username is not None else actor_name)[:128],
            target_user_id=target.id if target is not None else None,
            target=target.username if target is not None else None,
            address=_address(), detail=(detail or None) and detail[:500]))


# ------------------------------------------------------------------ sign-ins
def _login_endpoints() -> frozenset[str]:
    sm = current_app.appbuilder.sm
    return frozenset({f"{type(sm.auth_view).__name__}.login", "SecurityApi.login"})


def _after_login(response):
    """Journal a POST to a sign-in door: success, failure or lock-out (429)."""
    if request.method != "POST" or request.endpoint not in _login_endpoints():
        return response
    name = throttle.login_name()
    with transaction() as session:
        user = session.scalar(select(AppUser).where(AppUser.username == name)) if name else None
    if response.status_code == 429:
        kind = "locked_out"
    elif throttle.failed(response):
        kind = "login_failed"
    else:
        kind = "login"
    record(kind, username=user.username if user is not None else name or "?",
           user_id=user.id if user is not None else None, target=user,
           detail="API" if request.path.startswith("/api/") else None)
    return response


# ------------------------------------------------------------- reads of patients
def _write_reads(response):
    """Write the reads of patients this request noted, if it answered them."""
    reads = access_log.pending_reads()
    if not reads or response.status_code >= 400:
        return response
    user_id, username = current_actor()
    now, address = dt.datetime.now(dt.UTC), _address()
    with transaction() as session:
        session.execute(insert(PatientAccess), [
            {"at": now, "user_id": user_id, "username": username, "patient_id": pid,
             "channel": channel, "screen": screen[:100], "address": address}
            for pid, channel, screen in reads])
    return response


# ------------------------------------------------- changes found in the flush
def _user_events(session: Session, user: AppUser, actor_id) -> list[tuple]:
    state = inspect(user)
    if state.pending:
        return [("user_created", user, None)]
    changed = {key for key in ("password", "session_epoch", "active", "roles")
               if key in state.attrs and state.attrs[key].history.has_changes()}
    events = []
    if "password" in changed:
        events.append(("password_changed" if actor_id == user.id else "password_reset",
                       user, None))
    elif "session_epoch" in changed:
        ending = (request.endpoint or "") if _in_request() else ""
        events.append(("logout" if ending.endswith("logout") else "sessions_ended", user, None))
    if "active" in changed:
        events.append(("user_activated" if user.active else "user_deactivated", user, None))
    if "roles" in changed:
        hist = state.attrs["roles"].history
        detail = "; ".join(part for part in (
            "+ " + ", ".join(r.name for r in hist.added) if hist.added else "",
            "- " + ", ".join(r.name for r in hist.deleted) if hist.deleted else "") if part)
        events.append(("roles_changed", user, detail))
    return events


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


def _before_flush(session: Session, _ctx, _instances) -> None:
    actor_id, _name = current_actor()
    pending = session.info.setdefault(PENDING, [])
    rights: dict[int, list[str]] = {}
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, AppUser) and obj not in session.deleted:
            pending.extend(_user_events(session, obj, actor_id))
        elif isinstance(obj, Role) and (obj in session.new or obj in session.deleted):
            pending.append(("role_created" if obj in session.new else "role_deleted",
                            None, obj.name))
        elif isinstance(obj, RoleRight) and (obj not in session.dirty
                                              or session.is_modified(obj)):
            sign = "-" if obj in session.deleted else "="
            rights.setdefault(obj.role_id or 0, []).append(f"{obj.code} {sign} {obj.value}")
    for role_id, changes in rights.items():
        pending.append(("rights_changed", None, (role_id, changes)))


def _rights_detail(role, changes: list[str]) -> str:
    """Return "role: code = value, ..." within the column's 500 characters, whole
    changes only (a cut code could not be named in words), then "…+N" for the rest."""
    head, kept = f"{role}: ", []
    for number, change in enumerate(changes):
        rest = len(changes) - number
        tail = f", …+{rest - 1}" if rest > 1 else ""
        if len(head) + len(", ".join([*kept, change])) + len(tail) > 500 and kept:
            return head + ", ".join(kept) + f", …+{rest}"
        kept.append(change)
    return head + ", ".join(kept)


def _after_flush(session: Session, _ctx) -> None:
    pending = session.info.pop(PENDING, [])
    if not pending:
        return
    actor_id, actor_name = current_actor()
    now, address = dt.datetime.now(dt.UTC), _address() if _in_request() else None
    rows = []
    for kind, user, detail in pending:
        if kind == "rights_changed":
            role_id, changes = detail
            with session.no_autoflush:
                role = session.get(Role, role_id) if role_id else None
            detail = _rights_detail(role.name if role is not None else role_id, changes)
        rows.append({"at": now, "kind": kind, "user_id": actor_id, "username": actor_name,
                     "target_user_id": user.id if user is not None else None,
                     "target": user.username if user is not None else None,
                     "address": address, "detail": detail[:500] if detail else None})
    session.connection().execute(insert(SecurityEvent), rows)


def _after_rollback(session: Session, _previous) -> None:
    session.info.pop(PENDING, None)


def install_hooks() -> None:
    """Register the flush hooks on every ORM session (idempotent)."""
    for name, fn in (("before_flush", _before_flush), ("after_flush", _after_flush),
                     ("after_soft_rollback", _after_rollback)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def install(app: Flask) -> None:
    """Journal sign-ins and the reads of patients at the end of their requests."""
    app.after_request(_write_reads)
    app.after_request(_after_login)
