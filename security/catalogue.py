"""The rights catalogue (``catalogue.yaml``).

Rights are data: this module reads and checks the two files and answers questions about
values (is it valid, how permissive is it, what does it merge to, what is it called). It never
lists rights itself.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")


NUMBER, CHOICE = "number", "choice"
KINDS = ("access", "scope", "flag", "policy", NUMBER, CHOICE)
UNITS = ("days", "hours", "amount", "count")
MERGES = ("max", "union")
SIDES = ("back_office", "cabinet")
LANGS = ("ru", "en")
BASES = ("default", "max")

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_DIGITS = re.compile(r"[0-9]+")
_UNLIMITED = {"ru": "без ограничений", "en": "unlimited"}


class CatalogueError(ValueError):
    """The catalogue or presets file is malformed; the message names the right or preset."""


class RightValueError(ValueError):
    """A right code is unknown, or a value is not allowed for the right."""


@dataclass(frozen=True)
class Choice:
    """One allowed value of a right, with its labels."""

    code: str
    ru: str
    en: str


@dataclass(frozen=True)
class Kind:
    """A shared value set; ``values`` is empty for number and choice kinds."""

    code: str
    values: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Section:
    """A group of rights as the role editor shows it."""

    code: str
    ru: str
    en: str
    # Which sides of the business may hold these rights: a cabinet (client-side)
    # role never holds a back-office right, so it never reaches those screens.
    sides: tuple[str, ...] = ("back_office", "cabinet")


@dataclass(frozen=True)
class Dependency:
    """When the owning right is >= ``when``, right ``right`` must be >= ``min``."""

    right: str
    min: str
    when: str


@dataclass(frozen=True)
class Right:
    """One right of the catalogue; ``values`` are ordered from least to most permissive."""

    code: str
    section: str
    ru: str
    en: str
    kind: str
    values: tuple[str, ...]
    default: str
    governs: str = ""
    note: str = ""
    depends: tuple[Dependency, ...] = ()
    inherit_from: str | None = None
    unit: str | None = None
    zero_unlimited: bool = False
    merge: str = "max"
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Sections and rights in file order, keyed by code."""

    kinds: Mapping[str, Kind]
    sections: Mapping[str, Section]
    rights: Mapping[str, Right]

    def right(self, code: str) -> Right:
        """Return the right ``code``; raise RightValueError if there is none."""
        try:
            return self.rights[code]
        except KeyError:
            raise RightValueError(f"unknown right {code!r}") from None

    def validate_value(self, code: str, value: object) -> str:
        """Return ``value`` normalised (numbers as a decimal string).

        Raises RightValueError naming the code and value if either is not allowed.
        """
        right = self.right(code)
        normalised = _normalise(right.kind, right.values, value)
        if normalised is None:
            raise RightValueError(f"right {code}: invalid value {value!r}")
        return normalised

    def rank(self, code: str, value: object) -> float:
        """Return how permissive ``value`` is: its index in ``values``, or the number itself.

        A zero of a ``zero_unlimited`` number ranks as math.inf. Raises RightValueError.
        """
        right = self.right(code)
        normalised = self.validate_value(code, value)
        if right.kind != NUMBER:
            return right.values.index(normalised)
        number = int(normalised)
        return math.inf if number == 0 and right.zero_unlimited else number

    def merge(self, code: str, values: Iterable[object]) -> str | frozenset[str]:
        """Return what several roles' values of ``code`` combine to.

        The most permissive value for ``merge: max`` rights (the default when ``values`` is
        empty); a frozenset of the values for ``merge: union`` rights (``{default}`` when empty).
        Raises RightValueError for an unknown code or an invalid value.
        """
        right = self.right(code)
        normalised = [self.validate_value(code, value) for value in values]
        if right.merge == "union":
            return frozenset(normalised or [right.default])
        if not normalised:
            return right.default
        return max(normalised, key=lambda value: self.rank(code, value))

    def check_dependencies(self, values: Mapping[str, object]) -> list[str]:
        """Return one Russian message per dependency that ``values`` violate ([] if none).

        Rights missing from ``values`` hold their default. Raises RightValueError for an
        unknown code or an invalid value.
        """
        current = {code: self.validate_value(code, value) for code, value in values.items()}
        problems = []
        for right in self.rights.values():
            value = current.get(right.code, right.default)
            for dep in right.depends:
                if self.rank(right.code, value) < self.rank(right.code, dep.when):
                    continue
                other = self.rights[dep.right]
                other_value = current.get(other.code, other.default)
                if self.rank(other.code, other_value) >= self.rank(other.code, dep.min):
                    continue
                problems.append(
                    f"Право «{right.ru}» = «{self.label(right.code, value)}» требует право "
                    f"«{other.ru}» не ниже «{self.label(other.code, dep.min)}»"
                )
        return problems

    def label(self, code: str, value: object, lang: str = "ru") -> str:
        """Return the label of ``value`` of right ``code`` in ``lang`` ("ru" or "en").

        Raises RightValueError for an unknown code or invalid value, ValueError for a language.
        """
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}")
        right = self.right(code)
        normalised = self.validate_value(code, value)
        if right.kind == NUMBER:
            return _UNLIMITED[lang] if normalised == "0" and right.zero_unlimited else normalised
        choice = next(choice for choice in right.choices if choice.code == normalised)
        return getattr(choice, lang)

    def defaults(self) -> dict[str, str]:
        """Return every right's default value, keyed by code."""
        return {code: right.default for code, right in self.rights.items()}

    def most_permissive(self, code: str) -> str:
        """Return the most permissive value of ``code``.

        For numbers: 0 when zero means unlimited, else the default. Raises RightValueError.
        """
        right = self.right(code)
        if right.kind == NUMBER:
            return "0" if right.zero_unlimited else right.default
        return right.values[-1]

    def section_rights(self, section: str) -> list[Right]:
        """Return the rights of ``section`` in file order ([] for an unknown section)."""
        return [right for right in self.rights.values() if right.section == section]


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Return the catalogue read from ``path`` (default: ``catalogue.yaml``, read once).

    Raises CatalogueError naming the offending right for any problem in the file, OSError if it
    cannot be read.
    """
    if path is None:
        return _load_default_catalogue()
    return _build_catalogue(_read_yaml(Path(path)))


@functools.lru_cache(maxsize=1)
def _load_default_catalogue() -> Catalogue:
    return _build_catalogue(_read_yaml(CATALOGUE_PATH))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        # libyaml's loader when built in: the same safe loading, ten times faster.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping at the top level")
    return data


def _yes_no(value: object) -> object:
    """Return "yes"/"no" for a bool (YAML 1.1 reads unquoted yes/no so), else ``value``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _normalise(kind: str, values: tuple[str, ...], value: object) -> str | None:
    """Return ``value`` in canonical form, or None if the kind does not allow it."""
    if kind == NUMBER:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return str(value) if value >= 0 else None
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            return str(int(value))
        return None
    value = _yes_no(value)
    return value if isinstance(value, str) and value in values else None


