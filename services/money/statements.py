"""What the money screens read: accounts found by their holder, an account's
statement, a patient's lines to pay or to refund, the transactions over all
accounts, a register's state. Every query goes through the row scope."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from models.money import ACCOUNT_RIGHTS, Account, Receipt, Register, Shift, Transaction
from models.parties import Organisation
from models.patients import Patient
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped
from services.money.accounts import line_paid, paid_state
from services.money.refunds import refundable

PAGE = 50


def kinds_seen(rights) -> list[str]:
    """Return the kinds of account the user may view."""
    return [kind for kind, code in ACCOUNT_RIGHTS.items() if rights.allows(code, "view")]


def accounts(session, rights, kind: str, text: str = "", limit: int = PAGE) -> list[Account]:
    """Return the accounts of `kind` in the user's scope whose holder's name starts
    with `text` (all of them, first `limit`, without), by holder's name."""
    stmt = select(Account).where(Account.kind == kind)
    text = (text or "").strip().lower()
    if kind == "patient":
        stmt = stmt.join(Patient, Patient.id == Account.patient_id).order_by(Patient.name_key)
        if text:
            stmt = stmt.where(Patient.name_key.like(f"{text.replace('ё', 'е')}%"))
    else:
        stmt = stmt.join(Organisation, Organisation.id == Account.organisation_id) \
            .order_by(Organisation.name)
        if text:
            stmt = stmt.where(func.lower(Organisation.name).like(f"{text}%"))
    stmt = stmt.options(joinedload(Account.patient), joinedload(Account.organisation),
                        joinedload(Account.branch))
    return session.scalars(scoped(stmt, rights).limit(limit)).all()


def statement(session, account: Account, limit: int = 200) -> list[Transaction]:
    """Return the account's transactions, newest first (the first `limit`)."""
    return session.scalars(select(Transaction).where(Transaction.account_id == account.id)
                           .options(joinedload(Transaction.voucher_line)
                                    .joinedload(VoucherLine.service),
                                    joinedload(Transaction.receipt),
                                    joinedload(Transaction.created_by))
                           .order_by(Transaction.id.desc()).limit(limit)).all()


def balance_from_transactions(session, account_id: int) -> Decimal:
    """Return the balance as the sum of the account's transactions (the check of
    the running balance the account keeps)."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(Transaction.delta), 0))
                                  .where(Transaction.account_id == account_id)))


@dataclass(frozen=True)
class LineRow:
    """A voucher line on the cash desk: what it costs, what is paid, what is left."""

    line: VoucherLine
    paid: Decimal
    cash: Decimal
    state: str

    @property
    def left(self) -> Decimal:
        return max(self.line.amount - self.paid, Decimal("0"))


def patient_lines(session, rights, patient_id: int, days: int = 90) -> list[LineRow]:
    """Return the patient's lines he pays himself (not cancelled) of the last `days`
    days in the user's scope, newest voucher first."""
    since = dt.date.today() - dt.timedelta(days=days)
    lines = session.scalars(scoped(
        # Not a join: the scope's rule on the voucher is a correlated EXISTS over it.
        select(VoucherLine).where(
            VoucherLine.voucher_id.in_(select(Voucher.id).where(Voucher.patient_id == patient_id)),
            VoucherLine.payer_kind == "patient",
               VoucherLine.state.in_(("rendered", "paid")), VoucherLine.service_date >= since)
        .options(joinedload(VoucherLine.service), joinedload(VoucherLine.voucher))
        .order_by(VoucherLine.service_date.desc(), VoucherLine.id), rights)).all()
    paid = line_paid(session, [line.id for line in lines])
    return [LineRow(line, paid[line.id], refundable(session, line.id)[0],
                    paid_state(line.amount, paid[line.id])) for line in lines]


def find_patients(session, rights, text: str, limit: int = 20) -> list[Patient]:
    """Return patients in the user's scope whose name starts with `text`."""
    text = (text or "").strip().lower().replace("ё", "е")
    if len(text) < 2:
        return []
    return session.scalars(scoped(select(Patient).where(
        or_(Patient.name_key.like(f"{text}%"))).order_by(Patient.name_key).limit(limit),
        rights)).all()


def registers(session, rights) -> list[Register]:
    """Return the registers the user may work with, by name."""
    return session.scalars(scoped(select(Register).order_by(Register.name), rights)).all()


def current_shift(session, register: Register) -> Shift | None:
    """Return the register's open shift, or its last closed one."""
    return session.scalar(select(Shift).where(Shift.register_id == register.id)
                          .order_by(Shift.state.desc(), Shift.number.desc()).limit(1))


def shift_receipts(session, shift: Shift) -> list[Receipt]:
    """Return the shift's receipts, newest first."""
    return session.scalars(select(Receipt).where(Receipt.shift_id == shift.id)
                           .order_by(Receipt.id.desc())).all()


def reconciliation(shift: Shift) -> dict:
    """Return the stored reconciliation of a closed shift (differences, sections)."""
    return json.loads(shift.reconciliation) if shift.reconciliation else {}


def all_transactions(session, rights, *, since: dt.date | None = None,
                     until: dt.date | None = None, kind: str = "",
                     limit: int = 200) -> list[Transaction]:
    """Return transactions over every account of the user's scope and kinds, newest
    first, within the dates and of the kind given."""
    stmt = select(Transaction).join(Account, Account.id == Transaction.account_id) \
        .where(Account.kind.in_(kinds_seen(rights)))
    if since:
        stmt = stmt.where(Transaction.posted_on >= since)
    if until:
        stmt = stmt.where(Transaction.posted_on <= until)
    if kind:
        stmt = stmt.where(Transaction.kind == kind)
    stmt = stmt.options(joinedload(Transaction.account).joinedload(Account.patient),
                        joinedload(Transaction.account).joinedload(Account.organisation))
    return session.scalars(scoped(stmt, rights).order_by(Transaction.id.desc())
                           .limit(limit)).all()


def branches_seen(session, rights) -> list[int] | None:
    """Return the ids of the units the user sees (None: all of them)."""
    if rights.scope.all:
        return None
    from models.org import Unit

    return session.scalars(scoped(select(Unit.id), rights)).all()
