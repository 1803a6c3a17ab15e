"""The read replica: a second engine for the heavy reads that tolerate a few seconds
of lag — the cabinet's statistics, the managers' figures and the rows of the export to
accounting — when UCHET_REPLICA_URL is set.

One engine and session factory per app, made at start-up (`install`). A request gets
one replica session (`read_session()`), closed with its app context; a job opens its
own (`reading()`), closed when the job ends. A replica session is read-only twice over:
its connections refuse writes (PostgreSQL `default_transaction_read_only`, SQLite
`PRAGMA query_only`) and the session refuses to flush (`ReplicaWriteRefused`).

Without the setting both hand out the primary's `db.session`: everything reads the
primary, as before. Rights and the data scope are always resolved on the primary
(security.effective), so a revoked right never waits for the replica; `scoped()` applies
them to the statements sent to the replica unchanged. Whatever writes (the export's
log and file, the access journal) stays on the primary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

KEY = "uchet_replica"
_SESSION = "_uchet_replica_session"


class ReplicaWriteRefused(RuntimeError):
    """Something tried to write through the read replica's session: a programming
    error (writes belong to the primary's `db.session`), never a user's."""


class ReplicaSession(Session):
    """A session on the replica: reads only. Flushing pending changes raises
    ReplicaWriteRefused (a clean session's autoflush before a query is a no-op)."""

    def flush(self, objects=None) -> None:
        if self._is_clean():
            return
        raise ReplicaWriteRefused("the read replica's session does not write; "
                                  "use the primary's session (db.session)")


@dataclass
class Replica:
    """The app's replica engine, its session factory and the process that made its
    pool (a forked job worker must not share the parent's connections)."""

    engine: Engine
    factory: sessionmaker
    pid: int

    def session(self) -> Session:
        """Return a new replica session, on a pool of this process's own."""
        if self.pid != os.getpid():
            self.engine.dispose(close=False)
            self.pid = os.getpid()
        return self.factory()


def _read_only_options(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """Return the primary's engine options (time zone, statement timeout, pre-ping)
    for the replica's URL, with PostgreSQL transactions read-only by default."""
    options = dict(options)
    if url.startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args["options"] = " ".join(
            filter(None, [connect_args.get("options"), "-c default_transaction_read_only=on"]))
        options["connect_args"] = connect_args
    return options


def _query_only(dbapi_connection, _record) -> None:
    # SQLite has no read-only transactions: the connection refuses any write instead.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def install(app: Flask) -> None:
    """Make the replica's engine and sessions for `app` from UCHET_REPLICA_URL (none
    when it is unset), replacing any made before, and close a request's replica
    session with its app context. Safe to call again after the setting changed."""
    if _close not in app.teardown_appcontext_funcs:
        app.teardown_appcontext(_close)
    previous = app.extensions.pop(KEY, None)
    if previous is not None:
        previous.engine.dispose()
    url = app.config.get("UCHET_REPLICA_URL")
    if not url:
        return
    engine = create_engine(url, **_read_only_options(
        url, app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _query_only)
    app.extensions[KEY] = Replica(engine, sessionmaker(bind=engine, class_=ReplicaSession),
                                  os.getpid())


def configured() -> bool:
    """Return True when the current app reads statistics and exports on a replica."""
    return KEY in current_app.extensions


def read_session():
    """Return the session for this request's heavy reads: the replica's (one per app
    context, read-only, closed at its end) when UCHET_REPLICA_URL is set, otherwise
    the primary's `db.session`."""
    replica = current_app.extensions.get(KEY)
    if replica is None:
        from app.extensions import db

        return db.session
    session = g.get(_SESSION)
    if session is None:
        session = replica.session()
        setattr(g, _SESSION, session)
    return session


@contextmanager
def reading() -> Iterator[Any]:
    """Yield a session of its own for a job's heavy reads: a new replica session,
    closed when the block ends, or the primary's `db.session` without a replica."""
    replica = current_app.extensions.get(KEY)
    if replica is None:
        from app.extensions import db

        yield db.session
        return
    session = replica.session()
    try:
        yield session
    finally:
        session.close()


def _close(_exc=None) -> None:
    session = g.pop(_SESSION, None)
    if session is not None:
        session.close()
