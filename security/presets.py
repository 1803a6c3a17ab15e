"""Preset roles (``presets.yaml``): named bundles of right values for the demo and for
"reset a role to a preset". Checked against the catalogue when read."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from security.catalogue import (
    BASES,
    SIDES,
    Catalogue,
    CatalogueError,
    RightValueError,
    _labels,
    _read_yaml,
    load_catalogue,
)

PRESETS_PATH = Path(__file__).with_name("presets.yaml")


@dataclass(frozen=True, eq=False)
class Preset:
    """A preset role: ``rights`` as written (after ``base``), ``values`` for every right."""

    code: str
    ru: str
    en: str
    description: Mapping[str, str]
    side: str
    rights: Mapping[str, str]
    values: Mapping[str, str] = field(default_factory=dict)


def load_presets(
    path: str | Path | None = None, catalogue: Catalogue | None = None
) -> dict[str, Preset]:
    """Return the preset roles of ``path`` (default: ``presets.yaml``) keyed by code.

    Each preset is checked against ``catalogue`` (default: the default catalogue): unknown
    codes, invalid values and violated dependencies raise CatalogueError naming the preset.
    """
    if path is None and catalogue is None:
        return dict(_load_default_presets())
    return _build_presets(_read_yaml(Path(path or PRESETS_PATH)), catalogue or load_catalogue())


@functools.lru_cache(maxsize=1)
def _load_default_presets() -> dict[str, Preset]:
    return _build_presets(_read_yaml(PRESETS_PATH), load_catalogue())


def _build_presets(data: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Preset]:
    presets = {}
    for code, raw in (data.get("presets") or {}).items():
        presets[code] = _build_preset(code, raw, catalogue)
    return presets


def _build_preset(code: str, raw: Any, catalogue: Catalogue) -> Preset:
    def fail(problem: str) -> CatalogueError:
        return CatalogueError(f"preset {code}: {problem}")

    if not isinstance(raw, dict):
        raise fail("must be a mapping")
    ru, en = _labels(raw, f"preset {code}")
    description = raw.get("description") or {}
    _labels(description, f"preset {code}: description")
    if raw.get("side") not in SIDES:
        raise fail(f"side must be one of {SIDES}")
    base = raw.get("base", "default")
    if base not in BASES:
        raise fail(f"base must be one of {BASES}")
    rights = {}
    if base == "max":
        rights = {right: catalogue.most_permissive(right) for right in catalogue.rights}
    for right, value in (raw.get("rights") or {}).items():
        try:
            rights[right] = catalogue.validate_value(right, value)
        except RightValueError as exc:
            raise fail(str(exc)) from None
    side = raw["side"]
    for right, value in rights.items():
        section = catalogue.sections[catalogue.rights[right].section]
        if side not in section.sides and value != catalogue.rights[right].default:
            raise fail(f"{right}: a {side} role cannot hold rights of section {section.code}")
    problems = catalogue.check_dependencies(rights)
    if problems:
        raise fail("; ".join(problems))
    return Preset(
        code=code,
        ru=ru,
        en=en,
        description=MappingProxyType(dict(description)),
        side=raw["side"],
        rights=MappingProxyType(rights),
        values=MappingProxyType(catalogue.defaults() | rights),
    )
