"""Who is acting: the signed-in user of the request, or whoever a CLI command or
the demo loader said (`set_actor`). Read by the journal and the policy decisions."""

from __future__ import annotations

import contextvars

from flask import g, has_request_context

# Who acts outside a request (CLI commands, demo loader).
_actor: contextvars.ContextVar[tuple[int | None, str]] = contextvars.ContextVar(
    "journal_actor", default=(None, "system")
)


def set_actor(user_id: int | None, username: str) -> contextvars.Token:
    """Set who is acting outside a request; returns the token for reset_actor."""
    return _actor.set((user_id, username))


def reset_actor(token: contextvars.Token) -> None:
    """Restore the actor set before `set_actor`."""
    _actor.reset(token)


def current_actor() -> tuple[int | None, str]:
    """Return (user id, username) of whoever is making the change."""
    if has_request_context():
        user = getattr(g, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id, user.username
    return _actor.get()
