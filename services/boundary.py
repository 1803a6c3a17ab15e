"""The command boundary: one business operation is one unit of work.

    @command
    def copy_role(session, role_id, new_name): ...      # validates, then writes

    with transaction(session):                          # a screen runs an operation
        done = split_to_patient(session, line, n, rights, user_id)

Whatever runs inside commits once, when it returns, and rolls back when it
raises, whatever it raised; helpers and rules never commit. Commands called by
a command join its transaction (only the outermost commits). A refusal that
carries policy decisions (`PolicyRefused.journal`) is journaled after the
rollback in a short transaction of its own: the save is gone, the refusal stays.

Views turn what a command raises into an answer in one place each: forms in
`views.base` (the form again, the message at its field), everything else in
`app.errors` (status from the error class). Superset's `@transaction` is the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.orm import Session, scoped_session

from core.errors import PolicyRefused

T = TypeVar("T")

_depth: ContextVar[int] = ContextVar("uchet_command_depth", default=0)


def _default_session():
    from app.extensions import db

    return db.session


@contextmanager
def transaction(session=None) -> Iterator[Any]:
    """Run the block as one unit of work on `session` (the app's by default) and
    yield the session: commit when the block ends, roll back when it raises (and
    re-raise). Inside another transaction the block joins it."""
    session = session if session is not None else _default_session()
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException as exc:
        if depth == 0:
            refused(session, exc)
        raise
    finally:
        _depth.reset(token)


def in_transaction() -> bool:
    """Return True inside `transaction` (a unit of work that would join, not commit)."""
    return _depth.get() > 0


def command(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a business operation whose first argument is the session: it runs
    inside `transaction(session)`. Returns what the operation returns."""

    @functools.wraps(fn)
    def run(*args, **kwargs) -> T:
        session = args[0] if args and isinstance(args[0], (Session, scoped_session)) else None
        with transaction(session):
            return fn(*args, **kwargs)

    return run


def run_command(fn: Callable[..., T], *args, session=None, **kwargs) -> T:
    """Run `fn(*args, **kwargs)` as one unit of work; returns its result."""
    with transaction(session):
        return fn(*args, **kwargs)


def refused(session, exc: BaseException) -> None:
    """Roll the refused work back, then write the decisions the refusal carries in a
    transaction of their own. For the hooks FAB runs outside `transaction` (its REST
    API and delete), which end a refused save through this."""
    session.rollback()
    entries = getattr(exc, "journal", ()) if isinstance(exc, PolicyRefused) else ()
    if not entries:
        return
    session.add_all(list(entries))
    session.commit()
