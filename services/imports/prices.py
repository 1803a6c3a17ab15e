"""Import of the service price list from an XLSX or CSV file («Импорт прейскуранта услуг»).

`parse` reads the file into raw rows, `validate` resolves the codes and checks
every row with a few bulk queries (never one per row) against the rules of
`services.refbooks.prices`, `commit` writes the new prices in one transaction. The screen
calls `preview` (parse + validate, nothing written) and `import_prices` (the
unit of work: parse, lock, validate again, commit).

Bulk Core inserts bypass the journal's session hook, so an import writes one
journal row of its own (action "import").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Integer, String, insert, select, text, true
from sqlalchemy.exc import IntegrityError

from core.actor import current_actor
from models.journal import JournalEntry
from models.pricelist import Price, Service
from models.refbooks import Currency, PriceCategory, Tax
from security.branches import category_clause
from security.effective import right_label
from services.boundary import transaction
from services.imports.framework.spec import RowError
from services.imports.price_file import (
    CENT,
    COLUMNS,
    DEFAULT_CURRENCY,
    MAX_AMOUNT,
    MAX_BYTES,
    OPEN_END,
    ImportRefused,
    RawRow,
    _amount,
    _blank,
    _date,
    parse,
    shown,
)

RIGHT = "import.service_prices"
PREVIEW_ROWS = 200
# SQLite accepts at most 32,766 bound variables per statement.
IN_CHUNK = 5_000
INSERT_CHUNK = 5_000
# Serialises imports on PostgreSQL: two imports checked against the same old
# prices could otherwise both insert overlapping periods.
LOCK_KEY = 0x55434845  # "UCHE"
DAY = dt.timedelta(days=1)
PRICE_FIELDS = ("service_id", "category_id", "valid_from", "valid_to", "amount", "currency_id",
                "tax_id")
# SQLite: a Core insert of the table, every row with every key, one executemany per
# chunk. The ORM's insert(Price) groups consecutive rows by their non-NULL keys, and
# alternating empty «Действует по» / «Налог» cells made that one INSERT per row.
PRICE_INSERT = insert(Price.__table__)
COPY_PRICES = f"COPY {Price.__tablename__} ({', '.join(PRICE_FIELDS)}) FROM STDIN"


@dataclass(slots=True)
class PreviewRow:
    """A row shown on the preview page: status "new", "unchanged" or "error"."""

    row: RawRow
    status: str
    errors: list[RowError]


@dataclass(frozen=True, slots=True)
class Closure:
    """A stored open price the import ends the day before the file's next price starts."""

    service_id: int
    category_id: int
    valid_from: dt.date
    valid_to: dt.date
    service: str
    category: str
    amount: Decimal


