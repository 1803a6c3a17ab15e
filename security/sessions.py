"""Sessions and tokens that end when they should.

Every user row holds a `session_epoch`. A browser session stores "id:epoch"
(AppUser.get_id) and a JWT carries an "epoch" claim; the user loaders refuse
either when the epoch no longer matches the row. The epoch is bumped on logout,
a password change or reset and a deactivation (or reactivation), so a
captured cookie or token stops working in every worker at once: the value lives
in the database, which every worker shares, and is read by the query that loads
the user anyway (no extra query per request).

On top of PERMANENT_SESSION_LIFETIME, a session idle for SESSION_IDLE_TIMEOUT
seconds is ended on its next request.
"""

from __future__ import annotations

import time

from flask import Flask, g, has_request_context, session
from flask_login import user_logged_in
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

#: Changes of these attributes end the user's other sessions and tokens. A change of
#: roles or units does not need to: rights and scope are resolved from the database
#: on every request (security.effective), so it applies to every session and token
#: on their next request, and the user keeps working with his new rights.
WATCHED = ("password", "active")
#: Where the time of a session's last request is kept (seconds since the epoch).
SEEN_KEY = "_uchet_seen"
#: The last request time is rewritten at most this often (seconds), not on every request.
SEEN_GRANULARITY = 60


def parse_identity(value) -> tuple[int, int] | None:
    """Return (user id, epoch) from a session identity "id:epoch", or None when
    it is malformed (a session from before epochs is refused, not trusted)."""
    uid, sep, epoch = str(value).partition(":")
    if not sep or not uid.isdigit() or not epoch.isdigit():
        return None
    return int(uid), int(epoch)


def matches(user, epoch) -> bool:
    """Return True when `user` is active and his epoch equals `epoch`."""
    return bool(user is not None and user.is_active
                and epoch is not None and (user.session_epoch or 0) == epoch)


def bump(user) -> None:
    """End every session and token of `user` (the caller commits)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def _changed(user) -> bool:
    state = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in WATCHED)


def _before_flush(db_session: Session, _context, _instances) -> None:
    from models.user import AppUser

    for obj in db_session.dirty:
        if not isinstance(obj, AppUser) or not _changed(obj):
            continue
        if inspect(obj).attrs.session_epoch.history.has_changes():
            continue  # bumped already in this flush
        bump(obj)
        _keep_own_session(obj)


def _keep_own_session(user) -> None:
    """A user who changes his own password keeps the session he does it in:
    it is re-issued with the new epoch (a logout has removed it already)."""
    if not has_request_context() or "_user_id" not in session:
        return
    ident = parse_identity(session["_user_id"])
    if ident is not None and ident[0] == user.id:
        session["_user_id"] = user.get_id()


def _on_login(_app, user, **_extra) -> None:
    # A login session lives PERMANENT_SESSION_LIFETIME at most, and less when idle.
    session.permanent = True
    session[SEEN_KEY] = int(time.time())


def _idle_check() -> None:
    """End the session of a browser idle longer than SESSION_IDLE_TIMEOUT."""
    from flask import current_app

    if "_user_id" not in session:
        return
    now = int(time.time())
    seen = session.get(SEEN_KEY)
    limit = current_app.config.get("SESSION_IDLE_TIMEOUT", 30 * 60)
    if not isinstance(seen, int) or now - seen > limit:
        # What logout_user() removes, without loading the user first (this runs
        # before anything has): the request goes on as an anonymous one.
        for key in ("_user_id", "_fresh", "_id", SEEN_KEY):
            session.pop(key, None)
        g.pop("_login_user", None)
        g.pop("_uchet_rights", None)
        return
    if now - seen >= SEEN_GRANULARITY:
        session[SEEN_KEY] = now


def install(app: Flask) -> None:
    """Install the epoch bumping, the login hook and the idle check on `app`."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    user_logged_in.connect(_on_login, app)
    # Before FAB's own before_request, which takes g.user from the session.
    app.before_request_funcs.setdefault(None, []).insert(0, _idle_check)
