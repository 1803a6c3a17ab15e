"""The imports there are, by code: each declared once (an `ImportSpec`), listed here."""

from __future__ import annotations

from services.imports.framework.spec import ImportSpec

_SPECS: dict[str, ImportSpec] = {}


def register(spec: ImportSpec) -> ImportSpec:
    """Add an import to the registry; return it."""
    _SPECS[spec.code] = spec
    return spec


def get(code: str) -> ImportSpec | None:
    """Return the import with this code, or None."""
    _load()
    return _SPECS.get(code)


def every() -> list[ImportSpec]:
    """Return every import, in the order of the «Импорт» page."""
    _load()
    return list(_SPECS.values())


def available(rights) -> list[ImportSpec]:
    """Return the imports `rights` allow."""
    return [spec for spec in every() if spec.allowed(rights)]


def _load() -> None:
    if not _SPECS:
        from services.imports import catalog  # noqa: F401  - registers the imports
