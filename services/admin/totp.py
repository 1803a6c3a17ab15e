"""Enrolling and checking a user's second factor (security.totp): the secret is
stored encrypted, the recovery codes as keyed hashes, each usable once."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from models.security_log import UserTotp
from security import totp
from security.effective import resolve
from services.admin.security_log import record
from services.boundary import transaction


def secret_of(user_id: int) -> str | None:
    """Return the enrolled TOTP secret of user `user_id` (decrypted), or None when
    he has none or it does not open with this SECRET_KEY."""
    with transaction() as session:
        stored = session.scalar(select(UserTotp.secret).where(UserTotp.user_id == user_id))
    return totp.unseal(stored) if stored is not None else None


def is_enrolled(user_id: int) -> bool:
    """Return True when the user has a second factor that opens with this SECRET_KEY."""
    return secret_of(user_id) is not None


def enrol(user, secret: str, code: str) -> list[str] | None:
    """Store `secret` (encrypted) as the user's second factor once he proves his
    app holds it, with new recovery codes (replacing any earlier ones).

    Returns the recovery codes in clear — the only time they are seen — or None
    (and journals the failure) when `code` is not the secret's current code: a
    refusal would roll the journal entry back with it."""
    step = totp.matched_step(secret, code)
    if step is None:
        record("totp_failed", target=user, detail="enrol")
        return None
    codes = totp.new_recovery_codes()
    hashes = " ".join(totp.recovery_hash(one) for one in codes)
    with transaction() as session:
        stored = session.get(UserTotp, user.id)
        if stored is None:
            session.add(UserTotp(user_id=user.id, secret=totp.seal(secret), recovery=hashes,
                                 last_step=step))
        else:
            stored.secret, stored.recovery = totp.seal(secret), hashes
            stored.last_step = step
    record("totp_enrolled", target=user)
    return codes


def _use_recovery(user, code: str) -> bool:
    """Consume the recovery code `code` of the user; return whether it was unused."""
    wanted = totp.recovery_hash(code)
    with transaction() as session:
        stored = session.get(UserTotp, user.id, with_for_update=True)
        left = (stored.recovery or "").split() if stored is not None else []
        if wanted not in left:
            return False
        left.remove(wanted)
        stored.recovery = " ".join(left) or None
    record("totp_recovery_used", target=user, username=user.username, user_id=user.id,
           detail=str(len(left)))
    return True


def _use_code(user, secret: str, code: str) -> bool:
    """Accept `code` when it is a current code of `secret` newer than the last code
    the user gave (recorded as used); return whether it was accepted. The row is
    locked so that two sign-ins racing with one code cannot both pass."""
    step = totp.matched_step(secret, code)
    if step is None:
        return False
    with transaction() as session:
        stored = session.get(UserTotp, user.id, with_for_update=True)
        if stored is None or (stored.last_step is not None and step <= stored.last_step):
            return False
        stored.last_step = step
    return True


def verify(user, code: str) -> bool:
    """Return True when `code` is a current code of the user's enrolled secret not
    given before (a code admits once), or one of his unused recovery codes (which
    is then used up); otherwise journal the failure and return False."""
    secret = secret_of(user.id)
    if secret is not None and totp.looks_like_recovery(code) and _use_recovery(user, code):
        return True
    if secret is None or not _use_code(user, secret, code):
        # Named explicitly: an API sign-in has no signed-in actor yet.
        record("totp_failed", target=user, username=user.username, user_id=user.id)
        return False
    return True


def code_required(user) -> bool:
    """Return True when `user` must give the second factor's code: the parameter
    is on and he holds administration rights."""
    return totp.required() and totp.holds_admin_rights(
        resolve(current_app.appbuilder.session, user))


def api_sign_in_refusal(user, code: str | None) -> str | None:
    """Return why `user`, whose password was right and who must give the second
    factor (`code_required`), gets no API token with `code` (Russian), or None when
    `code` is his current code or an unused recovery code (which is then used up).
    A wrong code is journaled."""
    if not is_enrolled(user.id):
        return _("Подключите второй фактор: войдите на сайт и отсканируйте QR-код")
    if not (code or "").strip():
        return _("Нужен код второго фактора (поле totp)")
    if not verify(user, code):
        return _("Неверный код второго фактора")
    return None
