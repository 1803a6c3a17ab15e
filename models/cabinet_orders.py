"""Consumables the lab supplies to its corporate clients, the seminars it runs for
them, and more tests a client orders on a visit's sample: the catalogues (kept by
the lab's managers) and what a client's office orders or registers for. An order,
a registration and a reorder belong to the office (`unit_id`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import CodeNameMixin, label
from models.cabinet import ClientRequest
from models.org import Unit
from models.pricelist import Service
from models.scoping import ScopePath
from models.user import AppUser
from models.vouchers import Voucher

ORDER_STATES = {"new": _l("Новый"), "accepted": _l("Принят"), "shipped": _l("Отправлен"),
                "delivered": _l("Доставлен"), "cancelled": _l("Отменён")}


class Consumable(CodeNameMixin, Model):
    """Расходный материал: a tube, a container, a form the client may order."""

    __tablename__ = "cab_consumable"
    __label__ = _l("Расходные материалы")

    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), nullable=False, default="шт.",
                                         info=label(_l("Единица")))
    max_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1000,
                                              info=label(_l("Не больше за заказ")))


class ConsumableOrder(ClientRequest, Model):
    """Заказ расходных материалов: what an office wants delivered, and where."""

    __tablename__ = "cab_consumable_order"
    __label__ = _l("Заказы расходных материалов")
    __table_args__ = (
        Index("ix_cab_consumable_order_unit", "unit_id", "id"),
        CheckConstraint("state IN ('new', 'accepted', 'shipped', 'delivered', 'cancelled')",
                        name="ck_consumable_order_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(300), nullable=False,
                                         info=label(_l("Адрес доставки")))

    lines: Mapped[list[ConsumableOrderLine]] = relationship(
        "ConsumableOrderLine", back_populates="order", cascade="all, delete-orphan",
        order_by="ConsumableOrderLine.id")


class ConsumableOrderLine(Model):
    """One consumable and its quantity in an order."""

    __tablename__ = "cab_consumable_order_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_consumable_line_quantity"),
                      UniqueConstraint("order_id", "consumable_id",
                                       name="uq_consumable_line"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("cab_consumable_order.id", ondelete="CASCADE"), nullable=False, index=True)
    consumable_id: Mapped[int] = mapped_column(
        ForeignKey("cab_consumable.id", ondelete="RESTRICT"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)

    order: Mapped[ConsumableOrder] = relationship(ConsumableOrder, back_populates="lines")
    consumable: Mapped[Consumable] = relationship(Consumable)


class Seminar(Model):
    """Семинар или тренинг for the clients' doctors and staff."""

    __tablename__ = "cab_seminar"
    __label__ = _l("Семинары")
    __table_args__ = (CheckConstraint("seats IS NULL OR seats > 0", name="ck_seminar_seats"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255), nullable=False, info=label(_l("Тема")))
    starts_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True,
                                                   info=label(_l("Начало")))
    place: Mapped[str] = mapped_column(String(300), nullable=False,
                                       info=label(_l("Место или ссылка")))
    description: Mapped[str | None] = mapped_column(String(2000),
                                                    info=label(_l("Программа")))
    seats: Mapped[int | None] = mapped_column(Integer, info=label(_l("Мест")))
    active: Mapped[bool] = mapped_column(nullable=False, default=True,
                                         info=label(_l("Открыта запись")))

    registrations: Mapped[list[SeminarRegistration]] = relationship(
        "SeminarRegistration", back_populates="seminar", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"{self.title} ({self.starts_on:%d.%m.%Y %H:%M})" if self.starts_on else self.title


class SeminarRegistration(Model):
    """A client's user registered for a seminar, from one of his offices."""

    __tablename__ = "cab_seminar_registration"
    __scope__ = ScopePath(column="unit_id")
    __table_args__ = (UniqueConstraint("seminar_id", "user_id", name="uq_seminar_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("cab_seminar.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                         nullable=False, index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now())

    seminar: Mapped[Seminar] = relationship(Seminar, back_populates="registrations")
    user: Mapped[AppUser] = relationship(AppUser)
    unit: Mapped[Unit] = relationship(Unit)


ADDON_STATES = {"new": _l("Новый"), "accepted": _l("Принят"), "done": _l("Выполнен"),
                "rejected": _l("Отклонён"), "cancelled": _l("Отменён")}


class AddonOrder(ClientRequest, Model):
    """Дозаказ тестов: more tests on a visit's sample, asked by the office that sent it."""

    __tablename__ = "cab_addon_order"
    __label__ = _l("Дозаказы тестов")
    __table_args__ = (
        Index("ix_cab_addon_order_unit", "unit_id", "id"),
        CheckConstraint("state IN ('new', 'accepted', 'done', 'rejected', 'cancelled')",
                        name="ck_addon_order_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vch_voucher.id", ondelete="CASCADE"),
                                            nullable=False, index=True)

    voucher: Mapped[Voucher] = relationship(Voucher)
    lines: Mapped[list[AddonOrderLine]] = relationship(
        "AddonOrderLine", back_populates="order", cascade="all, delete-orphan",
        order_by="AddonOrderLine.id")


class AddonOrderLine(Model):
    """A test asked for in a reorder, with its list price when ordered."""

    __tablename__ = "cab_addon_order_line"
    __table_args__ = (UniqueConstraint("order_id", "service_id", name="uq_addon_order_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("cab_addon_order.id", ondelete="CASCADE"), nullable=False, index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("price_service.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)

    order: Mapped[AddonOrder] = relationship(AddonOrder, back_populates="lines")
    service: Mapped[Service] = relationship(Service)
