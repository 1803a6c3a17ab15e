"""Operations through the fiscal register, in three steps that keep money
consistent whatever the device or the process does:

1. reserve (one transaction): check the rules, write the receipt "pending" with
   what it will post (`intent`) under the operation's idempotency key;
2. print: call the driver with the key, outside any database transaction (no lock
   is held while a device prints);
3. confirm (one transaction): store the register's document number, post the
   intent's transactions, chain the receipt.

A pending receipt posts nothing and counts as nothing; its intent reserves what it
will spend, so a second payment of the same line is refused meanwhile. A retry with
the same key finds the receipt and asks the driver again with the same key: the
device answers with the document it printed, never a second one. After a crash
between printing and confirming, `recover` asks the device about each pending key:
printed -> confirmed and posted once; not printed -> failed.

An operation that goes without the register (a payment from the balance, anything
on an account marked «Не работать через кассу»: `without_register`, the one rule)
is posted in step 1 by the same poster, with no receipt and no shift.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotFound, ValidationError
from models.money import Account, Receipt, Register, Shift, Transaction
from security.scope import WRITE, scoped
from services.boundary import command
from services.money import chain
from services.money.accounts import now
from services.money.fiscal import FiscalDoc, FiscalError, ReceiptLine, driver_for

#: op name -> function(session, receipt, intent) posting a confirmed receipt's intent.
POSTERS: dict[str, Callable] = {}
#: Pending receipts younger than this may still be printing in another worker.
RECOVERY_AGE = dt.timedelta(seconds=60)


def poster(name: str):
    """Register the function posting the intents of operation `name`."""
    def register(fn):
        POSTERS[name] = fn
        return fn
    return register


def register_in_scope(session, rights, register_id) -> Register:
    """Return the register the user may work with. Raises NotFound."""
    register = session.scalar(scoped(select(Register).where(Register.id == register_id),
                                     rights, WRITE))
    if register is None:
        raise NotFound(_("Кассовый аппарат не найден"))
    return register


def open_shift_of(session, register: Register) -> Shift:
    """Return the register's open shift. Raises ValidationError when none is open."""
    shift = session.scalar(select(Shift).where(Shift.register_id == register.id,
                                               Shift.state == "open"))
    if shift is None:
        raise ValidationError(_("Смена кассы «%(r)s» не открыта: откройте смену",
                                r=register.name))
    if not register.enabled:
        raise ValidationError(_("Кассовый аппарат «%(r)s» отключён в настройках",
                                r=register.name))
    return shift


def lines_json(lines: list[ReceiptLine]) -> list[dict]:
    """Return receipt lines as JSON-ready dicts."""
    return [{"name": x.name, "quantity": x.quantity, "price": str(x.price),
             "amount": str(x.amount), "section": x.section, "vat": x.vat} for x in lines]


def lines_of(intent: dict) -> list[ReceiptLine]:
    """Return the receipt lines stored in an intent."""
    return [ReceiptLine(x["name"], x["quantity"], Decimal(x["price"]), Decimal(x["amount"]),
                        x["section"], x["vat"]) for x in intent.get("receipt_lines", [])]


@dataclass(frozen=True)
class NoReceipt:
    """What a poster reads of a receipt, for an operation posted without one."""

    idem_key: str
    created_by_id: int | None
    total: Decimal
    id: None = None
    shift_id: None = None


def without_register(session, plan: dict) -> bool:
    """The one rule of «Не работать через кассу» for every operation on an account.

    Returns True when the planned operation posts without a receipt: a payment from
    the balance (`plan["plain"]`), or any operation on an account marked «Не работать
    через кассу» (money in — deposit, voucher lines, invoice — and money out — a
    refund — move on the account only, the register prints nothing). Raises
    ValidationError for such an account when the operation gives back money that
    came in through a receipt (`plan["receipted"]`: a refund of a line paid, or the
    reversal of a transaction, through the register): the law wants a refund receipt
    for it, which the account may not print."""
    account = session.get(Account, plan["account_id"]) if plan.get("account_id") else None
    if account is None or not account.no_cash_desk:
        return bool(plan.get("plain"))
    if plan.get("receipted"):
        raise ValidationError(_("Оплата прошла через кассу и возвращается только чеком "
                                "возврата, а лицевой счёт отмечен «Не работать через кассу»: "
                                "снимите отметку, чтобы вернуть деньги через кассу"))
    return True


