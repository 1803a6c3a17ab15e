"""Талоны: what was done, for whom, by whom, in which branch, at what price and
who pays. The voucher carries its lines' total and count, kept in the same
transaction as the lines, so the voucher list never aggregates millions of lines.
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
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import fk_value, label
from models.contracts import Contract
from models.org import Unit
from models.patients import Attachment, Patient
from models.pricelist import Service
from models.refbooks import Department, PriceCategory, PriceType
from models.scoping import BRANCH_ONLY, ScopePath
from models.staff import Diagnosis, Employee
from models.user import AppUser

VOUCHER_KINDS = {"regular": _l("Обычный"), "prepaid": _l("Предоплатный"),
                 "deposit": _l("Депозитный")}
LINE_STATES = {"rendered": _l("Оказана"), "blocked": _l("Заблокирована"),
               "cancelled": _l("Отменена"), "paid": _l("Оплачена"),
               "invoiced": _l("Выставлен счёт")}
#: Where a voucher came from: typed in the voucher list, or formed in the EMR from
#: referrals (edited under «Редактирование талонов из ЭМК»).
VOUCHER_SOURCES = {"manual": _l("Талоны"), "emr": _l("ЭМК")}
#: A voucher's state, read from its lines: the least settled of those not cancelled.
VOUCHER_STATES = {"empty": _l("Без услуг"), "open": _l("Не оплачен"),
                  "invoiced": _l("Выставлен счёт"), "paid": _l("Оплачен"),
                  "cancelled": _l("Отменён")}
PAYER_KINDS = {"patient": _l("За счёт пациента"), "attachment": _l("По прикреплению"),
               "contract": _l("По договору")}


#: «Доступ к талонам других пользователей», «Редактирование талонов из ЭМК».
OTHERS_RIGHT = "voucher.others_access"
EMR_RIGHT = "voucher.emr_vouchers"


def seen_by(rights):
    """Return the WHERE clause keeping the vouchers a user sees within his branch
    scope (None: all of them): without «Доступ к талонам других пользователей» those
    he created or where he is the main doctor; without "view" of «Редактирование
    талонов из ЭМК» none of those formed in the EMR."""
    if rights.is_admin:
        return None
    clauses = []
    if not rights.flag(OTHERS_RIGHT):
        doctor_of = select(Employee.id).where(Employee.user_id == rights.user_id)
        clauses.append(or_(Voucher.created_by_id == rights.user_id,
                           Voucher.doctor_id.in_(doctor_of.scalar_subquery())))
    if not rights.at_least(EMR_RIGHT, "view"):
        clauses.append(Voucher.source != "emr")
    return and_(*clauses) if clauses else None


class Voucher(Model):
    """Талон: services rendered to one patient on one date in one branch."""

    __tablename__ = "vch_voucher"
    __label__ = _l("Талоны")
    # The back office: the branch, then who sees whose vouchers. The client cabinet:
    # the office that referred the patient.
    # Its branch is a branch (services.vouchers.rules.check_header refuses any other
    # unit), so the filter sends the scope's branches alone.
    __scope__ = ScopePath(column="branch_id", rules=seen_by, kinds=BRANCH_ONLY,
                          cabinet=ScopePath(column="referring_unit_id"))
    __table_args__ = (
        # The list: a branch's vouchers by date, newest first (scope + date filter).
        Index("ix_vch_voucher_branch_date", "branch_id", "service_date", "id"),
        Index("ix_vch_voucher_date", "service_date"),
        # The client cabinet's statistics: a client's offices by date. PostgreSQL keeps
        # the counted columns in the index, so a year of a head office is read from
        # the index alone (visits, patients, tests, cost).
        Index("ix_vch_voucher_referrer_date", "referring_unit_id", "service_date",
              postgresql_include=["patient_id", "line_count", "total"]),
        # «Импорт талонов»: a voucher of a file is found again by its number there, its
        # branch, date and patient (a re-run is idempotent); manual vouchers have none.
        Index("ux_vch_voucher_external", "branch_id", "external_number", "service_date",
              "patient_id", unique=True),
        CheckConstraint("kind IN ('regular', 'prepaid', 'deposit')", name="ck_voucher_kind"),
        CheckConstraint("source IN ('manual', 'emr')", name="ck_voucher_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                  info=label(_l("Дата")))
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="regular",
                                      info=label(_l("Вид талона")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_department.id", ondelete="RESTRICT"), index=True)
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_employee.id", ondelete="RESTRICT"), index=True)
    nurse_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_employee.id", ondelete="RESTRICT"), index=True)
    diagnosis_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_icd10.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("pat_patient.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    referring_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit.id", ondelete="RESTRICT"))
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str | None] = mapped_column(String(1000), info=label(_l("Примечание")))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                           info=label(_l("Сумма")))
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                            info=label(_l("Строк")))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now(),
                                                    info=label(_l("Создан")))
    source: Mapped[str] = mapped_column(String(10), nullable=False, default="manual",
                                        server_default="manual", info=label(_l("Источник")))
    #: The voucher's number in the file it was imported from (None: typed or from the EMR).
    external_number: Mapped[str | None] = mapped_column(String(50), info=label(
        _l("Внешний номер")))
    #: Bumped on every save: a second editor working from an older copy is told.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1,
                                         info=label(_l("Версия")))

    branch: Mapped[Unit] = relationship(Unit, foreign_keys=[branch_id],
                                        info=label(_l("Филиал")))
    department: Mapped[Department | None] = relationship(Department,
                                                         info=label(_l("Отделение")))
    doctor: Mapped[Employee | None] = relationship(Employee, foreign_keys=[doctor_id],
                                                   info=label(_l("Врач")))
    nurse: Mapped[Employee | None] = relationship(Employee, foreign_keys=[nurse_id],
                                                  info=label(_l("Медперсонал")))
    diagnosis: Mapped[Diagnosis | None] = relationship(Diagnosis,
                                                       info=label(_l("Диагноз МКБ-10")))
    patient: Mapped[Patient] = relationship(Patient, info=label(_l("Пациент")))
    referring_unit: Mapped[Unit | None] = relationship(
        Unit, foreign_keys=[referring_unit_id], info=label(_l("Направившее подразделение")))
    contract: Mapped[Contract | None] = relationship(Contract,
                                                     info=label(_l("Депозитный договор")))
    created_by: Mapped[AppUser | None] = relationship(AppUser, info=label(_l("Автор")))
    lines: Mapped[list[VoucherLine]] = relationship(
        "VoucherLine", back_populates="voucher", cascade="all, delete-orphan",
        order_by="VoucherLine.id", info=label(_l("Услуги")))

    @property
    def state(self) -> str:
        """Return the voucher's state code (VOUCHER_STATES) from its lines: "open" while
        a line is rendered or blocked, then "invoiced", then "paid"; "cancelled" when
        every line is, "empty" without lines."""
        states = {line.state for line in self.lines}
        live = states - {"cancelled"}
        if not states:
            return "empty"
        if not live:
            return "cancelled"
        if live & {"rendered", "blocked"}:
            return "open"
        return "invoiced" if "invoiced" in live else "paid"

    def __repr__(self) -> str:
        return f"№ {self.id} от {self.service_date:%d.%m.%Y}" if self.id else "—"


class VoucherLine(Model):
    """A service (or goods) line of a voucher with its price, payer and state."""

    __tablename__ = "vch_line"
    # Whose medical data a line is (security.access_log journals its reads).
    __patient__ = "voucher.patient_id"
    __label__ = _l("Услуги талонов")
    # The voucher's branch, copied (the line list reads ix_vch_line_branch_date), and
    # the voucher's rules: a line is seen when its voucher is.
    __scope__ = ScopePath(column="branch_id", rules_of="voucher", kinds=BRANCH_ONLY)
    __table_args__ = (
        # Programme limits: what a patient used under an attachment in a period.
        Index("ix_vch_line_attachment_date", "attachment_id", "service_date"),
        # Statistics and the line list: a branch's lines by date.
        Index("ix_vch_line_branch_date", "branch_id", "service_date"),
        CheckConstraint("quantity > 0", name="ck_vch_line_quantity"),
        CheckConstraint("state IN ('rendered', 'blocked', 'cancelled', 'paid', 'invoiced')",
                        name="ck_vch_line_state"),
        CheckConstraint("payer_kind IN ('patient', 'attachment', 'contract')",
                        name="ck_vch_line_payer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vch_voucher.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("price_service.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1,
                                          info=label(_l("Количество")))
    price_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_price_type.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_price_category.id", ondelete="RESTRICT"), index=True)
    # No default: an empty price on the form means "the list price" (set by the rules).
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                           info=label(_l("Цена")))
    #: Discount (positive) or markup (negative), percent.
    discount: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=0,
                                              info=label(_l("Скидка / надбавка, %")))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False, default=0,
                                            info=label(_l("Сумма")))
    payer_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="patient",
                                            info=label(_l("Плательщик")))
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("pat_attachment.id", ondelete="RESTRICT"))
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="rendered",
                                       info=label(_l("Состояние")))
    # Copies of the voucher's date and branch, kept by the voucher service: limits
    # and statistics read lines by date and branch without joining the voucher.
    service_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                  info=label(_l("Дата услуги")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)

    voucher: Mapped[Voucher] = relationship(Voucher, back_populates="lines",
                                            info=label(_l("Талон")))
    service: Mapped[Service] = relationship(Service, info=label(_l("Услуга")))
    price_type: Mapped[PriceType | None] = relationship(PriceType,
                                                        info=label(_l("Тип цены")))
    category: Mapped[PriceCategory | None] = relationship(PriceCategory,
                                                          info=label(_l("Категория цен")))
    attachment: Mapped[Attachment | None] = relationship(Attachment,
                                                         info=label(_l("Прикрепление")))
    contract: Mapped[Contract | None] = relationship(Contract, info=label(_l("Договор")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the voucher's branch: a line is written where its voucher is (the
        copy in `branch_id` is filled in by the line rules after this check)."""
        voucher = self.voucher
        return fk_value(voucher, "branch_id") if voucher is not None else self.branch_id

    def __repr__(self) -> str:
        return str(self.service) if self.service is not None else "—"
