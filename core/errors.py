"""Domain errors: raised by services and the security layer, turned into HTTP
answers in one place (`app.errors` for pages and JSON, `views.base` for forms).

`app.errors.STATUS` says which HTTP status each class becomes: a broken rule 400,
a missing right 403, a row outside the user's scope 404, a stale copy 409.
"""

from __future__ import annotations

from flask_babel import gettext as _


class UchetError(Exception):
    """A refused operation; `str(error)` is a user-facing (Russian) message and
    `field`, when set, names the form field the message belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class ValidationError(UchetError):
    """The input breaks a rule; nothing was saved."""


class ScopeError(UchetError):
    """The row would fall outside the user's data scope."""


class Forbidden(UchetError):
    """The user lacks the right the operation needs (HTTP 403)."""


class NotFound(UchetError):
    """The row does not exist or lies outside the user's scope (HTTP 404)."""


class Conflict(UchetError):
    """The row changed since the user read it (HTTP 409)."""


class PolicyRefused(ValidationError):
    """A forbidding policy stopped the save. `journal` holds the decisions to record
    once the save is rolled back (the command boundary writes them on their own)."""

    def __init__(self, message: str, *, field: str | None = None,
                 journal: tuple = ()) -> None:
        super().__init__(message, field=field)
        self.journal = tuple(journal)


class ConfirmationRequired(ValidationError):
    """The save is allowed only once the user confirms `warnings` (Russian
    sentences); nothing was saved. `str()` is the screen's message, which asks for
    «Подтверждаю»; `api_message` tells an API caller how to confirm instead."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = list(warnings)
        super().__init__(_("Требуется подтверждение: %(w)s. Чтобы сохранить, отметьте "
                           "«Подтверждаю»", w="; ".join(self.warnings)))

    @property
    def api_message(self) -> str:
        """Return the message for an API caller, who confirms with a parameter."""
        return _("%(m)s (в API — параметр confirm=1)", m=self.message)