@dataclass
class Plan:
    """What an import would do. `new` holds PRICE_FIELDS tuples ready to insert."""

    filename: str
    total: int
    new: list[tuple] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_rows: int = 0
    categories: list[str] = field(default_factory=list)
    preview: list[PreviewRow] = field(default_factory=list)
    #: Open stored prices the import ends: Closure rows.
    closed: list[Closure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when no row breaks a rule."""
        return not self.errors


@dataclass(frozen=True)
class Summary:
    """The outcome of a committed import."""

    filename: str
    inserted: int
    unchanged: int
    categories: tuple[str, ...]
    closed: int = 0


def _period(start: dt.date, end: dt.date | None) -> str:
    if end is None or end == OPEN_END:
        return _("с %(start)s, без окончания", start=start.strftime("%d.%m.%Y"))
    return _("с %(start)s по %(end)s", start=start.strftime("%d.%m.%Y"),
             end=end.strftime("%d.%m.%Y"))


# --- checking the rows ---------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """A row whose every cell is valid: resolved ids, parsed values."""

    line: int
    service_id: int
    category_id: int
    start: dt.date
    end: dt.date | None
    amount: Decimal
    currency_id: int
    tax_id: int | None

    def values(self) -> tuple:
        return (self.service_id, self.category_id, self.start, self.end, self.amount,
                self.currency_id, self.tax_id)


def _among(session, column, values: set, item_type) -> Iterator:
    """Yield WHERE clauses that together cover `values`: one `= ANY(array)` on
    PostgreSQL, IN lists of IN_CHUNK elsewhere."""
    ordered = sorted(values)
    if not ordered:
        return
    if session.get_bind().dialect.name == "postgresql":
        from services.imports.framework.pgcopy import any_of

        yield any_of(column, ordered, item_type)
        return
    for i in range(0, len(ordered), IN_CHUNK):
        yield column.in_(ordered[i:i + IN_CHUNK])


def _ids_by_code(session, model, codes: set[str]) -> dict[str, int]:
    """Return {code: id} of the rows of a reference book whose codes are in `codes`."""
    found: dict[str, int] = {}
    for clause in _among(session, model.code, codes, String):
        found.update(session.execute(select(model.code, model.id).where(clause)).all())
    return found


def _existing(session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[tuple]]:
    """Return {(service, category): [(valid_from, valid_to, amount, currency, tax)]} of
    the stored prices of `pairs`."""
    found: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    categories = sorted({c for _s, c in pairs})
    query = select(Price.service_id, Price.category_id, Price.valid_from, Price.valid_to,
                   Price.amount, Price.currency_id, Price.tax_id)
    for clause in _among(session, Price.service_id, {s for s, _c in pairs}, Integer):
        rows = session.execute(query.where(clause, Price.category_id.in_(categories)))
        for service_id, category_id, *rest in rows:
            key = (service_id, category_id)
            if key in pairs:
                found[key].append(tuple(rest))
    return found


class _Checker:
    """Per-row checks against the reference books resolved up front."""

    def __init__(self, session, rows: list[RawRow], rights, right: str = RIGHT) -> None:
        self.services = _ids_by_code(session, Service, {r.service for r in rows if r.service})
        codes = {r.category for r in rows if r.category}
        self.categories = _ids_by_code(session, PriceCategory, codes)
        self.allowed = set(session.scalars(
            select(PriceCategory.id).where(PriceCategory.id.in_(list(self.categories.values())),
                                           _reachable(rights, right))))
        self.currencies = _ids_by_code(
            session, Currency, {r.currency or DEFAULT_CURRENCY for r in rows})
        self.taxes = _ids_by_code(session, Tax, {r.tax for r in rows if r.tax})
        self.dates: dict[object, dt.date | None] = {}

    def date(self, value) -> dt.date | None:
        try:
            return self.dates[value]
        except KeyError:
            parsed = self.dates[value] = _date(value)
            return parsed
        except TypeError:  # unhashable: never from openpyxl or csv
            return _date(value)

    def check(self, row: RawRow, errors: list[RowError]) -> _Candidate | None:
        """Return the resolved row, or None after adding its errors to `errors`."""
        before = len(errors)

        def fail(key: str, message: str) -> None:
            errors.append(RowError(row.line, COLUMNS[key], message))

        service_id = self._code("service", row.service, self.services, fail)
        category_id = self._code("category", row.category, self.categories, fail)
        if category_id is not None and category_id not in self.allowed:
            fail("category", _("Категория цен «%(code)s» другого филиала: импорт в неё вам "
                               "запрещён (право «%(right)s»)", code=row.category,
                               right=right_label(RIGHT)))
        start = self._start(row, fail)
        end = None
        if not _blank(row.valid_to):
            end = self.date(row.valid_to)
            if end is None:
                fail("valid_to", _("Дата не распознана: «%(value)s» (ожидается ДД.ММ.ГГГГ)",
                                   value=shown(row.valid_to)))
            elif start is not None and end < start:
                fail("valid_to", _("Дата окончания раньше даты начала"))
        amount = self._amount(row, fail)
        currency = row.currency or DEFAULT_CURRENCY
        currency_id = self.currencies.get(currency)
        if currency_id is None:
            fail("currency", _("Нет валюты с кодом «%(code)s»", code=currency))
        tax_id = None
        if row.tax:
            tax_id = self.taxes.get(row.tax)
            if tax_id is None:
                fail("tax", _("Нет налога с кодом «%(code)s»", code=row.tax))
        if len(errors) > before:
            return None
        return _Candidate(row.line, service_id, category_id, start, end, amount, currency_id,
                          tax_id)

    @staticmethod
    def _code(key, code, known, fail):
        if not code:
            fail(key, _("Не заполнено"))
            return None
        found = known.get(code)
        if found is None:
            fail(key, _("Нет услуги с кодом «%(code)s»", code=code) if key == "service" else
                 _("Нет категории цен с кодом «%(code)s»", code=code))
        return found

    def _start(self, row: RawRow, fail) -> dt.date | None:
        if _blank(row.valid_from):
            fail("valid_from", _("Не заполнено"))
            return None
        start = self.date(row.valid_from)
        if start is None:
            fail("valid_from", _("Дата не распознана: «%(value)s» (ожидается ДД.ММ.ГГГГ)",
                                 value=shown(row.valid_from)))
        return start

    @staticmethod
    def _amount(row: RawRow, fail) -> Decimal | None:
        if _blank(row.amount):
            fail("amount", _("Не заполнено"))
            return None
        amount = _amount(row.amount)
        if amount is None or not amount.is_finite():
            fail("amount", _("Цена не число: «%(value)s»", value=shown(row.amount)))
            return None
        if amount <= 0:
            fail("amount", _("Цена должна быть больше нуля"))
        elif amount >= MAX_AMOUNT:
            fail("amount", _("Слишком большая цена"))
        elif amount != amount.quantize(CENT):
            fail("amount", _("У цены больше двух знаков после запятой"))
        else:
            return amount.quantize(CENT)
        return None


def _without_duplicates(candidates: list[_Candidate], errors: list[RowError]) -> list[_Candidate]:
    """Return the first row of each (service, category, start); the others get an error."""
    first: dict[tuple, int] = {}
    kept = []
    for c in candidates:
        key = (c.service_id, c.category_id, c.start)
        if key in first:
            errors.append(RowError(c.line, COLUMNS["valid_from"], _(
                "Повтор строки %(line)s: та же услуга, категория цен и дата начала",
                line=first[key])))
            continue
        first[key] = c.line
        kept.append(c)
    return kept


def _against_stored(kept: list[_Candidate], stored: dict, errors: list[RowError]):
    """Split rows into new and unchanged; a row that starts on the day of a different
    stored price gets an error. A row without an end is unchanged by a stored price
    that a later row of the file closed (ended the day before it starts): loading the
    file again changes nothing. Returns (new rows, unchanged count)."""
    starts = {(c.service_id, c.category_id, c.start) for c in kept}
    new, unchanged = [], 0
    for c in kept:
        same_start = next((p for p in stored.get((c.service_id, c.category_id), ())
                           if p[0] == c.start), None)
        closed_by_file = (same_start is not None and c.end is None and same_start[1] is not None
                          and (c.service_id, c.category_id, same_start[1] + DAY) in starts)
        end = same_start[1] if closed_by_file else c.end
        if same_start is None:
            new.append(c)
        elif same_start == (c.start, end, c.amount, c.currency_id, c.tax_id):
            unchanged += 1
        else:
            errors.append(RowError(c.line, COLUMNS["valid_from"], _(
                "С этой даты уже действует другая цена этой услуги в этой категории "
                "(%(amount)s, %(period)s); импорт не меняет существующие цены",
                amount=same_start[2], period=_period(same_start[0], same_start[1]))))
    return new, unchanged


def _closures(new: list[_Candidate], stored: dict) -> dict[tuple[int, int], tuple]:
    """Return {(service, category): (stored open price, its new end)}: per pair, the
    latest stored price without an end that starts before the file's first new price
    ends the day before it (next year's price list follows this year's)."""
    first: dict[tuple[int, int], dt.date] = {}
    for c in new:
        pair = (c.service_id, c.category_id)
        first[pair] = min(first.get(pair, c.start), c.start)
    found = {}
    for pair, start in first.items():
        open_before = [p for p in stored.get(pair, ()) if p[1] is None and p[0] < start]
        if open_before:
            found[pair] = (max(open_before, key=lambda p: p[0]), start - DAY)
    return found


def _overlaps(new: list[_Candidate], stored: dict, errors: list[RowError]) -> set[int]:
    """Add an error to each new row whose period meets a stored price or another new
    row of the same service and category; return the lines of those rows.

    Per pair, periods sorted by start: a period meets an earlier-starting one iff it
    starts before the largest end so far, and a later-starting one iff the next
    period starts before it ends."""
    by_pair: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for c in new:
        by_pair[(c.service_id, c.category_id)].append((c.start, c.end or OPEN_END, c.line))
    bad: set[int] = set()
    for pair, periods in by_pair.items():
        periods += [(p[0], p[1] or OPEN_END, None) for p in stored.get(pair, ())]
        if len(periods) < 2:
            continue
        periods.sort(key=lambda p: (p[0], p[1]))
        widest = None
        for i, (start, end, line) in enumerate(periods):
            if line is not None:
                other = widest if widest is not None and start <= widest[1] else None
                if other is None and i + 1 < len(periods) and periods[i + 1][0] <= end:
                    other = periods[i + 1]
                if other is not None:
                    bad.add(line)
                    errors.append(RowError(line, COLUMNS["valid_from"], _overlap_message(other)))
            if widest is None or end > widest[1]:
                widest = (start, end, line)
    return bad


def _overlap_message(other: tuple) -> str:
    start, end, line = other
    if line is not None:
        return _("Период пересекается со строкой %(line)s (та же услуга и категория цен)",
                 line=line)
    return _("Период пересекается с действующей ценой этой услуги в этой категории: "
             "%(period)s", period=_period(start, end))


def _reachable(rights, right: str):
    """Return the clause of the price categories the import may write: the branch scope
    of «Импорт прейскуранта услуг», or any under the flag «Импорт прейскурантов»."""
    if right == RIGHT:
        return category_clause(rights, RIGHT, PriceCategory.id)
    return true()


def _require_right(rights, right: str = RIGHT) -> None:
    if right == RIGHT and not rights.is_admin and rights.value(RIGHT) == "none":
        raise ImportRefused(_("Импорт прейскуранта вам запрещён"))
    if right != RIGHT and not rights.allows(right):
        raise ImportRefused(_("Импорт прейскуранта вам запрещён"))


def validate(session, rows: list[RawRow], rights, *, filename: str = "",
             preview: int = PREVIEW_ROWS, close_open: bool = False,
             right: str = RIGHT) -> Plan:
    """Return the plan of importing `rows` for a user with `rights`: the new prices,
    the number of unchanged ones and every row's errors; with `close_open` the stored
    open prices that the new ones follow, ended the day before (`_closures`). Reads only.

    Raises ImportRefused when the user may not import at all.
    """
    _require_right(rights, right)
    checker = _Checker(session, rows, rights, right)
    errors: list[RowError] = []
    candidates = [c for c in (checker.check(row, errors) for row in rows) if c is not None]
    kept = _without_duplicates(candidates, errors)
    stored = _existing(session, {(c.service_id, c.category_id) for c in kept})
    new, unchanged = _against_stored(kept, stored, errors)
    closing = _closures(new, stored) if close_open else {}
    for pair, (price, end) in closing.items():
        stored[pair] = [(p[0], end, *p[2:]) if p is price else p for p in stored[pair]]
    bad = _overlaps(new, stored, errors)
    new = [c for c in new if c.line not in bad]
    errors.sort(key=lambda e: e.line)
    names = {v: k for k, v in checker.categories.items()}
    services = {v: k for k, v in checker.services.items()}
    plan = Plan(filename=filename, total=len(rows), new=[c.values() for c in new],
                unchanged=unchanged, errors=errors, error_rows=len({e.line for e in errors}),
                categories=sorted({names[c.category_id] for c in new}),
                closed=[Closure(s, c, price[0], end, services[s], names[c], price[2])
                        for (s, c), (price, end) in sorted(closing.items())])
    plan.preview = _preview(rows[:preview], errors, {c.line for c in new})
    return plan


def _preview(rows: list[RawRow], errors: list[RowError], new_lines: set[int]):
    by_line: dict[int, list[RowError]] = defaultdict(list)
    last = rows[-1].line if rows else 0
    for error in errors:
        if error.line > last:
            break
        by_line[error.line].append(error)
    return [PreviewRow(row, "error" if row.line in by_line else
                       "new" if row.line in new_lines else "unchanged", by_line.get(row.line, []))
            for row in rows]


# --- writing -------------------------------------------------------------------------------


def commit(session, plan: Plan) -> Summary:
    """Insert the plan's new prices and one journal row, in one transaction, and commit.

    Raises ImportRefused (nothing written) when the plan has errors or the database
    refuses a row (a price added meanwhile).
    """
    if not plan.ok:
        raise ImportRefused(_("В файле есть ошибки (строк: %(n)s): ничего не загружено",
                              n=plan.error_rows), plan=plan)
    summary = Summary(plan.filename, len(plan.new), plan.unchanged, tuple(plan.categories),
                      len(plan.closed))
    if not plan.new:
        return summary
    refused = (IntegrityError, session.get_bind().dialect.dbapi.IntegrityError, _Changed)
    try:
        with transaction(session):
            _close(session, plan.closed)
            _insert(session, plan.new)
            _journal(session, summary)
    except refused:
        raise ImportRefused(_("Цены изменились во время загрузки: проверьте файл ещё раз")
                            ) from None
    return summary


class _Changed(Exception):
    """A price to close was changed since the file was checked."""


def _close(session, closures: list[Closure]) -> None:
    """End the open prices of `closures` (Core updates, in the session's transaction).

    Raises _Changed when one of them is no longer there without an end."""
    table = Price.__table__
    for c in closures:
        done = session.execute(table.update().where(
            table.c.service_id == c.service_id, table.c.category_id == c.category_id,
            table.c.valid_from == c.valid_from, table.c.valid_to.is_(None),
        ).values(valid_to=c.valid_to))
        if done.rowcount != 1:
            raise _Changed


def _insert(session, rows: list[tuple]) -> None:
    """Insert PRICE_FIELDS tuples in the session's transaction: COPY on PostgreSQL (2.5
    times faster than psycopg's pipelined executemany of the same rows, which spends
    its time on one INSERT per row in the server; see bench/price_import.py), a Core
    executemany per chunk elsewhere."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(COPY_PRICES) as copy:
            for row in rows:
                copy.write_row(row)
        return
    for i in range(0, len(rows), INSERT_CHUNK):
        session.execute(PRICE_INSERT, [dict(zip(PRICE_FIELDS, row, strict=True))
                                       for row in rows[i:i + INSERT_CHUNK]])


def _journal(session, summary: Summary) -> None:
    user_id, username = current_actor()
    session.execute(insert(JournalEntry).values(
        at=dt.datetime.now(dt.UTC), user_id=user_id, username=username, action="import",
        table_name=Price.__tablename__, row_pk=f"import:{summary.inserted}", before=None,
        after={"file": summary.filename, "inserted": summary.inserted,
               "unchanged": summary.unchanged, "categories": list(summary.categories),
               **({"closed": summary.closed} if summary.closed else {})}))


def _lock(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def preview(session, filename: str, data: bytes, rights, *, max_bytes: int = MAX_BYTES,
            close_open: bool = False) -> Plan:
    """Return the plan of importing the file (nothing written).

    Raises ImportRefused for an unreadable file or a user without the right.
    """
    _require_right(rights)
    return validate(session, parse(filename, data, max_bytes=max_bytes), rights,
                    filename=filename, close_open=close_open)


def import_prices(session, filename: str, data: bytes, rights, *,
                  max_bytes: int = MAX_BYTES, close_open: bool = False) -> Summary:
    """Parse and check the file again against the database as it is now, then commit.

    Raises ImportRefused (nothing written) for an unreadable file, a user without the
    right, or any row error (then `exc.plan` holds them).
    """
    _require_right(rights)
    rows = parse(filename, data, max_bytes=max_bytes)
    _lock(session)
    plan = validate(session, rows, rights, filename=filename, close_open=close_open)
    if not plan.ok:
        session.rollback()
    return commit(session, plan)