def _labels(raw: Any, where: str) -> tuple[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(lang), str) for lang in LANGS):
        raise CatalogueError(f"{where}: needs ru and en labels")
    return raw["ru"], raw["en"]


def _choice(raw: Any, where: str) -> Choice:
    code = _yes_no(raw.get("code")) if isinstance(raw, dict) else None
    if not isinstance(code, str) or not code:
        raise CatalogueError(f"{where}: value without a code")
    return Choice(code, *_labels(raw, f"{where}: value {code}"))


def _build_kinds(raw: Any, labels: Any) -> dict[str, Kind]:
    if not isinstance(raw, dict) or not isinstance(labels, dict):
        raise CatalogueError("kinds and value_labels must be mappings")
    kinds = {}
    for code, spec in raw.items():
        if code not in KINDS:
            raise CatalogueError(f"kind {code!r}: unknown kind")
        names = (spec or {}).get("values", [])
        if (code in (NUMBER, CHOICE)) == bool(names):
            raise CatalogueError(f"kind {code}: only access/scope/flag/policy list values")
        choices = []
        for name in map(_yes_no, names):
            where = f"kind {code}: value {name}"
            choices.append(Choice(str(name), *_labels(labels.get(code, {}).get(name), where)))
        kinds[code] = Kind(code, tuple(choices))
    return kinds


def _build_sections(raw: Any) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    for item in raw or []:
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or code in sections:
            raise CatalogueError(f"section {code!r}: missing or duplicate code")
        sides = tuple(item.get("sides") or SIDES)
        if not set(sides) <= set(SIDES):
            raise CatalogueError(f"section {code}: sides must be among {SIDES}")
        sections[code] = Section(code, *_labels(item, f"section {code}"), sides=sides)
    return sections


