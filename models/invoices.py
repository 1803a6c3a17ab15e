"""Счета: invoices made from rendered voucher lines that a payer owes.

An invoice has a kind by whom it is addressed to — a patient (the lines he pays
himself), an organisation or an insurer (the lines of a contract in a period: the
OMS/DMS registers), an individual (the lines of a contract whose payer is a
person) — and each kind answers to its own access right of «Документы / Счета».

Lifecycle (`state`)::

    draft ──confirm──> confirmed ──payments──> partly_paid ──> paid
      │                    │
      └──cancel──> cancelled <──cancel (right)
                           └──storno──> reversed   (+ a reversing invoice)

* A draft holds its voucher lines already: they turn "invoiced" when the draft is
  made, so two invoices never hold one line; cancelling a draft frees them.
* The number is given at confirmation, per branch and year, from `InvoiceCounter`
  (a locked row: no gaps, no duplicates).
* A confirmed invoice is never edited: it is cancelled (with its right, lines
  freed), reversed by a storno invoice (`storno_of_id` on the reversing document,
  negative lines, the original becomes "reversed", lines freed), or loses a line
  under «Удаление услуг из подтвержденных счетов».

For payments (the `money` module): `paid_amount` is the sum paid against the
invoice so far (Decimal, never above `total`); a payment changes it only through
`services.invoices.payment.record_payment(session, invoice, amount)`, which also
moves `state` between confirmed / partly_paid / paid and marks the voucher lines
"paid" when the invoice is paid in full (and back on a refund). `payment_state`
reads the same as a label code. Only confirmed, partly paid and paid invoices
take payments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.contracts import Contract, _client_contracts
from models.org import Unit
from models.patients import Patient
from models.scoping import ScopePath
from models.user import AppUser
from models.vouchers import VoucherLine

INVOICE_KINDS = {"patient": _l("Пациенту"), "organisation": _l("Организации / страховой"),
                 "individual": _l("Физическому лицу")}
INVOICE_STATES = {"draft": _l("Черновик"), "confirmed": _l("Подтверждён"),
                  "partly_paid": _l("Оплачен частично"), "paid": _l("Оплачен"),
                  "cancelled": _l("Отменён"), "reversed": _l("Сторнирован")}
#: The access right of each kind («Счета пациентам», «… организациям и страховым
#: компаниям», «… физическим лицам»).
KIND_RIGHTS = {"patient": "invoice.patients", "organisation": "invoice.organisations",
               "individual": "invoice.individuals"}
#: States in which an invoice holds its voucher lines (they are "invoiced" or "paid").
LIVE_STATES = ("draft", "confirmed", "partly_paid", "paid")
#: States that took a number (confirmed once).
NUMBERED_STATES = ("confirmed", "partly_paid", "paid", "reversed")


def kinds_seen_by(rights):
    """Return the WHERE clause keeping the invoice kinds whose access right the user
    holds at "view" or above (None when he sees every kind, as an administrator does:
    `rights.allows` holds that rule)."""
    kinds = [kind for kind, code in KIND_RIGHTS.items() if rights.allows(code, "view")]
    return None if len(kinds) == len(KIND_RIGHTS) else Invoice.kind.in_(kinds)


def _client_invoices(scope):
    """The client cabinet reads the invoices of its organisation's contracts."""
    return Invoice.contract_id.in_(select(Contract.id).where(_client_contracts(scope)))


