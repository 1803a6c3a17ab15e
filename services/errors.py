"""Domain errors, kept here under their old import path: they live in the bottom
layer (`core.errors`) so that the security layer can raise them too."""

from core.errors import (  # noqa: F401  (re-exported)
    ConfirmationRequired,
    Conflict,
    Forbidden,
    NotFound,
    PolicyRefused,
    ScopeError,
    UchetError,
    ValidationError,
)
