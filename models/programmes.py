"""Medical programmes: what a contract covers, with limits per insurance period."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import CodeNameMixin, label
from models.contracts import Contract, ContractPart
from models.parties import OwnedMixin
from models.pricelist import Service
from models.refbooks import PriceType
from models.scoping import ScopePath


class ProgrammeCodeTemplate(OwnedMixin, CodeNameMixin, Model):
    """Шаблон кода медпрограммы: how a new programme's code is made up."""

    __tablename__ = "ctr_programme_code_template"
    __label__ = _l("Шаблоны кодов медпрограмм")
    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(
        String(100), nullable=False, info=label(_l("Шаблон кода")),
    )


class Programme(ContractPart, Model):
    """Медицинская программа: services covered under a contract, with limits."""

    __tablename__ = "ctr_programme"
    __label__ = _l("Медицинские программы")
    __table_args__ = (
        CheckConstraint("max_cost IS NULL OR max_cost >= 0", name="ck_programme_max_cost"),
        CheckConstraint("policy_cost IS NULL OR policy_cost >= 0",
                        name="ck_programme_policy_cost"),
        CheckConstraint("period_months > 0", name="ck_programme_period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_contract.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Договор")))
    code: Mapped[str] = mapped_column(String(50), unique=True, nullable=False,
                                      info=label(_l("Код")))
    name: Mapped[str] = mapped_column(String(255), nullable=False,
                                      info=label(_l("Наименование")))
    price_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_price_type.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Тип цены")))
    code_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_programme_code_template.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Шаблон кода")))
    period_months: Mapped[int] = mapped_column(Integer, nullable=False, default=12,
                                               info=label(_l("Страховой период, мес.")))
    max_cost: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Максимальная стоимость лечения за период")))
    policy_cost: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Стоимость полиса")))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         info=label(_l("Действует")))

    contract: Mapped[Contract] = relationship(Contract, info=label(_l("Договор")))
    price_type: Mapped[PriceType | None] = relationship(PriceType, info=label(_l("Тип цены")))
    code_template: Mapped[ProgrammeCodeTemplate | None] = relationship(
        ProgrammeCodeTemplate, info=label(_l("Шаблон кода")))
    services: Mapped[list[ProgrammeService]] = relationship(
        "ProgrammeService", back_populates="programme", cascade="all, delete-orphan",
        info=label(_l("Услуги программы")))

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class ProgrammeService(Model):
    """A service included in a programme, with its count limit per insurance period."""

    __tablename__ = "ctr_programme_service"
    __label__ = _l("Услуги медицинских программ")
    # Read and changed with the programme (and so with its contract).
    __scope__ = ScopePath(through="programme")
    __table_args__ = (
        UniqueConstraint("programme_id", "service_id", name="uq_programme_service"),
        CheckConstraint("max_count IS NULL OR max_count >= 0",
                        name="ck_programme_service_count"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_programme.id", ondelete="CASCADE"), nullable=False, index=True,
        info=label(_l("Медицинская программа")))
    service_id: Mapped[int] = mapped_column(
        ForeignKey("price_service.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Услуга")))
    max_count: Mapped[int | None] = mapped_column(
        Integer, info=label(_l("Максимум услуг за период")))

    programme: Mapped[Programme] = relationship(Programme, back_populates="services",
                                                info=label(_l("Медицинская программа")))
    service: Mapped[Service] = relationship(Service, info=label(_l("Услуга")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the programme's contract's signing branch."""
        programme = self.programme
        return programme.scope_owner_unit_id if programme is not None else None