class Invoice(Model):
    """Счёт: what a payer owes for rendered services, numbered at confirmation."""

    __tablename__ = "inv_invoice"
    __label__ = _l("Счета")
    __scope__ = ScopePath(column="branch_id", rules=kinds_seen_by,
                          cabinet=ScopePath(where=_client_invoices))
    __table_args__ = (
        # The list: a branch's invoices by date, newest first (scope + date filter).
        Index("ix_inv_invoice_branch_date", "branch_id", "invoice_date", "id"),
        UniqueConstraint("branch_id", "number_year", "number_seq", name="uq_inv_invoice_number"),
        CheckConstraint("kind IN ('patient', 'organisation', 'individual')",
                        name="ck_inv_invoice_kind"),
        CheckConstraint("state IN ('draft', 'confirmed', 'partly_paid', 'paid', 'cancelled', "
                        "'reversed')", name="ck_inv_invoice_state"),
        CheckConstraint("period_to IS NULL OR period_from IS NULL OR period_to >= period_from",
                        name="ck_inv_invoice_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(15), nullable=False,
                                      info=label(_l("Вид счёта")))
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="draft",
                                       info=label(_l("Состояние")))
    invoice_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                  info=label(_l("Дата счёта")))
    #: Given at confirmation: the sequence of the branch in the invoice date's year.
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer, info=label(_l("Номер")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("pat_patient.id", ondelete="RESTRICT"), index=True)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="RESTRICT"), index=True)
    period_from: Mapped[dt.date | None] = mapped_column(Date, info=label(_l("Период с")))
    period_to: Mapped[dt.date | None] = mapped_column(Date, info=label(_l("Период по")))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                           info=label(_l("Сумма")))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                                 server_default="0",
                                                 info=label(_l("Оплачено")))
    #: On a reversing (storno) invoice: the invoice it reverses.
    storno_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("inv_invoice.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))
    #: Why it was cancelled, reversed or changed after confirmation (journaled with it).
    reason: Mapped[str | None] = mapped_column(String(500), info=label(_l("Основание")))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now(),
                                                    info=label(_l("Создан")))
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    confirmed_on: Mapped[dt.datetime | None] = mapped_column(
        DateTime, info=label(_l("Подтверждён")))
    #: Bumped by every flush (UPDATE … WHERE version = …): of two users confirming or
    #: cancelling the same invoice at once, the second finds the row changed.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    patient: Mapped[Patient | None] = relationship(Patient, info=label(_l("Пациент")))
    contract: Mapped[Contract | None] = relationship(Contract, info=label(_l("Договор")))
    storno_of: Mapped[Invoice | None] = relationship(
        "Invoice", remote_side=[id], info=label(_l("Сторнирует счёт")))
    created_by: Mapped[AppUser | None] = relationship(AppUser, foreign_keys=[created_by_id],
                                                      info=label(_l("Автор")))
    confirmed_by: Mapped[AppUser | None] = relationship(
        AppUser, foreign_keys=[confirmed_by_id], info=label(_l("Подтвердил")))
    lines: Mapped[list[InvoiceLine]] = relationship(
        "InvoiceLine", back_populates="invoice", cascade="all, delete-orphan",
        order_by="InvoiceLine.id", info=label(_l("Услуги")))

    @property
    def number(self) -> str:
        """Return the number as printed («12/2026»), or an empty text for a draft."""
        if self.number_seq is None:
            return ""
        return f"{self.number_seq}/{self.number_year}"

    @property
    def payer(self):
        """Return who pays: the patient, or the contract's insurer, organisation or person."""
        if self.kind == "patient":
            return self.patient
        return self.contract.payer if self.contract is not None else None

    @property
    def payment_state(self) -> str:
        """Return "unpaid", "partly_paid" or "paid" from `paid_amount` against `total`."""
        paid = self.paid_amount or Decimal(0)
        if paid <= 0:
            return "unpaid"
        return "paid" if paid >= (self.total or Decimal(0)) else "partly_paid"

    @property
    def due(self) -> Decimal:
        """Return what is left to pay."""
        return (self.total or Decimal(0)) - (self.paid_amount or Decimal(0))

    def __repr__(self) -> str:
        day = f"{self.invoice_date:%d.%m.%Y}" if self.invoice_date else ""
        if self.number_seq:
            return str(_l("№ %(n)s от %(d)s", n=self.number, d=day))
        return str(_l("черновик от %(d)s", d=day))


PAYMENT_STATES = {"unpaid": _l("Не оплачен"), "partly_paid": _l("Оплачен частично"),
                  "paid": _l("Оплачен")}


class InvoiceLine(Model):
    """A line of an invoice: one voucher line, with its amount as invoiced."""

    __tablename__ = "inv_line"
    __label__ = _l("Строки счетов")
    __scope__ = ScopePath(through="invoice")
    __table_args__ = (
        Index("ix_inv_line_invoice", "invoice_id", "id"),
        CheckConstraint("quantity > 0", name="ck_inv_line_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("inv_invoice.id", ondelete="CASCADE"),
                                            nullable=False)
    voucher_line_id: Mapped[int] = mapped_column(
        ForeignKey("vch_line.id", ondelete="RESTRICT"), nullable=False, index=True)
    service_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                  info=label(_l("Дата услуги")))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False,
                                          info=label(_l("Количество")))
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                           info=label(_l("Цена")))
    #: Negative on a storno invoice.
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                            info=label(_l("Сумма")))

    invoice: Mapped[Invoice] = relationship(Invoice, back_populates="lines",
                                            info=label(_l("Счёт")))
    voucher_line: Mapped[VoucherLine] = relationship(VoucherLine,
                                                     info=label(_l("Услуга талона")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the invoice's branch."""
        return self.invoice.branch_id if self.invoice is not None else None


class InvoiceCounter(Model):
    """The last number given to an invoice of a branch in a year: the row is locked
    (SELECT … FOR UPDATE; SQLite lets one writer at a time) while a number is taken,
    so concurrent confirmations get consecutive numbers, none twice, none skipped."""

    __tablename__ = "inv_counter"
    __label__ = _l("Нумерация счетов")

    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                           primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