def _build_right(raw: Any, kinds: Mapping[str, Kind], sections: Mapping[str, Section]) -> Right:
    code = raw.get("code") if isinstance(raw, dict) else None
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise CatalogueError(f"right {code!r}: code must be lowercase and dotted")

    def fail(problem: str) -> CatalogueError:
        return CatalogueError(f"right {code}: {problem}")

    ru, en = _labels(raw, f"right {code}")
    if raw.get("section") not in sections:
        raise fail(f"unknown section {raw.get('section')!r}")
    kind = raw.get("kind")
    if kind not in kinds:
        raise fail(f"unknown kind {kind!r}")
    if kind == CHOICE:
        choices = tuple(_choice(item, f"right {code}") for item in raw.get("values") or [])
        if not choices:
            raise fail("a choice right must list its values")
    elif "values" in raw:
        raise fail("only choice rights list their values")
    else:
        choices = kinds[kind].values
    values = tuple(choice.code for choice in choices)
    merge = raw.get("merge", "max")
    if merge not in MERGES or (merge == "union" and kind != CHOICE):
        raise fail(f"invalid merge {merge!r}")
    if (kind == NUMBER) != ("unit" in raw) or raw.get("unit", UNITS[0]) not in UNITS:
        raise fail(f"number rights, and only they, need a unit of {UNITS}")
    if raw.get("zero_unlimited") and kind != NUMBER:
        raise fail("zero_unlimited applies to number rights only")
    if "views" in raw:
        # Screens name the right that governs them (`governing_right`); a list
        # here would only drift from them.
        raise fail("views are declared on the screens (governing_right), not here")
    default = _normalise(kind, values, raw.get("default"))
    if default is None:
        allowed = "a non-negative integer" if kind == NUMBER else f"one of {values}"
        raise fail(f"default {raw.get('default')!r} must be {allowed}")
    depends = []
    for item in raw.get("depends") or []:
        if not isinstance(item, dict) or not {"right", "min", "when"} <= item.keys():
            raise fail("a dependency needs right, min and when")
        when = _normalise(kind, values, item["when"])
        if when is None:
            raise fail(f"dependency on {item['right']}: invalid when {item['when']!r}")
        depends.append(Dependency(item["right"], item["min"], when))
    return Right(
        code=code,
        section=raw["section"],
        ru=ru,
        en=en,
        kind=kind,
        values=values,
        default=default,
        governs=raw.get("governs") or "",
        note=raw.get("note") or "",
        depends=tuple(depends),
        inherit_from=raw.get("inherit_from"),
        unit=raw.get("unit"),
        zero_unlimited=bool(raw.get("zero_unlimited", False)),
        merge=merge,
        choices=choices,
    )


def _link(right: Right, rights: Mapping[str, Right]) -> Right:
    """Return ``right`` with dependency minimums normalised; check the rights it names."""
    depends = []
    for dep in right.depends:
        other = rights.get(dep.right)
        if other is None or other is right:
            raise CatalogueError(f"right {right.code}: dependency on unknown right {dep.right!r}")
        minimum = _normalise(other.kind, other.values, dep.min)
        if minimum is None:
            raise CatalogueError(f"right {right.code}: invalid min {dep.min!r} for {other.code}")
        depends.append(replace(dep, min=minimum))
    source = rights.get(right.inherit_from or "")
    if right.inherit_from is not None and (
        source is None
        or source is right
        or (source.kind, source.values) != (right.kind, right.values)
    ):
        raise CatalogueError(
            f"right {right.code}: inherit_from {right.inherit_from!r} is unknown or of another kind"
        )
    return replace(right, depends=tuple(depends))


def _build_catalogue(data: Mapping[str, Any]) -> Catalogue:
    if data.get("version") != 1:
        raise CatalogueError(f"unsupported catalogue version {data.get('version')!r}")
    kinds = _build_kinds(data.get("kinds"), data.get("value_labels") or {})
    sections = _build_sections(data.get("sections"))
    rights: dict[str, Right] = {}
    for raw in data.get("rights") or []:
        right = _build_right(raw, kinds, sections)
        if right.code in rights:
            raise CatalogueError(f"right {right.code}: duplicate code")
        rights[right.code] = right
    linked = {code: _link(right, rights) for code, right in rights.items()}
    return Catalogue(MappingProxyType(kinds), MappingProxyType(sections), MappingProxyType(linked))
