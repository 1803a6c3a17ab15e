"""The cash desk's day: open a shift, X report (totals, the shift stays open), Z
report (closes the shift and reconciles the register's totals with the receipts
and the transactions of the shift), cash in / out, a zero receipt, the report by
sections, and the registers' settings. Each operation needs its right of
«Документы / Касса».
"""

from __future__ import annotations

import json
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.errors import ValidationError
from models.money import Receipt, Register, Shift, Transaction
from services.boundary import command
from services.money import chain, desk
from services.money.accounts import now
from services.money.fiscal import FiscalDoc, driver_for

RIGHTS = {"z": "cash.z_report", "x": "cash.x_report", "sections": "cash.section_report",
          "cash_in": "cash.cash_in", "cash_out": "cash.cash_out", "zero": "cash.zero_receipt",
          "settings": "cash.settings"}
#: Who may open a shift: a cashier who may close it, or take payments.
OPEN_RIGHTS = (("cash.z_report", None), ("payment.patient_accounts", "edit"))


def open_shift(session, rights, register_id: int, *, key: str, cashier: str = "") -> Shift:
    """Open a shift on the register and in the database. Returns the shift.

    Raises Forbidden, ValidationError (a shift is open already), FiscalError."""
    register = desk.register_in_scope(session, rights, register_id)
    if not any(rights.allows(code, level) for code, level in OPEN_RIGHTS):
        rights.require("cash.z_report")
    if not register.enabled:
        raise ValidationError(_("Кассовый аппарат «%(r)s» отключён в настройках",
                                r=register.name))
    existing = session.scalar(select(Shift).where(Shift.register_id == register.id,
                                                  Shift.state == "open"))
    if existing is not None:
        raise ValidationError(_("Смена № %(n)s уже открыта", n=existing.number))
    doc = driver_for(register.serial, session).open_shift(key, cashier)
    return _record_open(session, register.id, doc, rights.user_id)


@command
def _record_open(session, register_id: int, doc: FiscalDoc, user_id) -> Shift:
    register = session.get(Register, register_id)
    shift = session.scalar(select(Shift).where(Shift.register_id == register_id,
                                               Shift.number == doc.shift))
    if shift is None:
        shift = Shift(register_id=register_id, branch_id=register.branch_id, number=doc.shift,
                      state="open", opened_on=now(), opened_by_id=user_id)
        session.add(shift)
        session.flush()
    return shift


def x_report(session, rights, register_id: int) -> dict:
    """Return the register's totals of the open shift (the shift stays open)."""
    rights.require(RIGHTS["x"])
    register = desk.register_in_scope(session, rights, register_id)
    return driver_for(register.serial, session).x_report()


def section_report(session, rights, register_id: int) -> dict:
    """Return the open shift's totals by register section."""
    rights.require(RIGHTS["sections"])
    register = desk.register_in_scope(session, rights, register_id)
    return driver_for(register.serial, session).section_report()


def book_totals(session, shift_id: int) -> dict:
    """Return the shift's totals from its confirmed receipts and from its posted
    transactions (deposits less reversals are what the sales brought in)."""
    rows = dict(session.execute(select(Receipt.kind, func.sum(Receipt.total)).where(
        Receipt.shift_id == shift_id, Receipt.state == "confirmed").group_by(Receipt.kind)).all())
    count = session.scalar(select(func.count()).where(
        Receipt.shift_id == shift_id, Receipt.state == "confirmed",
        Receipt.kind.in_(("sale", "refund", "zero"))))
    tx = dict(session.execute(select(Transaction.kind, func.sum(Transaction.amount)).where(
        Transaction.shift_id == shift_id, Transaction.receipt_id.is_not(None))
        .group_by(Transaction.kind)).all())
    dec = lambda v: Decimal(v or 0)  # noqa: E731
    return {"sales": dec(rows.get("sale")), "refunds": dec(rows.get("refund")),
            "cash_in": dec(rows.get("cash_in")), "cash_out": dec(rows.get("cash_out")),
            "receipts": count or 0, "tx_deposits": dec(tx.get("deposit")),
            "tx_refunds": dec(tx.get("refund"))}


