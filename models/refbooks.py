"""The sixteen reference books of the seed's section «Справочники»."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import CodeNameMixin, ValidityMixin, label
from models.org import Unit
from models.scoping import ScopePath


class BaseDepartment(CodeNameMixin, Model):
    """Базовое отделение: the network-wide kind of a department (therapy, lab...)."""

    __tablename__ = "ref_base_department"
    __label__ = _l("Базовые отделения")
    id: Mapped[int] = mapped_column(primary_key=True)


class DepartmentProfile(CodeNameMixin, Model):
    """Профиль отделения: the medical profile a department works in."""

    __tablename__ = "ref_department_profile"
    __label__ = _l("Профили отделений")
    id: Mapped[int] = mapped_column(primary_key=True)


class Department(CodeNameMixin, Model):
    """Отделение: a department of a branch, of a base department and profile."""

    __tablename__ = "ref_department"
    __label__ = _l("Отделения")
    __scope__ = ScopePath(column="branch_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False, index=True,
                                           info=label(_l("Филиал")))
    base_department_id: Mapped[int] = mapped_column(
        ForeignKey("ref_base_department.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Базовое отделение")))
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_department_profile.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Профиль")))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    base_department: Mapped[BaseDepartment] = relationship(
        BaseDepartment, info=label(_l("Базовое отделение")))
    profile: Mapped[DepartmentProfile | None] = relationship(
        DepartmentProfile, info=label(_l("Профиль")))


class PriceType(CodeNameMixin, Model):
    """Тип цены: paid services, OMS, DMS..."""

    __tablename__ = "ref_price_type"
    __label__ = _l("Типы цен")
    id: Mapped[int] = mapped_column(primary_key=True)
    funding: Mapped[str] = mapped_column(String(10), nullable=False, default="paid",
                                         info=label(_l("Источник оплаты")))


price_category_branch = Table(
    "ref_price_category_branch",
    Model.metadata,
    Column("category_id", Integer, ForeignKey("ref_price_category.id", ondelete="CASCADE"),
           primary_key=True),
    Column("branch_id", Integer, ForeignKey("org_unit.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class PriceCategory(CodeNameMixin, Model):
    """Категория цен: a price level of a price type, used by some branches."""

    __tablename__ = "ref_price_category"
    __label__ = _l("Категории цен")
    id: Mapped[int] = mapped_column(primary_key=True)
    price_type_id: Mapped[int] = mapped_column(
        ForeignKey("ref_price_type.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Тип цены")))

    price_type: Mapped[PriceType] = relationship(PriceType, info=label(_l("Тип цены")))
    branches: Mapped[list[Unit]] = relationship(Unit, secondary=price_category_branch,
                                                info=label(_l("Филиалы")))


class PaymentMethod(CodeNameMixin, Model):
    """Способ оплаты: cash, card, transfer, deposit..."""

    __tablename__ = "ref_payment_method"
    __label__ = _l("Способы оплаты")
    id: Mapped[int] = mapped_column(primary_key=True)
    cashless: Mapped[bool] = mapped_column(default=False, info=label(_l("Безналичный")))


class PaymentSection(CodeNameMixin, Model):
    """Секция оплаты: a section of the fiscal register."""

    __tablename__ = "ref_payment_section"
    __label__ = _l("Секции оплаты")
    __table_args__ = (CheckConstraint("register_section > 0", name="ck_payment_section_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    register_section: Mapped[int] = mapped_column(nullable=False,
                                                  info=label(_l("Номер секции ФР")))


class PatientCategory(CodeNameMixin, Model):
    """Категория пациентов: employees, veterans, children..."""

    __tablename__ = "ref_patient_category"
    __label__ = _l("Категории пациентов")
    id: Mapped[int] = mapped_column(primary_key=True)


class Currency(CodeNameMixin, Model):
    """Валюта: ISO 4217 letter code as the code."""

    __tablename__ = "ref_currency"
    __label__ = _l("Валюты")
    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str | None] = mapped_column(String(8), info=label(_l("Знак")))


class RateType(CodeNameMixin, Model):
    """Тип курса валют: central bank, internal, contract rate..."""

    __tablename__ = "ref_rate_type"
    __label__ = _l("Типы курсов валют")
    id: Mapped[int] = mapped_column(primary_key=True)


class ExchangeRate(Model):
    """Курс валюты: the value of one unit of a currency on a date, by rate type."""

    __tablename__ = "ref_exchange_rate"
    __label__ = _l("Курсы валют")
    __table_args__ = (
        UniqueConstraint("currency_id", "rate_type_id", "on_date", name="uq_exchange_rate_day"),
        CheckConstraint("value > 0", name="ck_exchange_rate_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    currency_id: Mapped[int] = mapped_column(ForeignKey("ref_currency.id", ondelete="RESTRICT"),
                                             nullable=False, info=label(_l("Валюта")))
    rate_type_id: Mapped[int] = mapped_column(ForeignKey("ref_rate_type.id",
                                                         ondelete="RESTRICT"),
                                              nullable=False, index=True,
                                              info=label(_l("Тип курса")))
    on_date: Mapped[dt.date] = mapped_column(Date, nullable=False, info=label(_l("Дата")))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False,
                                           info=label(_l("Курс")))

    currency: Mapped[Currency] = relationship(Currency, info=label(_l("Валюта")))
    rate_type: Mapped[RateType] = relationship(RateType, info=label(_l("Тип курса")))

    def __repr__(self) -> str:
        return f"{self.currency} {self.on_date}: {self.value}"


class Tax(CodeNameMixin, Model):
    """Налог: VAT rates and exemptions."""

    __tablename__ = "ref_tax"
    __label__ = _l("Налоги")
    __table_args__ = (CheckConstraint("rate >= 0 AND rate <= 100", name="ck_tax_rate"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False,
                                          info=label(_l("Ставка, %")))


class Discount(CodeNameMixin, ValidityMixin, Model):
    """Скидка или надбавка: a percentage or a fixed amount, with limits and validity."""

    __tablename__ = "ref_discount"
    __label__ = _l("Скидки/Надбавки")
    __table_args__ = (
        CheckConstraint("(percent IS NULL) <> (amount IS NULL)", name="ck_discount_one_kind"),
        CheckConstraint("percent IS NULL OR (percent > 0 AND percent <= 100)",
                        name="ck_discount_percent"),
        CheckConstraint("amount IS NULL OR amount > 0", name="ck_discount_amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="discount",
                                      info=label(_l("Вид")))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), info=label(_l("Процент")))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), info=label(_l("Сумма")))
    min_total: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Минимальная сумма чека")))
    max_amount: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 2), info=label(_l("Максимальная скидка, руб.")))


class RiskType(CodeNameMixin, Model):
    """Тип риска: the insurance risk a programme covers."""

    __tablename__ = "ref_risk_type"
    __label__ = _l("Типы рисков")
    id: Mapped[int] = mapped_column(primary_key=True)


class ExportCode(CodeNameMixin, Model):
    """Код экспорта: the accounting code used when exporting to accounting."""

    __tablename__ = "ref_export_code"
    __label__ = _l("Коды экспорта")
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str | None] = mapped_column(String(32), info=label(_l("Счёт учёта")))


class Colour(CodeNameMixin, Model):
    """Цвет: marks services and documents in lists; shown as a swatch."""

    __tablename__ = "ref_colour"
    __label__ = _l("Цвета")
    __table_args__ = (CheckConstraint("length(hex) = 7", name="ck_colour_hex"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hex: Mapped[str] = mapped_column(String(7), nullable=False, info=label(_l("Цвет (HEX)")))
