"""The second factor (TOTP, RFC 6238) for users who hold administration rights.

With UCHET_TOTP_FOR_ADMINS on, a user holding any right of the catalogue's
«admin» section (or the administrator role) must, after his password, give the
6-digit code of his authenticator app — or enrol one first — before any other
page answers. The mark that he did is kept in his session together with his
session epoch: a logout or a password change asks for the code again."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session

from security.catalogue import load_catalogue
from security.effective import resolve

ISSUER = "Uchet"
MARK = "uchet_totp"
#: The JWT claim of a token issued after the second factor's code was given.
CLAIM = "totp"
#: Recovery codes given at enrolment, each good for one sign-in without the phone.
RECOVERY_CODES = 10


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


def matched_step(secret: str, code: str) -> int | None:
    """Return the time step (30-second counter) whose code of `secret` is `code`:
    the current one or the one just before or after (clocks drift by a few
    seconds); None when `code` is none of them."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdecimal() and len(code) == 6):
        return None
    generator = pyotp.TOTP(secret)
    now = generator.timecode(dt.datetime.now(dt.UTC))
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(generator.generate_otp(step), code):
            return step
    return None


def code_is_right(secret: str, code: str) -> bool:
    """Return True when `code` is the current code of `secret` (or the one just
    before or after)."""
    return matched_step(secret, code) is not None


def provisioning_svg(secret: str, username: str) -> str:
    """Return the enrolment QR code as inline SVG markup (no image request, no CDN)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_inline(scale=4)


def token_lacks_code(user, claims: dict) -> bool:
    """Return True when a JWT with `claims` was issued to `user` without his code
    though he must give one (issued before the parameter was switched on, or before
    he held administration rights): such a token admits nothing."""
    if claims.get(CLAIM) or not required():
        return False
    return holds_admin_rights(resolve(current_app.appbuilder.session, user))


def mark_verified(user) -> None:
    """Remember in the session that `user` gave his code (until his epoch changes)."""
    session[MARK] = f"{user.id}:{user.session_epoch or 0}"


def is_verified(user) -> bool:
    """Return True when this session's user gave his code since his last sign-in."""
    return session.get(MARK) == f"{user.id}:{user.session_epoch or 0}"


def _key(purpose: bytes) -> bytes:
    """Return 32 bytes derived from SECRET_KEY for `purpose` (HKDF-SHA256): the
    database alone (a dump, a backup) then reveals neither secrets nor codes."""
    secret_key = str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"uchet-totp",
                info=purpose).derive(secret_key)


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(b"totp secret")))


def seal(secret: str) -> str:
    """Return `secret` encrypted (and authenticated) for storage (Fernet, AES-128-CBC
    with HMAC-SHA256, under a key derived from SECRET_KEY)."""
    return _fernet().encrypt(secret.encode()).decode()


def unseal(stored: str) -> str | None:
    """Return the secret `stored` by `seal`, or None when it does not open with
    this SECRET_KEY (changed key, tampered row): the user enrols again."""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def new_recovery_codes() -> list[str]:
    """Return RECOVERY_CODES new codes like "3f9a1-c07b2" (40 random bits each)."""
    return [f"{token[:5]}-{token[5:]}"
            for token in (secrets.token_hex(5) for _ in range(RECOVERY_CODES))]


def recovery_hash(code: str) -> str:
    """Return the stored form of a recovery code: HMAC-SHA256 under a key derived
    from SECRET_KEY of the code without spaces, dashes or case. The codes are
    random, so a keyed hash suffices (no slow password hash is needed)."""
    plain = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hmac.new(_key(b"totp recovery"), plain.encode(), hashlib.sha256).hexdigest()


def looks_like_recovery(code: str) -> bool:
    """Return True when `code` has the shape of a recovery code (not six digits)."""
    plain = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return len(plain) == 10 and all(ch in "0123456789abcdef" for ch in plain)
