"""The password policy (ASVS 5.0, V6.2): at least UCHET_PASSWORD_MIN_LENGTH
characters (10 by default), at most MAX_LENGTH (never below 64), and not one of
the 10,000 most common passwords (the list bundled with `zxcvbn`). No rules on
character classes: length and rarity are what make a password hard to guess.

FAB calls `check_password` (FAB_PASSWORD_COMPLEXITY_VALIDATOR) on every form
that sets a password: a new user, an administrator's reset, one's own change."""

from __future__ import annotations

from functools import cache

from flask import current_app
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 128
COMMON_COUNT = 10_000


@cache
def common_passwords() -> frozenset[str]:
    """Return the most common passwords, lower-cased (zxcvbn's list, by frequency)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def min_length() -> int:
    """Return the configured minimum length (never below 8)."""
    return max(8, int(current_app.config.get("UCHET_PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH)))


def check_password(password: str) -> None:
    """Raise PasswordComplexityValidationError (a Russian message shown at the
    field) unless `password` satisfies the policy."""
    password = password or ""
    if len(password) < min_length():
        raise PasswordComplexityValidationError(
            _("Пароль должен быть не короче %(n)s символов", n=min_length()))
    if len(password) > MAX_LENGTH:
        raise PasswordComplexityValidationError(
            _("Пароль должен быть не длиннее %(n)s символов", n=MAX_LENGTH))
    if password.casefold() in common_passwords():
        raise PasswordComplexityValidationError(
            _("Это один из самых распространённых паролей: его подберут первым. "
              "Выберите другой"))
