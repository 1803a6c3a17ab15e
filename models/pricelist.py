"""The price list (section «Прейскурант услуг»): services, their groups and
composition, service sets, medical institutions and prices."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import CodeNameMixin, ValidityMixin, inn_info, label
from models.refbooks import Currency, Department, ExportCode, PriceCategory, Tax

INSURANCE_KINDS = {"none": _l("Нет"), "oms": _l("ОМС"), "dms": _l("ДМС"), "both": _l("ОМС и ДМС")}


class ServiceGroup(CodeNameMixin, Model):
    """Группа услуг: a node of the service tree."""

    __tablename__ = "price_service_group"
    __label__ = _l("Группы услуг")
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("price_service_group.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Входит в группу")))

    parent: Mapped[ServiceGroup | None] = relationship(
        "ServiceGroup", remote_side=[id], info=label(_l("Входит в группу")))


class Service(CodeNameMixin, Model):
    """Услуга: what a clinic renders and bills."""

    __tablename__ = "price_service"
    __label__ = _l("Услуги")
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("price_service_group.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Группа")))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_department.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Отделение")))
    insurance: Mapped[str] = mapped_column(String(10), nullable=False, default="none",
                                           info=label(_l("Признак ОМС/ДМС")))
    composite: Mapped[bool] = mapped_column(default=False, info=label(_l("Сложная услуга")))
    # The nomenclature code an export to accounting gives the service (models.exports).
    export_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_export_code.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Код экспорта")))

    group: Mapped[ServiceGroup | None] = relationship(ServiceGroup, info=label(_l("Группа")))
    department: Mapped[Department | None] = relationship(Department,
                                                         info=label(_l("Отделение")))
    export_code: Mapped[ExportCode | None] = relationship(ExportCode,
                                                          info=label(_l("Код экспорта")))


class ServiceComponent(Model):
    """A service inside a composite service, with its quantity."""

    __tablename__ = "price_service_component"
    __label__ = _l("Состав сложных услуг")
    __table_args__ = (
        UniqueConstraint("composite_id", "component_id", name="uq_service_component"),
        CheckConstraint("composite_id <> component_id", name="ck_component_not_self"),
        CheckConstraint("quantity > 0", name="ck_component_quantity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    composite_id: Mapped[int] = mapped_column(
        ForeignKey("price_service.id", ondelete="CASCADE"), nullable=False, index=True,
        info=label(_l("Сложная услуга")))
    component_id: Mapped[int] = mapped_column(
        ForeignKey("price_service.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Входящая услуга")))
    quantity: Mapped[int] = mapped_column(nullable=False, default=1,
                                          info=label(_l("Количество")))

    composite: Mapped[Service] = relationship(Service, foreign_keys=[composite_id],
                                              info=label(_l("Сложная услуга")))
    component: Mapped[Service] = relationship(Service, foreign_keys=[component_id],
                                              info=label(_l("Входящая услуга")))

    def __repr__(self) -> str:
        return f"{self.component} × {self.quantity}"


class ServiceSet(CodeNameMixin, Model):
    """Набор услуг с ценой: services sold together at one price."""

    __tablename__ = "price_service_set"
    __label__ = _l("Наборы услуг с ценами")
    __table_args__ = (CheckConstraint("price > 0", name="ck_service_set_price"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                           info=label(_l("Цена набора")))


class ServiceSetItem(Model):
    """A service in a set."""

    __tablename__ = "price_service_set_item"
    __label__ = _l("Состав наборов услуг")
    __table_args__ = (
        UniqueConstraint("set_id", "service_id", name="uq_service_set_item"),
        CheckConstraint("quantity > 0", name="ck_service_set_item_quantity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("price_service_set.id", ondelete="CASCADE"),
                                        nullable=False, index=True, info=label(_l("Набор")))
    service_id: Mapped[int] = mapped_column(ForeignKey("price_service.id", ondelete="RESTRICT"),
                                            nullable=False, index=True,
                                            info=label(_l("Услуга")))
    quantity: Mapped[int] = mapped_column(nullable=False, default=1,
                                          info=label(_l("Количество")))

    service_set: Mapped[ServiceSet] = relationship(ServiceSet, info=label(_l("Набор")))
    service: Mapped[Service] = relationship(Service, info=label(_l("Услуга")))


class MedicalInstitution(CodeNameMixin, Model):
    """Внутреннее или внешнее медицинское учреждение."""

    __tablename__ = "price_institution"
    __label__ = _l("Медицинские учреждения")
    id: Mapped[int] = mapped_column(primary_key=True)
    external: Mapped[bool] = mapped_column(nullable=False, default=False,
                                           info=label(_l("Внешнее")))
    inn: Mapped[str | None] = mapped_column(String(12), info=inn_info(_l("ИНН")))
    address: Mapped[str | None] = mapped_column(String(500), info=label(_l("Адрес")))


class Price(ValidityMixin, Model):
    """The price of a service in a price category for a validity period."""

    __tablename__ = "price_price"
    __label__ = _l("Цены")
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_price_positive"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_price_period"),
        UniqueConstraint("service_id", "category_id", "valid_from", name="uq_price_start"),
        # The price of a service on a date, for a category: the hot lookup.
        Index("ix_price_lookup", "service_id", "category_id", "valid_from"),
        Index("ix_price_category", "category_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("price_service.id", ondelete="RESTRICT"),
                                            nullable=False, info=label(_l("Услуга")))
    category_id: Mapped[int] = mapped_column(
        ForeignKey("ref_price_category.id", ondelete="RESTRICT"), nullable=False,
        info=label(_l("Категория цен")))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False,
                                            info=label(_l("Цена")))
    currency_id: Mapped[int] = mapped_column(ForeignKey("ref_currency.id", ondelete="RESTRICT"),
                                             nullable=False, index=True,
                                             info=label(_l("Валюта")))
    tax_id: Mapped[int | None] = mapped_column(ForeignKey("ref_tax.id", ondelete="RESTRICT"),
                                               index=True, info=label(_l("Налог")))

    service: Mapped[Service] = relationship(Service, info=label(_l("Услуга")))
    category: Mapped[PriceCategory] = relationship(PriceCategory,
                                                   info=label(_l("Категория цен")))
    currency: Mapped[Currency] = relationship(Currency, info=label(_l("Валюта")))
    tax: Mapped[Tax | None] = relationship(Tax, info=label(_l("Налог")))

    def __repr__(self) -> str:
        return f"{self.service}: {self.amount}"
