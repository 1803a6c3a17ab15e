"""Contracts (section «Организации и договоры»): templates and terms, the contract
itself, its instalment schedule and its payment guarantees.

A contract belongs to the branch that signed it (`branch_id`); a network
contract is also served by the branches listed in `branches` and is read in
each of them. Rows under a contract are placed by their contract.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from models.programmes import Programme

from models.base import CodeNameMixin, ValidityMixin, label
from models.org import Unit
from models.parties import Individual, Insurer, Organisation, OwnedMixin
from models.refbooks import PriceCategory
from models.scoping import ScopePath

CONTRACT_KINDS = {
    "oms": _l("ОМС"),
    "dms": _l("ДМС"),
    "organisation": _l("С организацией"),
    "prepaid": _l("Предоплатный"),
    "deposit": _l("Депозитный"),
}
PAYMENT_SCHEMES = {
    "postpaid": _l("По факту оказания услуг"),
    "prepaid": _l("Предоплата"),
    "instalments": _l("Предоплата, с рассрочкой оплаты"),
}
INSURANCE_KINDS = {"oms": _l("ОМС"), "dms": _l("ДМС")}


class ContractTemplate(OwnedMixin, CodeNameMixin, Model):
    """Типовой договор: the kind, payment scheme and text a new contract starts from."""

    __tablename__ = "ctr_contract_template"
    __label__ = _l("Типовые договоры")
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False,
                                      info=label(_l("Вид договора")))
    payment_scheme: Mapped[str] = mapped_column(String(20), nullable=False, default="postpaid",
                                                info=label(_l("Способ оплаты")))
    body: Mapped[str | None] = mapped_column(Text, info=label(_l("Текст договора")))


class InsuranceTerms(OwnedMixin, CodeNameMixin, Model):
    """Условия страхования: insurance kind, period and the base cost of a policy."""

    __tablename__ = "ctr_insurance_terms"
    __label__ = _l("Условия страхования")
    __table_args__ = (
        CheckConstraint("period_months > 0", name="ck_insurance_terms_period"),
        CheckConstraint("policy_cost IS NULL OR policy_cost >= 0",
                        name="ck_insurance_terms_cost"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    insurance: Mapped[str] = mapped_column(String(10), nullable=False, default="dms",
                                           info=label(_l("Вид страхования")))
    period_months: Mapped[int] = mapped_column(Integer, nullable=False, default=12,
                                               info=label(_l("Страховой период, мес.")))
    policy_cost: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Стоимость полиса")))
    description: Mapped[str | None] = mapped_column(Text, info=label(_l("Описание")))


class PrepaymentSchemeTemplate(OwnedMixin, CodeNameMixin, Model):
    """Типовая схема предоплаты: shares of the amount and when each is due."""

    __tablename__ = "ctr_prepayment_scheme"
    __label__ = _l("Типовые схемы предоплат")
    id: Mapped[int] = mapped_column(primary_key=True)
    steps: Mapped[list[PrepaymentSchemeStep]] = relationship(
        "PrepaymentSchemeStep", back_populates="scheme", cascade="all, delete-orphan",
        order_by="PrepaymentSchemeStep.days_after_start", info=label(_l("Этапы оплаты")))


class PrepaymentSchemeStep(Model):
    """One payment of a prepayment scheme: a share of the amount, N days after the start."""

    __tablename__ = "ctr_prepayment_step"
    __label__ = _l("Этапы схем предоплат")
    # Read with its scheme (shared below its unit), changed in the scheme owner's scope.
    __scope__ = ScopePath(through="scheme")
    __table_args__ = (
        CheckConstraint("share > 0 AND share <= 100", name="ck_prepayment_step_share"),
        CheckConstraint("days_after_start >= 0", name="ck_prepayment_step_days"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_prepayment_scheme.id", ondelete="CASCADE"), nullable=False, index=True,
        info=label(_l("Схема")))
    days_after_start: Mapped[int] = mapped_column(
        Integer, nullable=False, info=label(_l("Дней от начала договора")))
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False,
                                           info=label(_l("Доля, %")))
    scheme: Mapped[PrepaymentSchemeTemplate] = relationship(
        PrepaymentSchemeTemplate, back_populates="steps", info=label(_l("Схема")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the unit of the scheme this step belongs to."""
        scheme = self.scheme
        return scheme.unit_id if scheme is not None else None


