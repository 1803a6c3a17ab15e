"""Personal accounts: who may do what with which kind of account, finding or opening
a patient's account, the account's flags, and `post`, the one way a transaction
reaches an account (balance under a row lock, never below zero unless allowed,
chained).

Access levels of «Лицевые счета пациентов / организаций»: view shows an account and
its statement; edit posts on it (payments, deposits, refunds, transfers) and changes
its flags; create opens accounts; delete is kept for the transactions rules.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.errors import NotFound, ValidationError
from models.base import lock_row
from models.money import ACCOUNT_RIGHTS, HOLDER_COLUMNS, PAYER_KINDS, Account, Transaction
from models.org import Unit
from models.parties import Individual, Insurer, Organisation
from models.patients import Patient
from security.scope import READ, WRITE, scoped
from services.admin.params import check_open
from services.boundary import command
from services.money import chain

DISABLE_REGISTER_RIGHT = "payment.disable_cash_register"
CENT = Decimal("0.01")
#: The holder's model of each kind of a contract payer's account.
HOLDER_MODELS = {"organisation": Organisation, "insurer": Insurer, "individual": Individual}


class AccountExists(ValidationError):
    """The holder already has an account in the branch: `account_id` is it."""

    def __init__(self, message: str, account_id: int, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.account_id = account_id


def now() -> dt.datetime:
    """Return the current time in UTC, naive (as the columns store it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_key() -> str:
    """Return a fresh idempotency key for an operation a screen is about to offer."""
    return uuid.uuid4().hex


def money(raw, field: str = "amount", *, positive: bool = True) -> Decimal:
    """Return `raw` (text with a comma or a point, or a number) as an amount of money.

    Raises ValidationError for text that is not an amount with at most two decimals,
    or not above zero when `positive`."""
    text = str(raw if raw is not None else "").strip().replace(" ", "").replace("\u00a0", "")
    try:
        value = Decimal(text.replace(",", "."))
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite() or value != value.quantize(CENT):
        raise ValidationError(_("Сумма «%(v)s» не распознана", v=text), field=field)
    if positive and value <= 0:
        raise ValidationError(_("Сумма должна быть больше нуля"), field=field)
    return value


def require_kind(rights, kind: str, level: str) -> None:
    """Pass when the user holds `level` on the accounts of `kind`; raises Forbidden."""
    rights.require(ACCOUNT_RIGHTS[kind], level)


def account_in_scope(session, rights, account_id, level: str = "view",
                     action: str = READ) -> Account:
    """Return the account `account_id` the user may reach at `level`.

    Raises NotFound (outside his scope or unknown) or Forbidden (his level on the
    account's kind is lower)."""
    stmt = select(Account).where(Account.id == account_id)
    account = session.scalar(scoped(stmt, rights, action))
    if account is None:
        raise NotFound(_("Лицевой счёт не найден"))
    require_kind(rights, account.kind, level)
    return account


def patient_account(session, rights, patient_id: int, branch_id: int) -> Account:
    """Return the patient's account in the branch, opening one if he has none yet
    (with «создание» on patients' accounts). Raises NotFound for a patient outside
    the user's scope, Forbidden without the right."""
    patient = session.scalar(scoped(select(Patient).where(Patient.id == patient_id), rights))
    if patient is None:
        raise NotFound(_("Пациент не найден"))
    account = session.scalar(select(Account).where(Account.patient_id == patient_id,
                                                   Account.branch_id == branch_id))
    if account is not None:
        require_kind(rights, "patient", "view")
        return account
    require_kind(rights, "patient", "create")
    return find_or_open(session, {"kind": "patient", "patient_id": patient_id,
                                  "branch_id": branch_id})[0]


def find_or_open(session, holder: dict) -> tuple[Account, bool]:
    """Return the account of `holder` (kind, the holder's column, branch_id) and
    whether this call opened it: the existing one, or a new one with nothing on it.
    Checks no right: callers do."""
    account = session.scalar(select(Account).filter_by(**holder))
    if account is not None:
        return account, False
    account = Account(**holder, balance=Decimal("0"), advance=Decimal("0"))
    try:
        # Two users opening the same account: the unique key lets one insert; the
        # other reads the row the first one wrote.
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        return session.scalar(select(Account).filter_by(**holder)), False
    return account, True


def payer_holder_in_scope(session, rights, kind: str, holder_id):
    """Return the organisation, insurer or individual (`kind`) of id `holder_id` that
    the user sees. Raises ValidationError (no kind or holder chosen) or NotFound
    (unknown or outside his scope)."""
    model = HOLDER_MODELS.get(kind)
    if model is None:
        raise ValidationError(_("Выберите вид владельца счёта"), field="kind")
    if holder_id is None:
        raise ValidationError(_("Выберите владельца счёта"), field="holder")
    found = session.scalar(scoped(select(model).where(model.id == holder_id), rights))
    if found is None:
        raise NotFound(_("Владелец счёта не найден"), field="holder")
    return found


def find_payers(session, rights, kind: str, text: str, limit: int = 20, *,
                ids=None) -> list[tuple[int, str]]:
    """Return the (id, name) of the organisations, insurers or individuals (`kind`) the
    user sees whose name holds `text` (an individual: whose last name starts with it),
    or whose id is in `ids` when given, by name, the first `limit`; none for an unknown
    kind or text under 2 characters."""
    model, text = HOLDER_MODELS.get(kind), (text or "").strip()
    if model is not None and ids is not None:
        rows = session.scalars(scoped(select(model).where(model.id.in_(list(ids))), rights))
        return [(row.id, str(row)) for row in rows]
    if model is None or len(text) < 2:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if model is Individual:
        column, pattern, order = (Individual.last_name, f"{escaped}%",
                                  [Individual.last_name, Individual.first_name])
    else:
        # «СК «Ингосстрах»»: the distinctive word is rarely the first.
        column, pattern, order = model.name, f"%{escaped}%", [model.name]
    match = func.lower(column).like(pattern.lower(), escape="\\")
    rows = session.scalars(scoped(select(model).where(match).order_by(*order, model.id)
                                  .limit(limit), rights))
    return [(row.id, str(row)) for row in rows]


def branch_choices(session, rights) -> list[Unit]:
    """Return the branches where the user may open accounts (written ones), by name."""
    stmt = select(Unit).where(Unit.kind == "branch").order_by(Unit.name)
    return list(session.scalars(scoped(stmt, rights, WRITE)))


@command
def open_payer_account(session, rights, *, kind: str, holder_id, branch_id) -> Account:
    """Open by hand the personal account of a contract's payer (an organisation, an
    insurer or an individual: `kind`) in a branch; needs «создание» on «Лицевые счета
    организаций». Returns the new account (journaled by the session hook).

    Raises Forbidden (no right), NotFound (holder or branch outside the user's scope),
    ValidationError (nothing chosen) or AccountExists (he has one there already)."""
    # The three kinds share one right: check it before telling anything about the rows.
    require_kind(rights, kind if kind in PAYER_KINDS else "organisation", "create")
    payer_holder_in_scope(session, rights, kind, holder_id)
    if branch_id is None:
        raise ValidationError(_("Выберите филиал"), field="branch")
    branch = session.scalar(scoped(select(Unit).where(Unit.id == branch_id,
                                                      Unit.kind == "branch"), rights, WRITE))
    if branch is None:
        raise NotFound(_("Филиал не найден"), field="branch")
    account, opened = find_or_open(session, {"kind": kind, HOLDER_COLUMNS[kind]: holder_id,
                                             "branch_id": branch.id})
    if not opened:
        raise AccountExists(_("У владельца уже есть лицевой счёт в филиале «%(b)s»: "
                              "ЛС № %(n)s", b=branch.name, n=account.id),
                            account.id, field="holder")
    return account


@command
def set_flags(session, account_id: int, rights, *, no_cash_desk: bool,
              allow_negative: bool) -> Account:
    """Change an account's flags («Не работать через кассу» needs «Отключение работы
    через кассу»). Returns the account. Raises Forbidden / NotFound."""
    account = account_in_scope(session, rights, account_id, "edit", WRITE)
    if no_cash_desk != account.no_cash_desk:
        rights.require(DISABLE_REGISTER_RIGHT, field="no_cash_desk")
    if not allow_negative and account.balance < 0:
        raise ValidationError(_("Остаток счёта отрицательный: запрет отрицательного остатка "
                                "возможен после пополнения"), field="allow_negative")
    account.no_cash_desk, account.allow_negative = no_cash_desk, allow_negative
    return account


def post(session, account: Account, kind: str, amount: Decimal, delta: Decimal, *,
         key: str, user_id, **links) -> Transaction:
    """Post one transaction on `account` (locked first) and chain it. Returns it.

    Raises ValidationError when the balance would go below zero on an account that
    does not allow it (the database's CHECK is the last guard)."""
    lock_row(session, Account, account.id)
    session.refresh(account, ["balance", "advance"])
    if delta < 0 and not account.allow_negative and account.balance + delta < 0:
        raise ValidationError(_("На лицевом счёте недостаточно средств: остаток %(b)s, "
                                "нужно %(n)s", b=account.balance, n=-delta), field="amount")
    account.balance += delta
    stamp = now()
    tx = Transaction(idem_key=key, branch_id=account.branch_id, account_id=account.id,
                     kind=kind, amount=amount, delta=delta, posted_on=stamp.date(),
                     created_on=stamp, created_by_id=user_id,
                     discount_amount=links.pop("discount_amount", Decimal("0")), **links)
    session.add(tx)
    session.flush()
    chain.append(session, "transaction", tx)
    return tx


def check_day_open(session, branch_id: int, rights, *days) -> None:
    """Refuse money documents in the closed reporting period (today by default)."""
    check_open(session, branch_id, *(days or (now().date(),)), rights=rights)


def line_paid(session, line_ids) -> dict[int, Decimal]:
    """Return, for each voucher line, what is paid of it (payments with their
    discounts, less refunds), reversed payments excluded."""
    if not line_ids:
        return {}
    paid = {line: Decimal("0") for line in line_ids}
    rows = session.execute(
        select(Transaction.voucher_line_id, Transaction.kind,
               func.sum(Transaction.amount + Transaction.discount_amount))
        .where(Transaction.voucher_line_id.in_(list(line_ids)),
               Transaction.kind.in_(("payment", "refund")), Transaction.reversed.is_(False))
        .group_by(Transaction.voucher_line_id, Transaction.kind))
    for line, kind, total in rows:
        paid[line] += Decimal(total) if kind == "payment" else -Decimal(total)
    return paid


PAID_LABELS = {"paid": _l("Оплачена"), "part": _l("Оплачена частично"), "none": _l("Не оплачена")}


def paid_state(amount: Decimal, paid: Decimal) -> str:
    """Return "paid", "part" or "none" for a line of `amount` with `paid` of it paid."""
    if paid <= 0:
        return "none"
    return "paid" if paid >= amount else "part"
