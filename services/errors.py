"""Domain errors: raised by services, turned into flash messages / HTTP 400 in one place."""

from __future__ import annotations


class UchetError(Exception):
    """A refused operation; `str(error)` is a user-facing (Russian) message."""

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


class NeedsConfirmation(ValidationError):
    """The input is allowed only once the user confirms the listed warnings; nothing
    was saved. `warnings` holds them, each a Russian sentence."""

    def __init__(self, warnings: list[str]) -> None:
        from flask_babel import gettext as _

        self.warnings = list(warnings)
        super().__init__(_("Требуется подтверждение: %(w)s. Чтобы сохранить, отметьте "
                           "«Подтверждаю» (в API — параметр confirm=1)",
                           w="; ".join(self.warnings)))
