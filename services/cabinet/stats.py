"""The client cabinet's statistics: what the lab did for a client's offices in a period
— visits (vouchers), patients, tests (voucher lines) and their cost — by office and
by day or month, and per patient for the drill-down.

The period's figures come from the rollups (models.rollups, kept exact with the
vouchers by services.rollups): a few rows per office and day, whatever the number of
vouchers, and for a calendar month or year by month the distinct patients from the
periods' counters (services.cabinet.stats_periods); the drill-down per patient
reads `vch_voucher` for one office (`ix_vch_voucher_referrer_date`).
Which offices a user sees is his data scope (`scoped()`: the voucher's cabinet path
is its referring office);
the cost is read from the database only with «Просмотр информации о стоимости», so
it cannot leak through any page, export or API built on these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, tuple_

from core.errors import ValidationError
from models.org import Unit
from models.patients import Patient
from models.rollups import OfficeDay, OfficePatientDay
from models.vouchers import Voucher
from security.scope import CABINET, scoped
from services.cabinet import stats_periods
from services.stat_periods import as_date as _as_date
from services.stat_periods import period_start

COST_RIGHT = "cabinet.see_cost"
#: The longest period one request aggregates (a year and a day for leap years).
MAX_DAYS = 366
GROUPINGS = ("day", "month")


@dataclass(frozen=True)
class Figures:
    """Visits, patients, tests and cost (None without the cost right) of one row."""

    key: object
    label: str
    visits: int
    patients: int
    tests: int
    cost: Decimal | None


@dataclass(frozen=True)
class Statistics:
    """A period's statistics: per office, per day or month, the total."""

    start: dt.date
    end: dt.date
    grouping: str
    with_cost: bool
    by_unit: list[Figures]
    by_period: list[Figures]
    total: Figures


def presets(today: dt.date | None = None) -> list[tuple[str, dt.date, dt.date, str]]:
    """Return the periods the page offers at one click, as (label, start, end,
    grouping): this month by day, last month by day, this year to date by month (the
    calendar periods are read from the counters, services.cabinet.stats_periods)."""
    today = today or dt.date.today()
    last_end = today.replace(day=1) - dt.timedelta(days=1)
    return [(_("Этот месяц"), today.replace(day=1), today, "day"),
            (_("Прошлый месяц"), last_end.replace(day=1), last_end, "day"),
            (_("Этот год по месяцам"), today.replace(month=1, day=1), today, "month")]


def check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Return the period, or raise ValidationError for a missing, reversed or too long one."""
    if start is None or end is None:
        raise ValidationError(_("Укажите начало и конец периода"))
    if end < start:
        raise ValidationError(_("Конец периода раньше его начала"))
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_("Период — не больше года"))
    return start, end


def _visits(stmt, rights):
    """Return `stmt` over the vouchers that offices in the user's scope referred."""
    return scoped(stmt, rights, model=Voucher, side=CABINET)


def _measures(with_cost: bool) -> list:
    """Return visits, tests (and cost) summed over the office-day rollup."""
    columns = [func.coalesce(func.sum(OfficeDay.visits), 0),
               func.coalesce(func.sum(OfficeDay.tests), 0)]
    if with_cost:
        columns.append(func.coalesce(func.sum(OfficeDay.cost), 0))
    return columns


def _figures(key, label, sums, patients: int, with_cost: bool) -> Figures:
    return Figures(key, label, int(sums[0]), int(patients or 0), int(sums[1]),
                   Decimal(sums[2]) if with_cost else None)


def _period_key(grouping: str, column):
    """Return the SQL expression of a day's day or month (first day of the month)."""
    return column if grouping == "day" else period_start("month", column)


def statistics(session, rights, start: dt.date, end: dt.date, grouping: str = "day",
               unit_id: int | None = None) -> Statistics:
    """Return the statistics of the offices in the user's scope (or of one of them)
    for the period, with the cost only under «Просмотр информации о стоимости».

    Read from the rollups (models.rollups): visits, tests and cost summed over the
    office-day rows; patients, for the beginning of a calendar month or year by
    month, from the periods' counters (services.cabinet.stats_periods: a bounded
    number of rows however many vouchers), otherwise counted distinct over the
    office-day-patient rows. Either way a patient seen on several days or by several
    offices counts once in a row.

    Raises ValidationError for a bad period or grouping; an office outside the scope
    gives empty figures, as an office with no visits does.
    """
    start, end = check_period(start, end)
    if grouping not in GROUPINGS:
        raise ValidationError(_("Группировка — по дням или по месяцам"))
    with_cost = rights.allows(COST_RIGHT)
    dialect = session.get_bind().dialect.name

    def days(stmt, model):
        where = [model.day >= start, model.day <= end]
        if unit_id is not None:
            where.append(model.office_id == unit_id)
        return scoped(stmt.where(*where), rights, model=model, side=CABINET)

    units, periods, total = _sums(session, days, grouping, dialect, _measures(with_cost))
    counted = stats_periods.patients(
        session, rights, start, end, grouping, unit_id, [row[0] for row in units],
        [_as_date(row[0]) for row in periods])
    if counted is None:
        counted = _distinct_patients(session, days, grouping, dialect)
    unit_patients, period_patients, total_patients = counted
    return Statistics(
        start, end, grouping, with_cost,
        [_figures(row[0], row[1], row[2:], unit_patients.get(row[0]), with_cost)
         for row in units],
        [_figures(_as_date(row[0]), _period_label(_as_date(row[0]), grouping), row[1:],
                  period_patients.get(_as_date(row[0])), with_cost) for row in periods],
        _figures(None, _("Итого"), total, total_patients, with_cost))


