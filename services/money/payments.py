"""Paying a patient's voucher lines at the cash desk, and deposits onto an account.

A cash payment is a sale receipt with one line per voucher line (its section and
VAT); once the register confirms, the cash goes onto the patient's account
(a deposit) and pays each line from it (a payment with the discount chosen), so the
statement shows both. A line is "paid" when its payments and discounts cover its
amount, part-paid before that. A payment from the balance, or any operation on an
account marked «Не работать через кассу», posts without a receipt
(`desk.without_register`, the one rule for every operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotFound, ValidationError
from models.base import lock_row
from models.money import Account, Receipt
from models.refbooks import Discount, PaymentSection
from models.vouchers import VoucherLine
from security.scope import scoped
from services.money import desk
from services.money.accounts import (
    CENT,
    check_day_open,
    line_paid,
    now,
    patient_account,
    post,
    require_kind,
)
from services.money.fiscal import ReceiptLine

DEPOSIT_RIGHT = "payment.deposit"
SECTION_RIGHT = "payment.change_section"
DISCOUNT_RIGHT = "payment.change_discount"


@dataclass(frozen=True)
class LineChoice:
    """A voucher line to pay: how much (None: what is left) and the section chosen."""

    line_id: int
    amount: Decimal | None = None
    section_id: int | None = None


def _discount(session, rights, discount_id) -> Discount | None:
    if not discount_id:
        return None
    rights.require(DISCOUNT_RIGHT, field="discount")
    discount = session.get(Discount, discount_id)
    today = now().date()
    if (discount is None or not discount.active or discount.percent is None
            or discount.kind != "discount" or discount.valid_from > today
            or (discount.valid_to is not None and discount.valid_to < today)):
        raise ValidationError(_("Скидка не найдена или не действует"), field="discount")
    return discount


def _section(session, rights, register, section_id) -> PaymentSection:
    default = register.default_section_id
    if section_id and section_id != default:
        rights.require(SECTION_RIGHT, field="section")
    section = session.get(PaymentSection, section_id or default) if (section_id or default) \
        else None
    if section is None:
        raise ValidationError(_("Секция оплаты не выбрана (задайте секцию по умолчанию в "
                                "настройках кассы)"), field="section")
    return section


def plan_lines(session, rights, register, account: Account, choices: list[LineChoice],
               discount: Discount | None) -> list[dict]:
    """Return what to pay of each chosen line: {"line_id", "amount" (cash), "discount",
    "section_id", receipt line}. Raises ValidationError when a line is not the
    patient's, not payable, or already paid (or being paid)."""
    if not choices:
        raise ValidationError(_("Не выбрано ни одной услуги для оплаты"), field="lines")
    ids = [c.line_id for c in choices]
    lines = {line.id: line for line in session.scalars(scoped(
        select(VoucherLine).where(VoucherLine.id.in_(ids)), rights))}
    paid = line_paid(session, ids)
    reserved, _refunds, _line_refunds = desk.reserved_by_pending(session, account.id)
    planned = []
    for choice in choices:
        line = lines.get(choice.line_id)
        if line is None or line.voucher.patient_id != account.patient_id:
            raise NotFound(_("Услуга талона не найдена"))
        if line.payer_kind != "patient" or line.state not in ("rendered", "paid"):
            raise ValidationError(_("Услуга «%(s)s» не оплачивается пациентом в кассе",
                                    s=line.service), field="lines")
        left = line.amount - paid[line.id] - reserved.get(line.id, Decimal("0"))
        if left <= 0:
            raise ValidationError(_("Услуга «%(s)s» уже оплачена", s=line.service),
                                  field="lines")
        gross = choice.amount if choice.amount is not None else left
        if gross > left:
            raise ValidationError(_("К оплате за «%(s)s» осталось %(n)s", s=line.service,
                                    n=left), field="lines")
        off = Decimal("0")
        if discount is not None:
            off = (gross * discount.percent / 100).quantize(CENT, ROUND_HALF_UP)
        section = _section(session, rights, register, choice.section_id)
        planned.append({"line_id": line.id, "amount": str(gross - off), "discount": str(off),
                        "section_id": section.id,
                        "receipt": ReceiptLine(str(line.service), line.quantity, line.price,
                                               gross - off, section.register_section,
                                               register.vat_rate)})
    return planned


def _post_lines(session, receipt_id, shift_id, account, intent, key, user_id) -> None:
    for item in intent["lines"]:
        post(session, account, "payment", Decimal(item["amount"]), -Decimal(item["amount"]),
             key=f"{key}:line:{item['line_id']}", user_id=user_id,
             voucher_line_id=item["line_id"], section_id=item["section_id"],
             discount_amount=Decimal(item["discount"]), discount_id=intent.get("discount_id"),
             receipt_id=receipt_id, shift_id=shift_id)
    settle_lines(session, [item["line_id"] for item in intent["lines"]])


