"""Distinct patients of calendar months and years, exact and read in a constant
number of rows (models.rollups.PatientPeriod, PeriodPatients).

A patient is a member of (unit, subtree, kind, period) when a voucher of the period
was referred by the unit itself (`subtree` false) or by any office of its subtree
(`subtree` true; kept for the referring office and each of its client-side
ancestors, from the closure table). The counters hold how many members have their
first visit of the period on each day, so the patients of a period up to a day are
a sum of at most 31 or 366 rows.

Kept by delta in the same transaction as the vouchers (services.rollups calls
`refresh` with the (office, day, patient) keys a flush touched): the members of
those patients in those periods are recomputed from the patient's own vouchers of
the year (few, `ix_vch_voucher_patient_id`), compared with the stored ones, and the
counters moved by +1/-1 where a member appears, disappears or changes first day.
`rebuild_statements` recomputes everything from `vch_voucher` (idempotent); when an
office moves in the org tree, the subtree members of its old and new ancestors are
recomputed so in the same transaction (services.rollups).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Date, delete, func, insert, literal, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models.org import CLIENT_KINDS, Unit, UnitClosure
from models.rollups import PERIOD_KINDS, PatientPeriod, PeriodPatients
from models.vouchers import Voucher

V = Voucher.__table__.c
M = PatientPeriod.__table__
C = PeriodPatients.__table__
_CLIENT_KINDS = sorted(k.value for k in CLIENT_KINDS)


class _PeriodStart(FunctionElement):
    """SQL: the first day of the calendar month or year of a date (the kind is the
    class, so that SQLAlchemy's statement cache tells them apart)."""

    type = Date()
    inherit_cache = True
    kind = "month"


class _MonthStart(_PeriodStart):
    inherit_cache = True
    kind = "month"


class _YearStart(_PeriodStart):
    inherit_cache = True
    kind = "year"


def period_start(kind: str, column) -> _PeriodStart:
    """Return the SQL expression of the first day of `column`'s month or year."""
    return _MonthStart(column) if kind == "month" else _YearStart(column)


@compiles(_PeriodStart)
def _period_start_pg(element, compiler, **kw):
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(date_trunc('{element.kind}', {column}) AS DATE)"


@compiles(_PeriodStart, "sqlite")
def _period_start_sqlite(element, compiler, **kw):
    column = compiler.process(next(iter(element.clauses)), **kw)
    pattern = "%Y-%m-01" if element.kind == "month" else "%Y-01-01"
    return f"strftime('{pattern}', {column})"


def start_of(kind: str, day: dt.date) -> dt.date:
    """Return the first day of the calendar month or year of `day`."""
    return day.replace(day=1) if kind == "month" else day.replace(month=1, day=1)


def rebuild_statements(units: list[int] | None = None) -> list:
    """Return the statements recomputing every member and counter from the vouchers;
    with `units`, only the subtree members and counters of those units (after an
    office moved in the org tree: its old and new ancestors')."""
    if units is None:
        result = [delete(M), delete(C)]
    else:
        result = [delete(M).where(M.c.subtree.is_(True), M.c.unit_id.in_(units)),
                  delete(C).where(C.c.subtree.is_(True), C.c.unit_id.in_(units))]
    columns = ["unit_id", "subtree", "kind", "period_start", "patient_id", "first_day",
               "visits"]
    closure, unit = UnitClosure.__table__.c, Unit.__table__.c
    for kind in PERIOD_KINDS:
        start = period_start(kind, V.service_date)
        if units is None:
            own = (select(V.referring_unit_id, literal(False), literal(kind), start,
                          V.patient_id, func.min(V.service_date), func.count())
                   .where(V.referring_unit_id.is_not(None))
                   .group_by(V.referring_unit_id, start, V.patient_id))
            result.append(insert(M).from_select(columns, own))
        tree = (select(closure.ancestor_id, literal(True), literal(kind), start, V.patient_id,
                       func.min(V.service_date), func.count())
                .select_from(Voucher.__table__
                             .join(UnitClosure.__table__,
                                   closure.descendant_id == V.referring_unit_id)
                             .join(Unit.__table__, unit.id == closure.ancestor_id))
                .where(unit.kind.in_(_CLIENT_KINDS),
                       *([] if units is None else [closure.ancestor_id.in_(units)]))
                .group_by(closure.ancestor_id, start, V.patient_id))
        result.append(insert(M).from_select(columns, tree))
    keys = [M.c.unit_id, M.c.subtree, M.c.kind, M.c.period_start, M.c.first_day]
    counted = select(*keys, func.count()).group_by(*keys)
    if units is not None:
        counted = counted.where(M.c.subtree.is_(True), M.c.unit_id.in_(units))
    result.append(insert(C).from_select(
        ["unit_id", "subtree", "kind", "period_start", "first_day", "patients"], counted))
    return result


def moved_units(session, moves) -> set[int]:
    """Return the units whose subtree members the (unit, new parent) moves change,
    read before the flush: the units' old ancestors and the new parents with theirs."""
    closure = UnitClosure.__table__.c
    ids = {unit for unit, _parent in moves}
    parents = {parent for _unit, parent in moves if parent is not None}
    return set(session.connection().execute(
        select(closure.ancestor_id).where(
            (closure.descendant_id.in_(sorted(ids)) & (closure.depth > 0))
            | closure.descendant_id.in_(sorted(parents)))).scalars())


def lock_years(triples) -> set[tuple[int, int]]:
    """Return the (patient, year) pairs whose members the (office, day, patient)
    keys change (services.rollups locks them on PostgreSQL)."""
    return {(patient, day.year) for _office, day, patient in triples}


def _ancestors(session, offices: set[int]) -> dict[int, list[int]]:
    """Return each office's client-side ancestors, itself included."""
    result: dict[int, list[int]] = defaultdict(list)
    if offices:
        closure = UnitClosure.__table__.c
        for office, ancestor in session.execute(
                select(closure.descendant_id, closure.ancestor_id)
                .join(Unit.__table__, Unit.__table__.c.id == closure.ancestor_id)
                .where(closure.descendant_id.in_(sorted(offices)),
                       Unit.__table__.c.kind.in_(_CLIENT_KINDS))):
            result[office].append(ancestor)
    return result


def _keys_of(office: int, day: dt.date, patient: int, ancestors) -> list[tuple]:
    """Return the member keys a voucher of (office, day, patient) belongs to."""
    keys = []
    for kind in PERIOD_KINDS:
        start = start_of(kind, day)
        keys.append((office, False, kind, start, patient))
        keys.extend((a, True, kind, start, patient) for a in ancestors.get(office, ()))
    return keys


def refresh(session, triples) -> None:
    """Bring the members and counters of the given (office, day, patient) keys in
    line with `vch_voucher` (the caller holds the locks and commits)."""
    years = lock_years(triples)
    if not years:
        return
    patients = sorted({p for p, _y in years})
    lo, hi = min(y for _p, y in years), max(y for _p, y in years)
    rows = [(o, d, p) for o, d, p in session.execute(
        select(V.referring_unit_id, V.service_date, V.patient_id)
        .where(V.patient_id.in_(patients), V.referring_unit_id.is_not(None),
               V.service_date >= dt.date(lo, 1, 1), V.service_date <= dt.date(hi, 12, 31)))
        if (p, d.year) in years]
    ancestors = _ancestors(session, {o for o, _d, _p in triples} | {o for o, _d, _p in rows})
    affected = {k for o, d, p in triples for k in _keys_of(o, d, p, ancestors)}
    new: dict[tuple, list] = {}
    for office, day, patient in rows:
        for key in _keys_of(office, day, patient, ancestors):
            if key in affected:
                member = new.setdefault(key, [day, 0])
                member[0], member[1] = min(member[0], day), member[1] + 1
    key_columns = tuple_(M.c.unit_id, M.c.subtree, M.c.kind, M.c.period_start, M.c.patient_id)
    old = {tuple(r[:5]): (r[5], r[6]) for r in session.execute(
        select(M.c.unit_id, M.c.subtree, M.c.kind, M.c.period_start, M.c.patient_id,
               M.c.first_day, M.c.visits).where(key_columns.in_(sorted(affected))))}
    changed = sorted(k for k in affected if old.get(k) != (tuple(new[k]) if k in new else None))
    if not changed:
        return
    delta: dict[tuple, int] = defaultdict(int)
    for key in changed:
        if key in old:
            delta[(*key[:4], old[key][0])] -= 1
        if key in new:
            delta[(*key[:4], new[key][0])] += 1
    stale = [k for k in changed if k in old]
    if stale:
        session.execute(delete(M).where(key_columns.in_(stale)))
    fresh = [{"unit_id": k[0], "subtree": k[1], "kind": k[2], "period_start": k[3],
              "patient_id": k[4], "first_day": new[k][0], "visits": new[k][1]}
             for k in changed if k in new]
    if fresh:
        session.execute(insert(M), fresh)
    _move_counters(session, {k: n for k, n in delta.items() if n})


def _move_counters(session, delta: dict[tuple, int]) -> None:
    """Add each delta to its counter row, creating it when missing: one atomic
    upsert, so concurrent transactions of other patients never lose an update.
    A counter may be left at 0 (it adds nothing to a sum)."""
    if not delta:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(C)
    stmt = stmt.on_conflict_do_update(
        index_elements=["unit_id", "subtree", "kind", "period_start", "first_day"],
        set_={"patients": C.c.patients + stmt.excluded.patients})
    session.execute(stmt, [
        {"unit_id": k[0], "subtree": k[1], "kind": k[2], "period_start": k[3],
         "first_day": k[4], "patients": n} for k, n in sorted(delta.items())])


def read(session, wanted: list[tuple], end: dt.date) -> dict[tuple, int]:
    """Return the distinct patients of each wanted (unit, subtree, kind, period start)
    up to `end` (the members whose first visit of the period is not later): one
    statement reading at most 31 or 366 counter rows per key. Missing keys: 0."""
    if not wanted:
        return {}
    keys = tuple_(C.c.unit_id, C.c.subtree, C.c.kind, C.c.period_start)
    rows = session.execute(
        select(C.c.unit_id, C.c.subtree, C.c.kind, C.c.period_start, func.sum(C.c.patients))
        .where(keys.in_(sorted(set(wanted))), C.c.first_day <= end)
        .group_by(C.c.unit_id, C.c.subtree, C.c.kind, C.c.period_start))
    found = {(u, bool(s), k, as_date(p)): int(n or 0) for u, s, k, p, n in rows}
    return {key: found.get(key, 0) for key in wanted}


def as_date(value) -> dt.date:
    """Return a date read from the database as a date (SQLite's strftime gives text,
    PostgreSQL's date_trunc a timestamp before its cast)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value
