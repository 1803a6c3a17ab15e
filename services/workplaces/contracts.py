"""The contract keeper's day: contracts and guarantee letters ending soon, and the
programmes whose patients come near their cost limit (used against left)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from models.contracts import Contract, PaymentGuarantee
from models.patients import Attachment
from models.programmes import Programme
from models.vouchers import VoucherLine
from security.scope import scoped
from services.vouchers.limits import insurance_period

#: "Soon" is this many days ahead; "near the limit" is this share of it used.
SOON_DAYS = 30
NEAR_SHARE = Decimal("0.8")


@dataclass
class Usage:
    """A programme's cost limit over its attachments active on a day."""

    programme: Programme
    attached: int = 0
    limit: Decimal = Decimal(0)
    used: Decimal = Decimal(0)
    near: int = 0  # patients who used NEAR_SHARE of their limit or more

    @property
    def left(self) -> Decimal:
        """Return what is left of the limits (never below zero)."""
        return max(self.limit - self.used, Decimal(0))


def ending_contracts(session, rights, today: dt.date, days: int = SOON_DAYS) -> list[Contract]:
    """Return the contracts in scope in force today and ending within `days`, soonest first."""
    return list(session.scalars(scoped(
        select(Contract).where(Contract.valid_to.is_not(None), Contract.valid_to >= today,
                               Contract.valid_to <= today + dt.timedelta(days=days),
                               Contract.valid_from <= today)
        .order_by(Contract.valid_to, Contract.number), rights)))


def ending_guarantees(session, rights, today: dt.date,
                      days: int = SOON_DAYS) -> list[PaymentGuarantee]:
    """Return the guarantee letters in scope in force today and ending within `days`."""
    return list(session.scalars(scoped(
        select(PaymentGuarantee).where(
            PaymentGuarantee.valid_to.is_not(None), PaymentGuarantee.valid_to >= today,
            PaymentGuarantee.valid_to <= today + dt.timedelta(days=days))
        .options(selectinload(PaymentGuarantee.contract))
        .order_by(PaymentGuarantee.valid_to), rights)))


def programme_usage(session, rights, today: dt.date, contract_id: int | None = None
                    ) -> list[Usage]:
    """Return the cost limits of the programmes in scope that have one (of one contract
    when `contract_id` is given): per programme, its attachments active `today`, the sum
    of their limits, what their lines used in each one's current insurance period
    (cancelled lines aside) and how many patients are near their limit."""
    programmes = select(Programme).where(Programme.max_cost.is_not(None))
    if contract_id is not None:
        programmes = programmes.where(Programme.contract_id == contract_id)
    usage = {p.id: Usage(p) for p in session.scalars(scoped(programmes, rights))}
    if not usage:
        return []
    attachments = session.scalars(scoped(select(Attachment).where(
        Attachment.programme_id.in_(usage), Attachment.valid_from <= today,
        or_(Attachment.valid_to.is_(None), Attachment.valid_to >= today)), rights)).all()
    periods = {a.id: (a, insurance_period(a, usage[a.programme_id].programme, today))
               for a in attachments}
    spent: dict[int, Decimal] = {}
    if periods:
        earliest = min(start for _a, (start, _end) in periods.values())
        for attachment_id, day, amount in session.execute(
                select(VoucherLine.attachment_id, VoucherLine.service_date,
                       func.sum(VoucherLine.amount))
                .where(VoucherLine.attachment_id.in_(periods), VoucherLine.state != "cancelled",
                       VoucherLine.service_date >= earliest, VoucherLine.service_date <= today)
                .group_by(VoucherLine.attachment_id, VoucherLine.service_date)):
            start, end = periods[attachment_id][1]
            if start <= day <= end:
                spent[attachment_id] = spent.get(attachment_id, Decimal(0)) + Decimal(amount)
    for attachment, _period in periods.values():
        row = usage[attachment.programme_id]
        used = spent.get(attachment.id, Decimal(0))
        row.attached += 1
        row.limit += row.programme.max_cost
        row.used += used
        if row.programme.max_cost and used >= row.programme.max_cost * NEAR_SHARE:
            row.near += 1
    return sorted(usage.values(), key=lambda u: (-u.near, u.programme.code))


def programmes_near_limit(session, rights, today: dt.date) -> list[Usage]:
    """Return the programmes with at least one patient near his cost limit."""
    return [u for u in programme_usage(session, rights, today) if u.near]
