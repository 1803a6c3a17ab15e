"""The second factor (TOTP, RFC 6238) for users who hold administration rights.

With UCHET_TOTP_FOR_ADMINS on, a user holding any right of the catalogue's
«admin» section (or the administrator role) must, after his password, give the
6-digit code of his authenticator app — or enrol one first — before any other
page answers. The mark that he did is kept in his session together with his
session epoch: a logout or a password change asks for the code again."""

from __future__ import annotations

import pyotp
import segno
from flask import current_app, session

from security.catalogue import load_catalogue

ISSUER = "Uchet"
MARK = "uchet_totp"


def required() -> bool:
    """Return True when the parameter asks administrators for a second factor."""
    return bool(current_app.config.get("UCHET_TOTP_FOR_ADMINS"))


def holds_admin_rights(rights) -> bool:
    """Return True when `rights` (EffectiveRights) hold the administrator role or
    any right of the «admin» section above its default."""
    if rights.is_admin:
        return True
    return any(rights.value(code) != right.default
               for code, right in load_catalogue().rights.items() if right.section == "admin")


def new_secret() -> str:
    """Return a new random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def code_is_right(secret: str, code: str) -> bool:
    """Return True when `code` is the current code of `secret` (or the one just
    before or after: clocks drift by a few seconds)."""
    code = (code or "").strip().replace(" ", "")
    return code.isdecimal() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)


def provisioning_svg(secret: str, username: str) -> str:
    """Return the enrolment QR code as inline SVG markup (no image request, no CDN)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_inline(scale=4)


def mark_verified(user) -> None:
    """Remember in the session that `user` gave his code (until his epoch changes)."""
    session[MARK] = f"{user.id}:{user.session_epoch or 0}"


def is_verified(user) -> bool:
    """Return True when this session's user gave his code since his last sign-in."""
    return session.get(MARK) == f"{user.id}:{user.session_epoch or 0}"