def _sums(session, days, grouping: str, dialect: str, sums: list) -> tuple:
    """Return (by office, by period, in total) of the office-day sums: one GROUPING
    SETS pass on PostgreSQL, three statements elsewhere."""
    period = _period_key(grouping, OfficeDay.day).label("period")
    if dialect != "postgresql":
        units = session.execute(days(
            select(OfficeDay.office_id, Unit.name, *sums)
            .join(Unit, Unit.id == OfficeDay.office_id)
            .group_by(OfficeDay.office_id, Unit.name).order_by(Unit.name), OfficeDay)).all()
        periods = session.execute(days(select(period, *sums).group_by(period)
                                       .order_by(period), OfficeDay)).all()
        return units, periods, session.execute(days(select(*sums), OfficeDay)).one()
    rows = session.execute(days(
        select(func.grouping(OfficeDay.office_id), func.grouping(period),
               OfficeDay.office_id, Unit.name, period, *sums)
        .join(Unit, Unit.id == OfficeDay.office_id)
        .group_by(func.grouping_sets(tuple_(OfficeDay.office_id, Unit.name),
                                     tuple_(period), tuple_())), OfficeDay)).all()
    units = sorted((r[2:4] + tuple(r[5:]) for r in rows if r[0] == 0),
                   key=lambda r: r[1])
    periods = sorted((r[4:5] + tuple(r[5:]) for r in rows if r[0] == 1 and r[1] == 0),
                     key=lambda r: r[0])
    total = next((tuple(r[5:]) for r in rows if r[0] == 1 and r[1] == 1),
                 (0,) * len(sums))
    return units, periods, total


def _distinct_patients(session, days, grouping: str, dialect: str) -> tuple:
    """Return (patients by office, by period, in total) counted distinct over the
    office-day-patient rows of the period: one GROUPING SETS pass on PostgreSQL,
    three statements elsewhere."""
    people = func.count(func.distinct(OfficePatientDay.patient_id))
    period = _period_key(grouping, OfficePatientDay.day).label("period")
    if dialect != "postgresql":
        by_unit = dict(session.execute(days(
            select(OfficePatientDay.office_id, people).group_by(OfficePatientDay.office_id),
            OfficePatientDay)).all())
        by_period = {_as_date(key): n for key, n in session.execute(days(
            select(period, people).group_by(period), OfficePatientDay))}
        return by_unit, by_period, session.scalar(days(select(people), OfficePatientDay))
    by_unit, by_period, in_total = {}, {}, 0
    for g_unit, g_period, office, key, n in session.execute(days(
            select(func.grouping(OfficePatientDay.office_id), func.grouping(period),
                   OfficePatientDay.office_id, period, people)
            .group_by(func.grouping_sets(tuple_(OfficePatientDay.office_id),
                                         tuple_(period), tuple_())),
            OfficePatientDay)):
        if g_unit == 0:
            by_unit[office] = n
        elif g_period == 0:
            by_period[_as_date(key)] = n
        else:
            in_total = n
    return by_unit, by_period, in_total


def _period_label(day: dt.date, grouping: str) -> str:
    return f"{day:%d.%m.%Y}" if grouping == "day" else f"{day:%m.%Y}"


def patients(session, rights, start: dt.date, end: dt.date, unit_id: int) -> list[Figures]:
    """Return each patient an office sent in the period with his visits, tests and
    cost (cost None without the right); an office outside the scope gives none.

    Raises ValidationError for a bad period.
    """
    start, end = check_period(start, end)
    with_cost = rights.allows(COST_RIGHT)
    rows = session.execute(_visits(
        select(Patient.id, Patient.last_name, Patient.first_name, Patient.middle_name,
               func.count(Voucher.id), func.count(func.distinct(Voucher.patient_id)),
               func.coalesce(func.sum(Voucher.line_count), 0),
               *([func.coalesce(func.sum(Voucher.total), 0)] if with_cost else []))
        .join(Patient, Patient.id == Voucher.patient_id)
        .where(Voucher.service_date >= start, Voucher.service_date <= end,
               Voucher.referring_unit_id == unit_id)
        .group_by(Patient.id, Patient.last_name, Patient.first_name, Patient.middle_name)
        .order_by(Patient.last_name, Patient.first_name, Patient.id), rights)).all()
    return [Figures(row[0], " ".join(p for p in row[1:4] if p), int(row[4]), int(row[5]),
                    int(row[6]), Decimal(row[7]) if with_cost else None) for row in rows]


def patient_visits(session, rights, patient_id: int, start: dt.date, end: dt.date
                   ) -> list[Voucher]:
    """Return the patient's visits in the period that offices in the user's scope sent,
    newest first, with their lines loaded (an empty list for anyone else's patient).

    Raises ValidationError for a bad period.
    """
    from sqlalchemy.orm import selectinload

    from models.vouchers import VoucherLine

    start, end = check_period(start, end)
    return list(session.scalars(_visits(
        select(Voucher).where(Voucher.patient_id == patient_id,
                              Voucher.service_date >= start, Voucher.service_date <= end,
                              Voucher.referring_unit_id.is_not(None))
        .options(selectinload(Voucher.lines).joinedload(VoucherLine.service))
        .order_by(Voucher.service_date.desc(), Voucher.id.desc()), rights)))