def settle_lines(session, line_ids) -> None:
    """Mark each line "paid" when its payments cover it, back to "rendered" when a
    refund or a reversal uncovered it."""
    paid = line_paid(session, line_ids)
    for line in session.scalars(select(VoucherLine).where(VoucherLine.id.in_(list(line_ids)))):
        if paid[line.id] >= line.amount and line.state == "rendered":
            line.state = "paid"
        elif paid[line.id] < line.amount and line.state == "paid":
            line.state = "rendered"


@desk.poster("pay")
def _post_pay(session, receipt: Receipt, intent: dict) -> None:
    account = session.get(Account, intent["account_id"])
    cash = sum(Decimal(item["amount"]) for item in intent["lines"])
    user = receipt.created_by_id
    if cash > 0 and not intent.get("from_balance"):
        post(session, account, "deposit", cash, cash, key=f"{receipt.idem_key}:deposit",
             user_id=user, receipt_id=receipt.id, shift_id=receipt.shift_id)
    _post_lines(session, receipt.id, receipt.shift_id, account, intent, receipt.idem_key, user)


@desk.poster("deposit")
def _post_deposit(session, receipt: Receipt, intent: dict) -> None:
    account = session.get(Account, intent["account_id"])
    post(session, account, "deposit", receipt.total, receipt.total, key=receipt.idem_key,
         user_id=receipt.created_by_id, receipt_id=receipt.id, shift_id=receipt.shift_id,
         section_id=intent.get("section_id"))


def take_payment(session, rights, *, key: str, register_id: int, patient_id: int,
                 choices: list[LineChoice], discount_id: int | None = None,
                 from_balance: bool = False, cashier: str = ""):
    """Take a patient's payment for voucher lines: cash through the register (returns
    the confirmed Receipt), or from his account's balance / without the register
    when his account says so (`desk.without_register`; returns None, no open shift
    needed). A repeated key is recognised.

    Raises Forbidden, NotFound, ValidationError, FiscalError (see desk.run)."""
    register = desk.register_in_scope(session, rights, register_id)
    user_id = rights.user_id

    def build() -> dict:
        require_kind(rights, "patient", "edit")
        check_day_open(session, register.branch_id, rights)
        account = patient_account(session, rights, patient_id, register.branch_id)
        lock_row(session, Account, account.id)
        discount = _discount(session, rights, discount_id)
        planned = plan_lines(session, rights, register, account, choices, discount)
        receipt_lines = [item.pop("receipt") for item in planned]
        total = sum((Decimal(item["amount"]) for item in planned), Decimal("0"))
        intent = {"op": "pay", "account_id": account.id, "lines": planned,
                  "discount_id": discount.id if discount else None,
                  "from_balance": from_balance,
                  "receipt_lines": desk.lines_json(receipt_lines)}
        return {"kind": "sale", "total": total, "account_id": account.id, "intent": intent,
                "plain": from_balance}

    # Paid from the balance (or nothing in cash), no deposit is posted: its lines'
    # keys recognise a repeated request.
    lines = [f"{key}:line:{choice.line_id}" for choice in choices[:1]]
    return desk.run(session, key, register, build, user_id=user_id, cashier=cashier,
                    extra_keys=lines)


def deposit(session, rights, *, key: str, register_id: int, account_id: int, amount: Decimal,
            cashier: str = ""):
    """Put money onto an account («Внесение на лицевой счёт»): a sale receipt of an
    advance, or no receipt for an account marked «Не работать через кассу»
    (`desk.without_register`).
    Returns the Receipt (None without one). Raises Forbidden, ValidationError…"""
    from services.money.accounts import account_in_scope

    register = desk.register_in_scope(session, rights, register_id)

    def build() -> dict:
        rights.require(DEPOSIT_RIGHT)
        account = account_in_scope(session, rights, account_id, "edit")
        check_day_open(session, register.branch_id, rights)
        section = _section(session, rights, register, None)
        line = ReceiptLine(_("Аванс на лицевой счёт"), 1, amount, amount,
                           section.register_section, register.vat_rate)
        return {"kind": "sale", "total": amount, "account_id": account.id,
                "intent": {"op": "deposit", "account_id": account.id, "section_id": section.id,
                           "receipt_lines": desk.lines_json([line])}}

    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


def order_from(body: dict) -> dict:
    """Return take_payment's arguments from a JSON body {"key", "register", "patient",
    "lines": [{"line", "amount"?, "section"?}], "discount"?, "from_balance"?}.

    Raises ValidationError for a body that is not one."""
    from services.money.accounts import money

    try:
        choices = [LineChoice(
            int(item["line"]),
            money(item["amount"], "lines") if item.get("amount") not in (None, "") else None,
            int(item["section"]) if item.get("section") else None)
            for item in body.get("lines", [])]
        return {"key": str(body["key"])[:60], "register_id": int(body["register"]),
                "patient_id": int(body["patient"]), "choices": choices,
                "discount_id": int(body["discount"]) if body.get("discount") else None,
                "from_balance": bool(body.get("from_balance"))}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValidationError(_("Нужны поля key, register, patient и lines[].line")) from None
