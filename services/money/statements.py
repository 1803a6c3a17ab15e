"""What the money screens read: accounts found by their holder, an account's
statement, a patient's lines to pay or to refund, the transactions over all
accounts, a register's state. Every query goes through the row scope."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from core.errors import NotFound
from models.money import ACCOUNT_RIGHTS, Account, Receipt, Register, Shift, Transaction
from models.parties import Organisation
from models.patients import Patient
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped, side_of
from services.money.accounts import line_paid, paid_state
from services.money.refunds import refundable

PAGE = 50
CENT = Decimal("0.01")
ACCOUNT = Account.__table__


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


def balance(session, rights, account_id: int) -> Decimal | None:
    """Return the account's running balance, or None for an account the user may
    not see (outside his scope, or of a kind he has no view of).

    The hot read of the cash desk and the API, kept lean: the stored balance read by
    primary key (no ORM object, nothing summed), the kinds and the units in scope
    taken from the rights resolved once per request, and the statement `scoped()`
    builds compiled once per user, scope and kinds (`_balance_sql`) and run on the
    driver's cursor, so a call is one round trip with no statement building or
    compiling. (Being below SQLAlchemy, the read is not seen by its statement
    events: it changes nothing, so the journal has nothing to miss.)"""
    kinds = tuple(kinds_seen(rights))
    if not kinds:
        return None
    conn = session.connection()
    sql, params = _balance_sql(conn.dialect, rights, kinds)
    if isinstance(params, tuple):
        args = tuple(account_id if p is _ACCOUNT else p for p in params)
    else:
        args = {**params, "account_id": account_id}
    # The driver's cursor on the session's connection (its transaction): SQLAlchemy's
    # execution context would cost a third of the round trip here.
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, args)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        return None
    # The driver's own value: a Decimal from PostgreSQL, a number from SQLite.
    value = row[0]
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(CENT)


def balance_or_404(session, rights, account_id: int) -> Decimal:
    """Return `balance(...)`; raises NotFound for an account the user may not see."""
    value = balance(session, rights, account_id)
    if value is None:
        raise NotFound(_("Лицевой счёт не найден"))
    return value


_ACCOUNT = object()
#: (dialect, user, scope, side, kinds) -> the compiled balance statement.
_COMPILED: dict = {}


def _balance_sql(dialect, rights, kinds: tuple) -> tuple[str, dict | tuple]:
    """Return the SQL text and parameters (a dict, or a tuple with `_ACCOUNT` where
    the account's id goes) of the scoped balance read, compiled once per key."""
    key = (dialect.name, rights.user_id, rights.scope, side_of(rights), kinds)
    found = _COMPILED.get(key)
    if found is None:
        stmt = scoped(select(ACCOUNT.c.balance).where(
            ACCOUNT.c.id == bindparam("account_id", 0), ACCOUNT.c.kind.in_(kinds)),
            rights, model=Account)
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params()
        if compiled.positional:
            params = tuple(_ACCOUNT if name == "account_id" else values[name]
                           for name in compiled.positiontup)
        else:
            params = {name: value for name, value in values.items() if name != "account_id"}
        found = (compiled.string, params)
        if len(_COMPILED) > 4096:  # many users in a long-lived worker: start again
            _COMPILED.clear()
        _COMPILED[key] = found
    return found


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


def patient_invoices(session, rights, patient_id: int, limit: int = 20) -> list:
    """Return the patient's confirmed invoices in the user's scope (unpaid, part-paid
    and paid), newest first: what the cash desk shows and takes payment for."""
    from models.invoices import Invoice

    return session.scalars(scoped(select(Invoice).where(
        Invoice.kind == "patient", Invoice.patient_id == patient_id, Invoice.total > 0,
        Invoice.state.in_(("confirmed", "partly_paid", "paid")))
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(limit), rights)).all()


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
