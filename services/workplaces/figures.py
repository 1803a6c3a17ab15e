"""A branch's day and month in figures: vouchers, patients, services rendered and
their sum, over the vouchers the user sees in his scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from models.vouchers import Voucher, VoucherLine, seen_by
from security.scope import scoped


@dataclass(frozen=True)
class Figures:
    """What a period came to."""

    vouchers: int
    patients: int
    services: int
    total: Decimal


def _figures(session, rights, start: dt.date, end: dt.date) -> Figures:
    where = [Voucher.service_date >= start, Voucher.service_date <= end]
    seen = seen_by(rights)
    if seen is not None:
        where.append(seen)
    vouchers, patients, total = session.execute(scoped(
        select(func.count(Voucher.id), func.count(func.distinct(Voucher.patient_id)),
               func.coalesce(func.sum(Voucher.total), 0)).where(*where),
        rights, model=Voucher)).one()
    ids = scoped(select(Voucher.id).where(*where), rights, model=Voucher)
    services = session.scalar(
        select(func.coalesce(func.sum(VoucherLine.quantity), 0))
        .where(VoucherLine.voucher_id.in_(ids.scalar_subquery()),
               VoucherLine.state != "cancelled"))
    return Figures(vouchers, patients, int(services), Decimal(total))


def day_and_month(session, rights, today: dt.date) -> dict:
    """Return {"day": Figures of today, "month": of this month up to today, "last": of
    last month up to the same day}."""
    first = today.replace(day=1)
    last_end = first - dt.timedelta(days=1)
    last_start = last_end.replace(day=1)
    last_same = min(last_start.replace(day=min(today.day, last_end.day)), last_end)
    return {"day": _figures(session, rights, today, today),
            "month": _figures(session, rights, first, today),
            "last": _figures(session, rights, last_start, last_same)}