def _posted_without_register(session, key: str, extra_keys=()) -> bool:
    """Return whether an operation of `key` was posted without a receipt already: a
    transaction under `key`, `key:deposit` or one of `extra_keys` (the keys its
    poster gives when it posts no deposit). Exact keys, not a prefix: the unique
    index answers, whatever the database's collation."""
    keys = [key, f"{key}:deposit", *extra_keys]
    return session.scalar(select(Transaction.id).where(Transaction.idem_key.in_(keys))
                          .limit(1)) is not None


@command
def reserve(session, key: str, register: Register, build: Callable[[], dict],
            user_id, extra_keys=()) -> Receipt | None:
    """Step 1: return the receipt of `key`, writing it pending when new (or when a
    former attempt failed) from `build()`: {"kind", "total", "account_id", "intent",
    "plain"?, "receipted"?}, which checks every rule. An operation that goes without
    the register (`without_register`) is posted here at once and None returned (also
    for a repeated key, recognised by `_posted_without_register(key, extra_keys)`).
    Raises what `build` and `without_register` raise."""
    receipt = session.scalar(select(Receipt).where(Receipt.idem_key == key).with_for_update())
    if receipt is not None and receipt.state != "failed":
        return receipt
    if receipt is None and _posted_without_register(session, key, extra_keys):
        return None
    plan = build()
    if without_register(session, plan):
        _load_posters()
        POSTERS[plan["intent"]["op"]](session, NoReceipt(key, user_id, plan["total"]),
                                      plan["intent"])
        return None
    shift = open_shift_of(session, register)
    if receipt is None:
        receipt = Receipt(idem_key=key, branch_id=register.branch_id, register_id=register.id,
                          created_on=now(), created_by_id=user_id)
        session.add(receipt)
    receipt.shift_id, receipt.kind, receipt.state, receipt.error = shift.id, plan["kind"], \
        "pending", None
    receipt.total, receipt.account_id = plan["total"], plan.get("account_id")
    receipt.intent = json.dumps(plan["intent"], ensure_ascii=False)
    session.flush()
    return receipt


def device_print(driver, receipt: Receipt, cashier: str) -> FiscalDoc:
    """Step 2: ask the device to print the receipt under its key; returns its document."""
    intent = json.loads(receipt.intent)
    if receipt.kind in ("sale", "refund"):
        return driver.receipt(receipt.idem_key, receipt.kind, lines_of(intent), cashier,
                              cashless=bool(intent.get("cashless")))
    if receipt.kind == "cash_in":
        return driver.cash_in(receipt.idem_key, receipt.total, cashier)
    if receipt.kind == "cash_out":
        return driver.cash_out(receipt.idem_key, receipt.total, cashier)
    return driver.zero_receipt(receipt.idem_key, cashier)


@command
def confirm(session, receipt_id: int, doc: FiscalDoc) -> Receipt:
    """Step 3: mark the receipt printed with the device's numbers and post its
    intent, once: a receipt confirmed already is returned as it is."""
    receipt = session.scalar(select(Receipt).where(Receipt.id == receipt_id).with_for_update()
                             .execution_options(populate_existing=True))
    if receipt.state == "confirmed":
        return receipt
    receipt.state, receipt.fiscal_number, receipt.shift_receipt = "confirmed", doc.number, \
        doc.receipt
    receipt.error = None
    session.flush()
    chain.append(session, "receipt", receipt)
    intent = json.loads(receipt.intent)
    _load_posters()
    POSTERS[intent["op"]](session, receipt, intent)
    return receipt


