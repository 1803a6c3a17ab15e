"""The client cabinet's statistics: what the lab did for a client's offices in a period
— visits (vouchers), patients, tests (voucher lines) and their cost — by office and
by day or month, and per patient for the drill-down.

Every figure comes from `vch_voucher` filtered by the referring office and the date,
which `ix_vch_voucher_referrer_date` answers (on PostgreSQL from the index alone).
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
from sqlalchemy import Date, cast, func, select

from core.errors import ValidationError
from models.org import Unit
from models.patients import Patient
from models.vouchers import Voucher
from security.scope import CABINET, scoped

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


def check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """Return the period, or raise ValidationError for a missing, reversed or too long one."""
    if start is None or end is None:
        raise ValidationError(_("Укажите начало и конец периода"))
    if end < start:
        raise ValidationError(_("Конец периода раньше его начала"))
    if (end - start).days >= MAX_DAYS:
        raise ValidationError(_("Период — не больше года"))
    return start, end


def _measures(with_cost: bool) -> list:
    columns = [func.count(Voucher.id), func.count(func.distinct(Voucher.patient_id)),
               func.coalesce(func.sum(Voucher.line_count), 0)]
    if with_cost:
        columns.append(func.coalesce(func.sum(Voucher.total), 0))
    return columns


def _figures(key, label, row, with_cost: bool) -> Figures:
    return Figures(key, label, int(row[0]), int(row[1]), int(row[2]),
                   Decimal(row[3]) if with_cost else None)


def _visits(stmt, rights):
    """Return `stmt` over the vouchers that offices in the user's scope referred."""
    return scoped(stmt, rights, model=Voucher, side=CABINET)


def _period_key(grouping: str, dialect: str):
    """Return the SQL expression of a voucher's day or month (first day of the month)."""
    if grouping == "day":
        return Voucher.service_date
    if dialect == "postgresql":
        return cast(func.date_trunc("month", Voucher.service_date), Date)
    return func.strftime("%Y-%m-01", Voucher.service_date)


def statistics(session, rights, start: dt.date, end: dt.date, grouping: str = "day",
               unit_id: int | None = None) -> Statistics:
    """Return the statistics of the offices in the user's scope (or of one of them)
    for the period, with the cost only under «Просмотр информации о стоимости».

    Raises ValidationError for a bad period or grouping; an office outside the scope
    gives empty figures, as an office with no visits does.
    """
    start, end = check_period(start, end)
    if grouping not in GROUPINGS:
        raise ValidationError(_("Группировка — по дням или по месяцам"))
    with_cost = rights.allows(COST_RIGHT)
    where = [Voucher.service_date >= start, Voucher.service_date <= end,
             Voucher.referring_unit_id.is_not(None)]
    if unit_id is not None:
        where.append(Voucher.referring_unit_id == unit_id)
    measures = _measures(with_cost)
    units = session.execute(_visits(
        select(Voucher.referring_unit_id, Unit.name, *measures)
        .join(Unit, Unit.id == Voucher.referring_unit_id).where(*where)
        .group_by(Voucher.referring_unit_id, Unit.name).order_by(Unit.name), rights)).all()
    period = _period_key(grouping, session.get_bind().dialect.name).label("period")
    periods = session.execute(_visits(select(period, *measures).where(*where)
                                      .group_by(period).order_by(period), rights)).all()
    total = session.execute(_visits(select(*measures).where(*where), rights)).one()
    return Statistics(
        start, end, grouping, with_cost,
        [_figures(row[0], row[1], row[2:], with_cost) for row in units],
        [_figures(_as_date(row[0]), _period_label(_as_date(row[0]), grouping), row[1:],
                  with_cost) for row in periods],
        _figures(None, _("Итого"), total, with_cost))


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


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
    return [_figures(row[0], " ".join(p for p in row[1:4] if p), row[4:], with_cost)
            for row in rows]


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