contract_branch = Table(
    "ctr_contract_branch",
    Model.metadata,
    Column("contract_id", Integer, ForeignKey("ctr_contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("unit_id", Integer, ForeignKey("org_unit.id", ondelete="RESTRICT"),
           primary_key=True, index=True),
)


def _client_contracts(scope):
    """The client cabinet reads the contracts paid by a client organisation at or
    above the user's offices (the organisation carries the client's INN)."""
    # An empty ИНН is no ИНН: it must match nothing (rows stored before the check
    # of `services.values` may still hold "").
    clients = select(Unit.inn).where(Unit.kind == "client", Unit.inn.is_not(None),
                                     func.trim(Unit.inn) != "", scope.shared_clause(Unit.id))
    return Contract.organisation_id.in_(
        select(Organisation.id).where(Organisation.inn.in_(clients),
                                      func.trim(Organisation.inn) != ""))


class Contract(ValidityMixin, Model):
    """Договор: who pays, for what, from when to when, through which branches."""

    __tablename__ = "ctr_contract"
    __label__ = _l("Договоры")
    # The signing branch reads and writes it; the branches a network contract serves
    # read it. The cabinet reads its client's contracts.
    __scope__ = ScopePath(column="branch_id", readers="branches",
                          cabinet=ScopePath(where=_client_contracts))
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_contract_dates"),
        CheckConstraint("amount IS NULL OR amount > 0", name="ck_contract_amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True, nullable=False,
                                        info=label(_l("Номер договора")))
    signed_on: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                               info=label(_l("Дата договора")))
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True,
                                      info=label(_l("Вид договора")))
    payment_scheme: Mapped[str] = mapped_column(String(20), nullable=False, default="postpaid",
                                                info=label(_l("Способ оплаты")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False, index=True,
                                           info=label(_l("Филиал")))
    network: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                          info=label(_l("Сетевой договор")))
    insurer_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_insurer.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Страховая компания")))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_organisation.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Организация")))
    individual_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_individual.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Физическое лицо")))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_contract_template.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Типовой договор")))
    insurance_terms_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_insurance_terms.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Условия страхования")))
    price_category_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_price_category.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Категория цен")))
    amount: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Сумма договора")))
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    branches: Mapped[list[Unit]] = relationship(
        Unit, secondary=contract_branch, info=label(_l("Филиалы сетевого договора")))
    insurer: Mapped[Insurer | None] = relationship(Insurer,
                                                   info=label(_l("Страховая компания")))
    organisation: Mapped[Organisation | None] = relationship(
        Organisation, info=label(_l("Организация")))
    individual: Mapped[Individual | None] = relationship(
        Individual, info=label(_l("Физическое лицо")))
    template: Mapped[ContractTemplate | None] = relationship(
        ContractTemplate, info=label(_l("Типовой договор")))
    insurance_terms: Mapped[InsuranceTerms | None] = relationship(
        InsuranceTerms, info=label(_l("Условия страхования")))
    price_category: Mapped[PriceCategory | None] = relationship(
        PriceCategory, info=label(_l("Категория цен")))
    instalments: Mapped[list[InstalmentLine]] = relationship(
        "InstalmentLine", back_populates="contract", cascade="all, delete-orphan",
        order_by="InstalmentLine.due_date", info=label(_l("Схема рассрочки оплат")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the signing branch: only its scope may write the contract."""
        return self.branch.id if self.branch is not None else self.branch_id

    @property
    def payer(self):
        """Return whoever pays under the contract (insurer, organisation or person)."""
        return self.insurer or self.organisation or self.individual

    def __repr__(self) -> str:
        return f"№ {self.number}"


class ContractPart:
    """A row that lives under a contract and is read and written with it."""

    __scope__ = ScopePath(through="contract")

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the contract's signing branch."""
        contract = self.contract
        return contract.scope_owner_unit_id if contract is not None else None


class InstalmentLine(ContractPart, Model):
    """One payment of a prepaid contract's instalment schedule."""

    __tablename__ = "ctr_instalment"
    __label__ = _l("Схема рассрочки оплат")
    __table_args__ = (CheckConstraint("amount > 0", name="ck_instalment_amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="CASCADE"), nullable=False, index=True,
        info=label(_l("Договор")))
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                              info=label(_l("Срок оплаты")))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                            info=label(_l("Сумма")))
    contract: Mapped[Contract] = relationship(Contract, back_populates="instalments",
                                              info=label(_l("Договор")))


guarantee_programme = Table(
    "ctr_guarantee_programme",
    Model.metadata,
    Column("guarantee_id", Integer, ForeignKey("ctr_payment_guarantee.id", ondelete="CASCADE"),
           primary_key=True),
    Column("programme_id", Integer, ForeignKey("ctr_programme.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class PaymentGuarantee(ContractPart, ValidityMixin, Model):
    """Гарантия оплаты: a guarantee letter under a contract, for some of its programmes."""

    __tablename__ = "ctr_payment_guarantee"
    __label__ = _l("Гарантии оплат")
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from",
                        name="ck_guarantee_dates"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="ck_guarantee_amount"),
        UniqueConstraint("contract_id", "number", name="uq_guarantee_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="CASCADE"), nullable=False, index=True,
        info=label(_l("Договор")))
    number: Mapped[str] = mapped_column(String(50), nullable=False,
                                        info=label(_l("Номер гарантийного письма")))
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                               info=label(_l("Дата письма")))
    amount: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Сумма гарантии")))
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))
    contract: Mapped[Contract] = relationship(Contract, info=label(_l("Договор")))
    programmes: Mapped[list[Programme]] = relationship(
        "Programme", secondary=guarantee_programme, info=label(_l("Медицинские программы")))

    def __repr__(self) -> str:
        return f"№ {self.number}"
