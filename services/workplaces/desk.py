"""The front desk's day: patients found by name and birth date, today's vouchers of
the user's branches, referrals booked and not yet formed into vouchers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models.patients import Patient, name_key
from models.referrals import Referral
from models.vouchers import Voucher, seen_by
from security.scope import scoped

#: How many rows a panel lists; the section's own list has the rest.
SHOWN = 10


def find_patients(session, rights, words: list[str], born: dt.date | None,
                  limit: int = SHOWN) -> list[Patient]:
    """Return the patients in the user's scope whose name starts with `words` (last,
    first, middle; any case, «ё» as «е») and born on `born`, by name; [] when nothing
    was typed."""
    clauses = []
    if words:
        typed = name_key(*words[:3], *[None] * (3 - len(words[:3])))
        typed = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(Patient.name_key.like(typed + "%", escape="\\"))
    if born is not None:
        clauses.append(Patient.birth_date == born)
    if not clauses:
        return []
    return list(session.scalars(scoped(
        select(Patient).where(*clauses)
        .order_by(Patient.last_name, Patient.first_name, Patient.birth_date)
        .limit(limit), rights)))


def todays_vouchers(session, rights, today: dt.date) -> dict:
    """Return {"rows": the latest vouchers of `today` the user sees, "count": all of
    them, "total": their sum}."""
    where = [Voucher.service_date == today]
    seen = seen_by(rights)
    if seen is not None:
        where.append(seen)
    count, total = session.execute(scoped(
        select(func.count(Voucher.id), func.coalesce(func.sum(Voucher.total), 0))
        .where(*where), rights, model=Voucher)).one()
    rows = session.scalars(scoped(
        select(Voucher).where(*where)
        .options(selectinload(Voucher.lines), selectinload(Voucher.patient),
                 selectinload(Voucher.doctor))
        .order_by(Voucher.id.desc()).limit(SHOWN), rights)).all()
    return {"rows": list(rows), "count": count, "total": total}


def waiting_referrals(session, rights, today: dt.date) -> dict:
    """Return {"rows": referrals not yet formed into vouchers, earliest booking first,
    "count": all of them, "due": those booked for `today` or before}."""
    booked = func.coalesce(Referral.appointment_date, Referral.issued_on)
    where = [Referral.voucher_id.is_(None)]
    count, due = session.execute(scoped(
        select(func.count(Referral.id),
               func.count(Referral.id).filter(booked <= today)).where(*where),
        rights, model=Referral)).one()
    rows = session.scalars(scoped(
        select(Referral).where(*where)
        .options(selectinload(Referral.patient), selectinload(Referral.service))
        .order_by(booked, Referral.id).limit(SHOWN), rights)).all()
    return {"rows": list(rows), "count": count, "due": due, "today": today}
