"""An import as a declaration: what it loads, its columns, its natural key, its right.

`ImportSpec` is the contract every import fulfils for the engine: `plan_batch` checks a
batch of rows and writes what is valid in the session's transaction (the engine rolls
the whole run back for a preview or on any error). `ModelImport` implements it for
imports of one model whose rows are checked by the same service rule as the screen's
form (`check`), inserted or updated by a natural key, and left alone when unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask_babel import gettext as _

from core.errors import UchetError
from services.imports.framework import values as cell
from services.imports.framework.reader import Column, looks_like_formula

PREVIEW_ROWS = 200
MAX_ERRORS = 1000  # errors kept for the screen; the count is always exact


@dataclass(frozen=True, slots=True)
class RowError:
    """A rule a row breaks: its line in the file, the column header and a Russian message."""

    line: int
    column: str
    message: str


@dataclass(slots=True)
class Outcome:
    """What happens to one row: action "insert", "update", "same" or "error"."""

    line: int
    action: str
    values: tuple = ()
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Report:
    """What an import did (or, for a preview, would do)."""

    kind: str
    filename: str
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[Outcome] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when no row breaks a rule."""
        return not self.error_rows

    def add(self, outcome: Outcome) -> None:
        """Count one row's outcome, keep it for the preview and its errors for the screen."""
        self.total += 1
        if outcome.action == "error":
            self.error_rows += 1
            room = MAX_ERRORS - len(self.errors)
            if room > 0:
                self.errors.extend(outcome.errors[:room])
        else:
            setattr(self, _COUNTERS[outcome.action],
                    getattr(self, _COUNTERS[outcome.action]) + 1)
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(outcome)

    def as_json(self) -> dict:
        """Return the report as JSON-safe data (for a job's result)."""
        return {
            "kind": self.kind, "filename": self.filename, "total": self.total,
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "error_rows": self.error_rows, "extra": self.extra,
            "errors": [[e.line, e.column, e.message] for e in self.errors],
            "preview": [[o.line, o.action, [cell.shown(v) for v in o.values],
                         [[e.column, e.message] for e in o.errors]] for o in self.preview],
        }

    @classmethod
    def from_json(cls, data: dict) -> Report:
        """Return the report `as_json` gave."""
        report = cls(data["kind"], data["filename"], data["total"], data["inserted"],
                     data["updated"], data["unchanged"], data["error_rows"],
                     [RowError(*e) for e in data["errors"]], extra=data.get("extra", {}))
        report.preview = [Outcome(line, action, tuple(values),
                                  [RowError(line, c, m) for c, m in errors])
                          for line, action, values, errors in data["preview"]]
        return report


_COUNTERS = {"insert": "inserted", "update": "updated", "same": "unchanged"}


