"""Деньги: personal accounts (лицевые счета) of patients and of contract payers
(organisations, insurers, individuals under a contract), their
transactions, the cash registers of a branch, cash shifts, fiscal receipts and the
inalterable chain of posted money documents.

Nothing posted is updated or deleted: a correction is a reversal transaction (and a
refund receipt). A transaction's `delta` is its effect on the account balance; the
account keeps the running `balance`, changed in the same transaction under a row
lock, and a CHECK keeps it from going below zero unless the account allows it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.parties import Individual, Insurer, Organisation
from models.patients import Patient
from models.refbooks import Discount, PaymentSection
from models.scoping import ScopePath
from models.user import AppUser
from models.vouchers import VoucherLine

ACCOUNT_KINDS = {"patient": _l("Пациент"), "organisation": _l("Организация"),
                 "insurer": _l("Страховая компания"), "individual": _l("Физическое лицо")}
#: The catalogue right that governs each kind of account (access levels). The seed has
#: two account rights: a patient's, and «Лицевые счета организаций» for whoever pays
#: under a contract — an insurer or a person under a contract is such a payer too.
ACCOUNT_RIGHTS = {"patient": "payment.patient_accounts",
                  "organisation": "payment.organisation_accounts",
                  "insurer": "payment.organisation_accounts",
                  "individual": "payment.organisation_accounts"}
#: The kinds of account held by a contract's payer, and the holder's column of each.
PAYER_KINDS = ("organisation", "insurer", "individual")
HOLDER_COLUMNS = {"patient": "patient_id", "organisation": "organisation_id",
                  "insurer": "insurer_id", "individual": "individual_id"}
ACCOUNT_KIND_CHECK = "kind IN ('patient', 'organisation', 'insurer', 'individual')"
#: Exactly one holder, of the account's kind.
ACCOUNT_HOLDER_CHECK = " OR ".join(
    f"(kind = '{kind}' AND " + " AND ".join(
        f"{column} IS {'NOT ' if own == kind else ''}NULL"
        for own, column in HOLDER_COLUMNS.items()) + ")"
    for kind in HOLDER_COLUMNS)
TRANSACTION_KINDS = {
    "deposit": _l("Внесение на лицевой счёт"),
    "payment": _l("Оплата услуги"),
    "advance": _l("Перевод остатка в аванс"),
    "refund": _l("Возврат"),
    "transfer_out": _l("Перевод на другой лицевой счёт"),
    "transfer_in": _l("Перевод с другого лицевого счёта"),
    "reversal": _l("Сторно"),
}
TRANSACTION_SOURCES = {"desk": _l("Касса"), "pharmacy": _l("Розничная аптека")}
RECEIPT_KINDS = {"sale": _l("Приход"), "refund": _l("Возврат прихода"),
                 "cash_in": _l("Внесение"), "cash_out": _l("Выплата"),
                 "zero": _l("Нулевой чек")}
RECEIPT_STATES = {"pending": _l("Ожидает подтверждения ФР"), "confirmed": _l("Пробит"),
                  "failed": _l("Не пробит")}
SHIFT_STATES = {"open": _l("Открыта"), "closed": _l("Закрыта")}
TX_KIND_CHECK = "kind IN ('deposit', 'payment', 'advance', 'refund', 'transfer_out', " \
                "'transfer_in', 'reversal')"


class Account(Model):
    """Лицевой счёт of a patient or of a contract's payer (an organisation, an insurer,
    an individual) in a branch."""

    __tablename__ = "money_account"
    __label__ = _l("Лицевые счета")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        CheckConstraint(ACCOUNT_KIND_CHECK, name="ck_money_account_kind"),
        CheckConstraint(ACCOUNT_HOLDER_CHECK, name="ck_money_account_holder"),
        CheckConstraint("allow_negative OR balance >= 0", name="ck_money_account_balance"),
        CheckConstraint("advance >= 0", name="ck_money_account_advance"),
        UniqueConstraint("branch_id", "patient_id", name="uq_money_account_patient"),
        UniqueConstraint("branch_id", "organisation_id", name="uq_money_account_org"),
        UniqueConstraint("branch_id", "insurer_id", name="uq_money_account_insurer"),
        UniqueConstraint("branch_id", "individual_id", name="uq_money_account_individual"),
        Index("ix_money_account_branch_kind", "branch_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, info=label(_l("Вид")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("pat_patient.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_organisation.id", ondelete="RESTRICT"), index=True)
    insurer_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_insurer.id", ondelete="RESTRICT"), index=True)
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_individual.id", ondelete="RESTRICT"), index=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                             server_default="0", info=label(_l("Остаток")))
    advance: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                             server_default="0", info=label(_l("Аванс")))
    allow_negative: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                 server_default="0",
                                                 info=label(_l("Разрешён отрицательный остаток")))
    no_cash_desk: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                               server_default="0",
                                               info=label(_l("Не работать через кассу")))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now())

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    patient: Mapped[Patient | None] = relationship(Patient, info=label(_l("Пациент")))
    organisation: Mapped[Organisation | None] = relationship(Organisation,
                                                             info=label(_l("Организация")))
    insurer: Mapped[Insurer | None] = relationship(Insurer,
                                                   info=label(_l("Страховая компания")))
    individual: Mapped[Individual | None] = relationship(Individual,
                                                         info=label(_l("Физическое лицо")))

    @property
    def holder(self):
        """Return the patient, organisation, insurer or individual the account belongs to."""
        return getattr(self, self.kind, None)

    def __repr__(self) -> str:
        return f"ЛС № {self.id}: {self.holder}" if self.id else "—"


class Register(Model):
    """Кассовый аппарат (фискальный регистратор) of a branch and its settings."""

    __tablename__ = "money_register"
    __label__ = _l("Кассовые аппараты")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        CheckConstraint("vat_rate IN (-1, 0, 10, 20)", name="ck_money_register_vat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False,
                                      info=label(_l("Наименование")))
    #: The device's factory number: the emulator's fiscal memory is kept under it.
    serial: Mapped[str] = mapped_column(String(40), nullable=False, unique=True,
                                        info=label(_l("Заводской номер")))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                          server_default="1", info=label(_l("Работает")))
    default_section_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_payment_section.id", ondelete="RESTRICT"))
    #: VAT of the receipt lines, percent; -1 = «без НДС» (medical services).
    vat_rate: Mapped[int] = mapped_column(Integer, nullable=False, default=-1,
                                          server_default="-1", info=label(_l("НДС")))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    default_section: Mapped[PaymentSection | None] = relationship(
        PaymentSection, info=label(_l("Секция по умолчанию")))

    def __repr__(self) -> str:
        return self.name


class Shift(Model):
    """Смена ФР: opened on a register, closed by its Z report."""

    __tablename__ = "money_shift"
    __label__ = _l("Смены кассы")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        CheckConstraint("state IN ('open', 'closed')", name="ck_money_shift_state"),
        UniqueConstraint("register_id", "number", name="uq_money_shift_number"),
        Index("ix_money_shift_register_state", "register_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("money_register.id",
                                                        ondelete="RESTRICT"), nullable=False)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False, info=label(_l("Номер смены")))
    state: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    opened_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    closed_on: Mapped[dt.datetime | None] = mapped_column(DateTime)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id",
                                                                ondelete="SET NULL"))
    # Totals of the Z report as the register printed them, and as the receipts add up.
    sales: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    refunds: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    cash_in: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    cash_out: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0)
    receipts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    z_document: Mapped[int | None] = mapped_column(Integer)
    #: The reconciliation of the Z report with the receipts and transactions (JSON).
    reconciliation: Mapped[str | None] = mapped_column(Text)

    register: Mapped[Register] = relationship(Register)
    opened_by: Mapped[AppUser | None] = relationship(AppUser)

    def __repr__(self) -> str:
        return f"Смена № {self.number}"


class Receipt(Model):
    """Фискальный чек (or a cash-in / cash-out / zero document) of a shift.

    Written "pending" with what is to be printed before the register is called, and
    "confirmed" with the register's document number afterwards: a pending receipt
    counts as nothing; recovery asks the register about its `idem_key`."""

    __tablename__ = "money_receipt"
    __label__ = _l("Чеки")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        CheckConstraint("kind IN ('sale', 'refund', 'cash_in', 'cash_out', 'zero')",
                        name="ck_money_receipt_kind"),
        CheckConstraint("state IN ('pending', 'confirmed', 'failed')",
                        name="ck_money_receipt_state"),
        CheckConstraint("total >= 0", name="ck_money_receipt_total"),
        Index("ix_money_receipt_shift", "shift_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    register_id: Mapped[int] = mapped_column(ForeignKey("money_register.id",
                                                        ondelete="RESTRICT"), nullable=False)
    shift_id: Mapped[int] = mapped_column(ForeignKey("money_shift.id", ondelete="RESTRICT"),
                                          nullable=False)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("money_account.id",
                                                              ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False, info=label(_l("Вид чека")))
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                           info=label(_l("Сумма")))
    #: What the service will post once the register confirms (JSON): lines, sections,
    #: the operation and its arguments.
    intent: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    fiscal_number: Mapped[int | None] = mapped_column(Integer, info=label(_l("Номер ФД")))
    shift_receipt: Mapped[int | None] = mapped_column(Integer,
                                                      info=label(_l("Номер чека за смену")))
    error: Mapped[str | None] = mapped_column(String(500))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id",
                                                                 ondelete="SET NULL"))

    shift: Mapped[Shift] = relationship(Shift)
    register: Mapped[Register] = relationship(Register)

    def __repr__(self) -> str:
        return f"Чек № {self.shift_receipt or '—'}"


class Transaction(Model):
    """A posted movement on a personal account."""

    __tablename__ = "money_transaction"
    __label__ = _l("Транзакции по лицевым счетам")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        CheckConstraint(TX_KIND_CHECK, name="ck_money_tx_kind"),
        CheckConstraint("source IN ('desk', 'pharmacy')", name="ck_money_tx_source"),
        CheckConstraint("amount > 0", name="ck_money_tx_amount"),
        CheckConstraint("discount_amount >= 0", name="ck_money_tx_discount"),
        # The statement: an account's transactions in order.
        Index("ix_money_tx_account", "account_id", "id"),
        Index("ix_money_tx_line", "voucher_line_id"),
        Index("ix_money_tx_invoice", "invoice_id"),
        Index("ix_money_tx_shift", "shift_id"),
        Index("ix_money_tx_branch_date", "branch_id", "posted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idem_key: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id",
                                                       ondelete="RESTRICT"), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, info=label(_l("Операция")))
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="desk",
                                        info=label(_l("Источник")))
    #: The sum of the operation (positive); `delta` its effect on the balance.
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                            info=label(_l("Сумма")))
    delta: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                           info=label(_l("Изменение остатка")))
    discount_id: Mapped[int | None] = mapped_column(ForeignKey("ref_discount.id",
                                                               ondelete="RESTRICT"))
    discount_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                                     default=0, info=label(_l("Скидка")))
    voucher_line_id: Mapped[int | None] = mapped_column(ForeignKey("vch_line.id",
                                                                   ondelete="RESTRICT"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("ref_payment_section.id",
                                                              ondelete="RESTRICT"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("money_receipt.id",
                                                              ondelete="RESTRICT"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("money_shift.id",
                                                            ondelete="RESTRICT"))
    related_id: Mapped[int | None] = mapped_column(ForeignKey("money_transaction.id",
                                                              ondelete="RESTRICT"))
    #: The invoice a payment settles (`services.money.invoices`).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("inv_invoice.id",
                                                              ondelete="RESTRICT"))
    reversed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                           server_default="0", info=label(_l("Сторнирована")))
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))
    posted_on: Mapped[dt.date] = mapped_column(Date, nullable=False, info=label(_l("Дата")))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id",
                                                                 ondelete="SET NULL"))

    account: Mapped[Account] = relationship(Account, info=label(_l("Лицевой счёт")))
    discount: Mapped[Discount | None] = relationship(Discount, info=label(_l("Скидка")))
    voucher_line: Mapped[VoucherLine | None] = relationship(VoucherLine,
                                                            info=label(_l("Услуга")))
    section: Mapped[PaymentSection | None] = relationship(PaymentSection,
                                                          info=label(_l("Секция оплаты")))
    receipt: Mapped[Receipt | None] = relationship(Receipt, info=label(_l("Чек")))
    shift: Mapped[Shift | None] = relationship(Shift, info=label(_l("Смена")))
    created_by: Mapped[AppUser | None] = relationship(AppUser, info=label(_l("Кассир")))
    invoice = relationship("Invoice", info=label(_l("Счёт")))


class ChainHead(Model):
    """The last link of a branch's chain of posted money documents (locked to append)."""

    __tablename__ = "money_chain_head"
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class ChainLink(Model):
    """One posted money document in its branch's chain: sha256(previous hash + the
    document's fixed fields), as Odoo's `inalterable_hash`."""

    __tablename__ = "money_chain"
    __table_args__ = (
        UniqueConstraint("branch_id", "seq", name="uq_money_chain_seq"),
        UniqueConstraint("doc_type", "doc_id", name="uq_money_chain_doc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    doc_type: Mapped[str] = mapped_column(String(20), nullable=False)
    doc_id: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now())


class EmulatorMemory(Model):
    """The fiscal memory of an emulated register (`services.money.fiscal.emulator`),
    kept in the database so that every worker, the demo data and the tests' copies of
    the database see one device: shift, document and receipt numbers, totals, the
    documents of the last two shifts by key (JSON)."""

    __tablename__ = "money_emulator"
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    memory: Mapped[str] = mapped_column(Text, nullable=False)
