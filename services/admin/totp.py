"""Enrolling and checking a user's second factor (security.totp)."""

from __future__ import annotations

from sqlalchemy import select

from models.security_log import UserTotp
from security import totp
from services.admin.security_log import record
from services.boundary import transaction


def secret_of(user_id: int) -> str | None:
    """Return the enrolled TOTP secret of user `user_id`, or None."""
    with transaction() as session:
        return session.scalar(select(UserTotp.secret).where(UserTotp.user_id == user_id))


def enrol(user, secret: str, code: str) -> bool:
    """Store `secret` as the user's second factor once he proves his app holds it.

    Returns False (and journals the failure) when `code` is not its current code:
    a refusal would roll the journal entry back with it."""
    if not totp.code_is_right(secret, code):
        record("totp_failed", target=user, detail="enrol")
        return False
    with transaction() as session:
        stored = session.get(UserTotp, user.id)
        if stored is None:
            session.add(UserTotp(user_id=user.id, secret=secret))
        else:
            stored.secret = secret
    record("totp_enrolled", target=user)
    return True


def verify(user, code: str) -> bool:
    """Return True when `code` is the current code of the user's enrolled secret;
    otherwise journal the failure and return False."""
    secret = secret_of(user.id)
    if secret is None or not totp.code_is_right(secret, code):
        record("totp_failed", target=user)
        return False
    return True