class RowProblem(Exception):
    """A cell that cannot be used: the column key and a Russian message."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def refuse_formulas(row: dict, keys) -> None:
    """Raise RowProblem at the first cell of `keys` in `row` that looks like a
    formula: text typed as «=…» is never loaded (it would run where exported)."""
    for key in keys:
        if looks_like_formula(row.get(key)):
            raise formula_problem(key)


def formula_problem(key: str) -> RowProblem:
    """Return the refusal of a formula in the column `key`."""
    return RowProblem(key, _("Значение похоже на формулу: формулы не загружаются"))


class ImportSpec:
    """One import. Subclasses declare the class attributes and implement `plan_batch`."""

    code: ClassVar[str]
    title: ClassVar[Any]           # lazy Russian name, shown on the «Импорт» page
    right: ClassVar[str]           # the catalogue right that allows it
    minimum: ClassVar[str | None] = None
    columns: ClassVar[tuple[Column, ...]]
    key: ClassVar[tuple[str, ...]]  # the column keys that identify a row (idempotence)
    batch_size: ClassVar[int] = 500
    nothing: ClassVar[Any] = None   # the message for a file without data rows
    #: the form offers «Закрыть цены прежнего периода» (a new price ends the open one).
    closes_open_prices: ClassVar[bool] = False

    def allowed(self, rights) -> bool:
        """Return True when `rights` allow this import."""
        return rights.allows(self.right, self.minimum)

    def header(self, key: str) -> str:
        """Return the Russian header of the column `key`."""
        return next(c.header for c in self.columns if c.key == key)

    def start(self, session, rights) -> Any:
        """Return the context every batch shares (lookups made once). Reads only."""
        return {"rights": rights}

    def plan_batch(self, session, ctx, batch: Sequence[tuple[int, list]]) -> list[Outcome]:
        """Check the batch's rows, write the valid ones in the session's transaction and
        return one outcome per row."""
        raise NotImplementedError

    def finish(self, session, ctx, report: Report) -> None:
        """Called once after the last batch when no row failed (e.g. to journal a bulk write)."""


class ModelImport(ImportSpec):
    """An import of one model: convert a row into attribute values, find the stored row
    by the natural key, insert / update / leave it, checked by the screen's service rule."""

    model: ClassVar[type]
    #: model attribute -> column key, to put a service rule's `field=` at its column.
    field_columns: ClassVar[dict[str, str]] = {}
    #: column keys whose text must not look like a formula.
    text_columns: ClassVar[tuple[str, ...]] = ()

    def model_of(self, attrs: dict) -> type:
        """Return the model a new row of these attribute values is (one model by default)."""
        return self.model

    def prefetch(self, session, ctx, rows: list[dict]) -> None:
        """Resolve the batch's codes in bulk into `ctx` (one query per reference book)."""

    def convert(self, session, ctx, row: dict) -> tuple[tuple, dict]:
        """Return (natural key, attribute values) of a row. Raises RowProblem."""
        raise NotImplementedError

    def existing(self, session, ctx, keys: list[tuple]) -> dict[tuple, Any]:
        """Return {natural key: stored object} of the keys found. Reads only."""
        raise NotImplementedError

    def check(self, session, ctx, obj) -> None:
        """Run the screen's service rule on `obj`. Raises ValidationError."""

    def store(self, session, ctx, obj, values: dict, *, new: bool) -> None:
        """Write a checked row: add a new object (journaled by the session hook)."""
        if new:
            session.add(obj)
            ctx.setdefault("_written", []).append(obj)

    def plan_batch(self, session, ctx, batch):
        """See ImportSpec.plan_batch: per row convert → compare → check → store."""
        keys = [c.key for c in self.columns]
        rows = [dict(zip(keys, values, strict=True)) for _line, values in batch]
        self.prefetch(session, ctx, rows)
        converted: list[tuple[int, tuple, Any]] = []
        for (line, values), row in zip(batch, rows, strict=True):
            try:
                refuse_formulas(row, self.text_columns)
                converted.append((line, tuple(values), self.convert(session, ctx, row)))
            except RowProblem as problem:
                converted.append((line, tuple(values), problem))
        found = self.existing(session, ctx, [c[2][0] for c in converted
                                             if not isinstance(c[2], RowProblem)])
        outcomes = []
        for line, values, result in converted:
            if isinstance(result, RowProblem):
                outcomes.append(self._error(line, values, result.key, result.message))
                continue
            outcomes.append(self._apply(session, ctx, line, values, result, found))
        session.flush()
        # Written rows leave the identity map: memory stays flat however long the file.
        for obj in [*ctx.pop("_written", ()), *found.values()]:
            if obj in session and not session.is_modified(obj):
                session.expunge(obj)
        return outcomes

    def _apply(self, session, ctx, line, values, result, found) -> Outcome:
        key, attrs = result
        seen = ctx.setdefault("_seen", {})
        if key in seen:
            return self._error(line, values, self.key[0], _(
                "Повтор строки %(line)s: %(what)s", line=seen[key],
                what=", ".join(self.header(k) for k in self.key)))
        seen[key] = line
        obj = found.get(key)
        if obj is not None:
            before = {k: getattr(obj, k) for k in attrs}
            if all(before[k] == v for k, v in attrs.items()):
                return Outcome(line, "same", values)
            with session.no_autoflush:
                for k, v in attrs.items():
                    setattr(obj, k, v)
                try:
                    self.check(session, ctx, obj)
                except UchetError as exc:
                    for k, v in before.items():
                        setattr(obj, k, v)
                    return self._refused(line, values, exc)
            self.store(session, ctx, obj, attrs, new=False)
            return Outcome(line, "update", values)
        obj = self.model_of(attrs)(**attrs)
        try:
            self.check(session, ctx, obj)
        except UchetError as exc:
            return self._refused(line, values, exc)
        self.store(session, ctx, obj, attrs, new=True)
        return Outcome(line, "insert", values)

    def _refused(self, line, values, exc: UchetError) -> Outcome:
        """Return the row's error for a refusal of the rules (ValidationError, Forbidden,
        NotFound, Conflict: each says why in Russian), at its field's column."""
        column = self.field_columns.get(getattr(exc, "field", None) or "", self.key[0])
        return self._error(line, values, column, str(exc))

    def _error(self, line, values, key, message) -> Outcome:
        return Outcome(line, "error", values, [RowError(line, self.header(key), message)])


