"""The rules of consumables orders and seminar registrations in the cabinet.

An office orders from the lab's catalogue (active items, at most an item's limit)
and the personal manager moves the order through accepted, shipped and delivered;
a client's user registers for a seminar while it is open, ahead and not full.
Each function writes (flushed, not committed) and returns what it wrote, or
raises ValidationError in Russian with nothing written.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.errors import NotFound, ValidationError
from models.base import lock_row
from models.cabinet_orders import (
    ADDON_STATES,
    ORDER_STATES,
    AddonOrder,
    AddonOrderLine,
    Consumable,
    ConsumableOrder,
    ConsumableOrderLine,
    Seminar,
    SeminarRegistration,
)
from models.pricelist import Price, Service
from models.refbooks import BaseDepartment, Department
from models.vouchers import Voucher
from security.scope import CABINET, scoped
from services.cabinet.requests import move, office, text_field
from services.dates import utc_now
from services.vouchers.pricing import category_for, paid_price_type

#: How long the lab keeps a visit's samples: tests are added to visits this recent.
ADDON_DAYS = 7
#: Code of the base department whose services are laboratory tests: only those are
#: added to a visit's sample (a consultation or a vaccination needs the patient).
LAB_BASE_DEPARTMENT = "LAB"
ADDON_LAB_MOVES = {"new": ("accepted", "rejected"), "accepted": ("done", "rejected")}
LAB_MOVES = {"new": ("accepted", "cancelled"), "accepted": ("shipped", "cancelled"),
             "shipped": ("delivered",)}


def order_consumables(session, rights, user_id: int | None, *, unit_id, address: str,
                      quantities: dict, note: str = "") -> ConsumableOrder:
    """Record an office's order of consumables (`quantities`: item id -> typed
    quantity; empty and zero quantities are skipped). Returns the order.

    Raises ValidationError without «Заказ расходных материалов», for an office
    outside the scope, no address, nothing ordered, an unknown or withdrawn item,
    or a quantity that is not a whole number within the item's limit.
    """
    rights.require("cabinet.consumables",
                   refusal=_l("Расходные материалы заказывает пользователь с правом «%(right)s»"))
    unit = office(session, rights, unit_id)
    wanted = {}
    for key, raw in quantities.items():
        raw = str(raw or "").strip()
        if not raw or raw == "0":
            continue
        item = session.get(Consumable, key) if isinstance(key, int) else None
        if item is None or not item.active:
            raise ValidationError(_("Такого материала нет в каталоге"))
        if not raw.isdecimal() or not 0 < int(raw) <= item.max_quantity:
            raise ValidationError(_("«%(i)s»: количество — целое число от 1 до %(n)s",
                                    i=item.name, n=item.max_quantity))
        wanted[item] = int(raw)
    if not wanted:
        raise ValidationError(_("Укажите количество хотя бы одного материала"))
    order = ConsumableOrder(unit=unit, address=text_field(address, _("Адрес доставки"), 300),
                            note=text_field(note, _("Комментарий"), 500, False), state="new",
                            created_by_id=user_id,
                            lines=[ConsumableOrderLine(consumable=item, quantity=quantity)
                                   for item, quantity in wanted.items()])
    session.add(order)
    session.flush()
    return order


def move_order(session, order: ConsumableOrder, state: str, rights, staff_note: str = ""
               ) -> ConsumableOrder:
    """Move a consumables order (see services.cabinet.requests.move): the lab accepts, ships,
    delivers or cancels it.

    Raises ValidationError for a move the user's side may not make.
    """
    return move(session, order, state, rights, staff_note, lab_moves=LAB_MOVES,
                states=ORDER_STATES,
                refusal=_("Заказ в состоянии «%(a)s» нельзя перевести в «%(b)s»"))


def register(session, rights, user_id: int, seminar: Seminar, unit_id,
             now: dt.datetime | None = None) -> SeminarRegistration:
    """Register the user (from one of his offices) for the seminar. Returns the
    registration.

    Raises ValidationError without «Программа семинаров», for a closed, past or full
    seminar, an office outside the scope, or a second registration.
    """
    rights.require("cabinet.seminars",
                   refusal=_l("На семинары записывается пользователь с правом «%(right)s»"))
    unit = office(session, rights, unit_id)
    if not seminar.active or seminar.starts_on <= (now or utc_now()):
        raise ValidationError(_("Запись на этот семинар закрыта"))
    lock_row(session, Seminar, seminar.id)  # the last seat goes to one of two at once
    taken = session.scalar(select(func.count()).select_from(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar.id))
    mine = session.scalar(select(SeminarRegistration.id).where(
        SeminarRegistration.seminar_id == seminar.id, SeminarRegistration.user_id == user_id))
    if mine is not None:
        raise ValidationError(_("Вы уже записаны на этот семинар"))
    if seminar.seats is not None and taken >= seminar.seats:
        raise ValidationError(_("Свободных мест нет"))
    registration = SeminarRegistration(seminar=seminar, user_id=user_id, unit=unit)
    session.add(registration)
    session.flush()
    return registration


def unregister(session, user_id: int, seminar: Seminar, now: dt.datetime | None = None
               ) -> None:
    """Cancel the user's registration before the seminar starts (flushed).

    Raises ValidationError when he is not registered or the seminar has started.
    """
    registration = session.scalar(select(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar.id, SeminarRegistration.user_id == user_id))
    if registration is None:
        raise ValidationError(_("Вы не записаны на этот семинар"))
    if seminar.starts_on <= (now or utc_now()):
        raise ValidationError(_("Семинар уже начался: запись не отменяется"))
    session.delete(registration)
    session.flush()


def addon_visit(session, rights, voucher_id, today: dt.date | None = None) -> Voucher:
    """Return the visit `voucher_id` if an office in the user's scope sent it and its
    samples are still kept.

    Raises NotFound for a visit outside the scope (answered 404, never named),
    ValidationError for one whose samples are no longer kept.
    """
    today = today or dt.date.today()
    visit = session.scalar(scoped(select(Voucher).where(
        Voucher.id == voucher_id, Voucher.referring_unit_id.is_not(None)),
        rights, side=CABINET)) if isinstance(voucher_id, int) else None
    if visit is None:
        raise NotFound(_("Визит не найден"), field="voucher")
    if (today - visit.service_date).days > ADDON_DAYS:
        raise ValidationError(_("Пробы хранятся %(n)s дн.: к визиту от %(d)s тесты не "
                                "дозаказываются", n=ADDON_DAYS,
                                d=visit.service_date.strftime("%d.%m.%Y")), field="voucher")
    return visit


def addon_services(session, visit: Voucher, today: dt.date | None = None
                   ) -> list[tuple[Service, object]]:
    """Return the (laboratory test, price) pairs the visit's branch price list offers
    today: the services of a laboratory department (LAB_BASE_DEPARTMENT)."""
    paid = paid_price_type(session)
    category = category_for(session, paid.id, visit.branch_id) if paid else None
    if category is None:
        return []
    today = today or dt.date.today()
    laboratories = select(Department.id).join(
        BaseDepartment, BaseDepartment.id == Department.base_department_id).where(
        BaseDepartment.code == LAB_BASE_DEPARTMENT)
    return list(session.execute(
        select(Service, Price.amount).join(Price, Price.service_id == Service.id)
        .where(Price.category_id == category.id, Price.valid_from <= today,
               (Price.valid_to.is_(None)) | (Price.valid_to >= today),
               Service.active.is_(True), Service.department_id.in_(laboratories))
        .order_by(Service.name)).tuples())


def order_addon(session, rights, user_id: int | None, *, voucher_id, service_ids,
                note: str = "", today: dt.date | None = None) -> AddonOrder:
    """Order more tests on a visit's sample. Returns the order.

    Raises ValidationError without «Дозаказ тестов», for a visit outside the scope or
    too old, no test chosen, or a test the price list does not offer.
    """
    rights.require("cabinet.test_reorders",
                   refusal=_l("Тесты дозаказывает пользователь с правом «%(right)s»"))
    visit = addon_visit(session, rights, voucher_id, today)
    offered = {service.id: price for service, price in addon_services(session, visit, today)}
    chosen = list(dict.fromkeys(service_ids))
    if not chosen:
        raise ValidationError(_("Выберите хотя бы один тест"), field="services")
    missing = [sid for sid in chosen if sid not in offered]
    if missing:
        raise ValidationError(_("Этого теста нет в прейскуранте для дозаказа"),
                              field="services")
    order = AddonOrder(unit_id=visit.referring_unit_id, voucher=visit, state="new",
                       note=text_field(note, _("Комментарий"), 500, False),
                       created_by_id=user_id,
                       lines=[AddonOrderLine(service_id=sid, price=offered[sid])
                              for sid in chosen])
    session.add(order)
    session.flush()
    return order


def move_addon(session, order: AddonOrder, state: str, rights, staff_note: str = ""
               ) -> AddonOrder:
    """Move an add-on order (see services.cabinet.requests.move): the lab accepts, carries out
    or rejects it.

    Raises ValidationError for a move the user's side may not make.
    """
    return move(session, order, state, rights, staff_note, lab_moves=ADDON_LAB_MOVES,
                states=ADDON_STATES,
                refusal=_("Дозаказ в состоянии «%(a)s» нельзя перевести в «%(b)s»"))


def check_consumable(session, item: Consumable) -> None:
    """Save rule of a catalogue item: an order limit of at least one.

    Raises ValidationError.
    """
    if item.max_quantity is None or item.max_quantity < 1:
        raise ValidationError(_("«Не больше за заказ» — целое число от 1"),
                              field="max_quantity")


def check_seminar(session, seminar: Seminar) -> None:
    """Save rule of a seminar: a start, and seats either unlimited (empty) or positive.

    Raises ValidationError.
    """
    if seminar.starts_on is None:
        raise ValidationError(_("Укажите начало семинара"), field="starts_on")
    if seminar.seats is not None and seminar.seats < 1:
        raise ValidationError(_("Мест — не меньше одного (пусто — без ограничения)"),
                              field="seats")
