"""Ending a user's sessions and tokens when he logs out (see security.sessions)."""

from __future__ import annotations

from flask import Flask
from flask_login import user_logged_out

from models.user import AppUser
from security.sessions import bump
from services.boundary import transaction


def end_sessions(user_id: int) -> None:
    """End every session and token of user `user_id` (nothing when there is no such user)."""
    with transaction() as session:
        user = session.get(AppUser, user_id)
        if user is not None:
            bump(user)


def _on_logout(_app, user, **_extra) -> None:
    user_id = getattr(user, "id", None)
    if user_id is not None:
        end_sessions(user_id)


def install(app: Flask) -> None:
    """A logout ends every copy of the session and every token of the user."""
    user_logged_out.connect(_on_logout, app)