# --- helpers for convert -------------------------------------------------------------------


def required_text(row: dict, key: str, max_length: int | None = None) -> str:
    """Return the trimmed text of a required cell. Raises RowProblem when it is empty or long."""
    value = cell.text(row.get(key))
    if not value:
        raise RowProblem(key, _("Не заполнено"))
    return optional_text(row, key, max_length) or value


def optional_text(row: dict, key: str, max_length: int | None = None) -> str | None:
    """Return the trimmed text of a cell or None. Raises RowProblem when it is too long."""
    value = cell.text(row.get(key))
    if max_length is not None and len(value) > max_length:
        raise RowProblem(key, _("Больше %(n)s знаков", n=max_length))
    return value or None


def required_date(row: dict, key: str):
    """Return the date of a required cell. Raises RowProblem."""
    if cell.blank(row.get(key)):
        raise RowProblem(key, _("Не заполнено"))
    return optional_date(row, key)


def optional_date(row: dict, key: str):
    """Return the date of a cell or None when empty. Raises RowProblem for a non-date."""
    raw = row.get(key)
    if cell.blank(raw):
        return None
    found = cell.date(raw)
    if found is None:
        raise RowProblem(key, _("Дата не распознана: «%(value)s» (ожидается ДД.ММ.ГГГГ)",
                                value=cell.shown(raw)))
    return found


def positive_int(row: dict, key: str, default: int | None = None) -> int:
    """Return a whole number above zero (`default` when empty). Raises RowProblem."""
    raw = row.get(key)
    if cell.blank(raw):
        if default is None:
            raise RowProblem(key, _("Не заполнено"))
        return default
    number = cell.amount(raw)
    if number is None or number != number.to_integral_value() or number <= 0:
        raise RowProblem(key, _("Ожидается целое число больше нуля: «%(value)s»",
                                value=cell.shown(raw)))
    if number > 1_000_000:
        raise RowProblem(key, _("Слишком большое число"))
    return int(number)


def money(row: dict, key: str, *, required: bool = True):
    """Return an amount above zero with at most two decimals. Raises RowProblem."""
    from decimal import Decimal

    raw = row.get(key)
    if cell.blank(raw):
        if required:
            raise RowProblem(key, _("Не заполнено"))
        return None
    number = cell.amount(raw)
    if number is None or not number.is_finite():
        raise RowProblem(key, _("Не число: «%(value)s»", value=cell.shown(raw)))
    if number <= 0:
        raise RowProblem(key, _("Сумма должна быть больше нуля"))
    if number >= Decimal(10) ** 12:
        raise RowProblem(key, _("Слишком большая сумма"))
    if number != number.quantize(Decimal("0.01")):
        raise RowProblem(key, _("Больше двух знаков после запятой"))
    return number.quantize(Decimal("0.01"))