def _load_posters() -> None:
    """Import the modules that register posters: recovery from the command line may
    confirm a receipt before any screen imported them (they import this module)."""
    import services.money.invoices
    import services.money.payments
    import services.money.refunds
    import services.money.reversals  # noqa: F401


@command
def fail(session, receipt_id: int, message: str) -> None:
    """Mark a pending receipt not printed: it posts nothing and reserves nothing."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is not None and receipt.state == "pending":
        receipt.state, receipt.error = "failed", message[:500]


def run(session, key: str, register: Register, build: Callable[[], dict], *, user_id,
        cashier: str, extra_keys=()) -> Receipt | None:
    """Run a fiscal operation through its three steps; returns the confirmed receipt,
    or None for an operation posted without the register (`without_register`).

    Raises what the rules raise (nothing written), FiscalError when the device
    refused (the receipt failed; a retry with the same key may try again) or
    FiscalTimeout (the receipt stays pending; a retry or `recover` settles it)."""
    receipt = reserve(session, key, register, build, user_id, extra_keys)
    if receipt is None:
        return None  # posted on the account only: no register, no shift
    if receipt.state == "confirmed":
        return receipt  # a repeated request: recognised by its key, not repeated
    receipt_id = receipt.id
    try:
        doc = device_print(driver_for(register.serial, session), receipt, cashier)
    except FiscalError as exc:
        if not exc.printed_unknown:
            fail(session, receipt_id, str(exc))
        raise
    return confirm(session, receipt_id, doc)


def recover(session, register: Register, *, all_ages: bool = False) -> dict[str, int]:
    """Settle the register's pending receipts by their keys: printed -> confirmed
    and posted; not printed -> failed. Receipts younger than RECOVERY_AGE are left
    (another worker may be printing them) unless `all_ages`. Returns the counts."""
    stmt = select(Receipt.id, Receipt.idem_key).where(Receipt.register_id == register.id,
                                                      Receipt.state == "pending")
    if not all_ages:
        stmt = stmt.where(Receipt.created_on < now() - RECOVERY_AGE)
    pending = session.execute(stmt).all()
    session.rollback()  # end the read: each receipt is settled in its own transaction
    counts = {"confirmed": 0, "failed": 0}
    driver = driver_for(register.serial, session)
    for receipt_id, key in pending:
        doc = driver.find(key)
        if doc is not None:
            confirm(session, receipt_id, doc)
            counts["confirmed"] += 1
        else:
            fail(session, receipt_id, _("Кассовый аппарат не пробил чек"))
            counts["failed"] += 1
    return counts


def reserved_by_pending(session, account_id: int):
    """Return what the account's pending receipts will spend: payments per voucher
    line, cash refunds from its balance, refunds per voucher line."""
    lines: dict[int, Decimal] = {}
    line_refunds: dict[int, Decimal] = {}
    refunds = Decimal("0")
    for raw, kind, total in session.execute(select(
            Receipt.intent, Receipt.kind, Receipt.total).where(
            Receipt.account_id == account_id, Receipt.state == "pending")):
        intent = json.loads(raw)
        for line in intent.get("lines", []):
            lines[line["line_id"]] = lines.get(line["line_id"], Decimal("0")) + \
                Decimal(line["amount"]) + Decimal(line.get("discount", "0"))
        if kind == "refund" and intent.get("line_id"):
            line_refunds[intent["line_id"]] = line_refunds.get(intent["line_id"], 0) + total
        elif kind == "refund" and intent.get("op") in ("refund", "reverse"):
            refunds += total
    return lines, refunds, line_refunds


def reserved_for_invoice(session, invoice_id: int) -> Decimal:
    """Return what the receipts waiting for the register will pay of an invoice."""
    total = Decimal("0")
    for raw, amount in session.execute(select(Receipt.intent, Receipt.total).where(
            Receipt.state == "pending", Receipt.kind == "sale")):
        if json.loads(raw).get("invoice_id") == invoice_id:
            total += amount
    return total