def reconcile(device: dict, book: dict) -> list[dict]:
    """Return the differences between the register's Z totals and the books: each
    {"what", "device", "book"}; empty when they agree."""
    diffs = []
    for name, label in (("sales", _("Продажи")), ("refunds", _("Возвраты")),
                        ("cash_in", _("Внесения")), ("cash_out", _("Выплаты"))):
        if Decimal(device.get(name, "0")) != book[name]:
            diffs.append({"what": label, "device": str(device.get(name)), "book": str(book[name])})
    if int(device.get("receipts", 0)) != book["receipts"]:
        diffs.append({"what": _("Чеков"), "device": str(device.get("receipts")),
                      "book": str(book["receipts"])})
    if book["tx_deposits"] != book["sales"]:
        diffs.append({"what": _("Поступления по лицевым счетам"), "device": str(book["sales"]),
                      "book": str(book["tx_deposits"])})
    if book["tx_refunds"] != book["refunds"]:
        diffs.append({"what": _("Возвраты по лицевым счетам"), "device": str(book["refunds"]),
                      "book": str(book["tx_refunds"])})
    return diffs


def z_report(session, rights, register_id: int, *, key: str, cashier: str = "") -> Shift:
    """Print the Z report, close the shift and store the reconciliation (a report of
    any difference). Pending receipts are settled first. Returns the closed shift."""
    rights.require(RIGHTS["z"])
    register = desk.register_in_scope(session, rights, register_id)
    shift = desk.open_shift_of(session, register)
    desk.recover(session, register, all_ages=True)
    doc = driver_for(register.serial, session).z_report(key, cashier)
    return _record_close(session, shift.id, doc)


@command
def _record_close(session, shift_id: int, doc: FiscalDoc) -> Shift:
    shift = session.scalar(select(Shift).where(Shift.id == shift_id).with_for_update())
    if shift.state == "closed":
        return shift
    totals = doc.totals
    shift.state, shift.closed_on, shift.z_document = "closed", now(), doc.number
    for name in ("sales", "refunds", "cash_in", "cash_out"):
        setattr(shift, name, Decimal(totals.get(name, "0")))
    shift.receipts = int(totals.get("receipts", 0))
    book = book_totals(session, shift.id)
    shift.reconciliation = json.dumps({"differences": reconcile(totals, book),
                                       "sections": totals.get("sections", {})},
                                      ensure_ascii=False)
    session.flush()
    chain.append(session, "z_report", shift)
    return shift


def cash_move(session, rights, register_id: int, kind: str, amount: Decimal, *, key: str,
              cashier: str = "") -> Receipt:
    """Cash in («Внесение») or out («Выплата») of the drawer. Returns the receipt."""
    rights.require(RIGHTS[kind])
    register = desk.register_in_scope(session, rights, register_id)
    build = lambda: {"kind": kind, "total": amount, "intent": {"op": "none"}}  # noqa: E731
    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


def zero_receipt(session, rights, register_id: int, *, key: str, cashier: str = "") -> Receipt:
    """Print a zero receipt. Returns it."""
    rights.require(RIGHTS["zero"])
    register = desk.register_in_scope(session, rights, register_id)
    build = lambda: {"kind": "zero", "total": Decimal("0"), "intent": {"op": "none"}}  # noqa: E731
    return desk.run(session, key, register, build, user_id=rights.user_id, cashier=cashier)


@desk.poster("none")
def _post_nothing(session, receipt, intent) -> None:
    """Cash in / out and zero receipts move no account."""


@command
def save_register(session, rights, register_id: int | None, *, name: str, serial: str,
                  branch_id: int, enabled: bool, default_section_id: int | None,
                  vat_rate: int) -> Register:
    """Create or change a register («Касса / Настройка»). Returns it."""
    from security.rowscope import check_in_scope

    rights.require(RIGHTS["settings"])
    register = desk.register_in_scope(session, rights, register_id) if register_id \
        else Register()
    if not name.strip() or not serial.strip():
        raise ValidationError(_("Укажите наименование и заводской номер"), field="name")
    if vat_rate not in (-1, 0, 10, 20):
        raise ValidationError(_("Ставка НДС: без НДС, 0, 10 или 20 %"), field="vat_rate")
    register.name, register.serial, register.branch_id = name.strip(), serial.strip(), branch_id
    register.enabled, register.default_section_id = enabled, default_section_id
    register.vat_rate = vat_rate
    session.add(register)
    check_in_scope(session, register)
    session.flush()
    return register
