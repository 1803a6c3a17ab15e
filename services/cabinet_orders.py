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
from sqlalchemy import func, select

from models.base import lock_row
from models.cabinet_orders import (
    ORDER_STATES,
    Consumable,
    ConsumableOrder,
    ConsumableOrderLine,
    Seminar,
    SeminarRegistration,
)
from services.cabinet_requests import is_lab, office, text_field
from services.errors import ValidationError

CLIENT_MOVES = {"new": ("cancelled",)}
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
    if not (rights.is_admin or rights.flag("cabinet.consumables")):
        raise ValidationError(_("Расходные материалы заказывает пользователь с правом «Заказ "
                                "расходных материалов»"))
    unit = office(session, rights, unit_id)
    wanted = {}
    for key, raw in quantities.items():
        raw = str(raw or "").strip()
        if not raw or raw == "0":
            continue
        item = session.get(Consumable, key) if isinstance(key, int) else None
        if item is None or not item.active:
            raise ValidationError(_("Такого материала нет в каталоге"))
        if not raw.isdigit() or not 0 < int(raw) <= item.max_quantity:
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
    """Move an order as the client (cancel a new one) or the lab (accept, ship,
    deliver, cancel). Returns the order.

    Raises ValidationError for a move the user's side may not make.
    """
    allowed = set(CLIENT_MOVES.get(order.state, ()))
    if is_lab(rights):
        allowed |= set(LAB_MOVES.get(order.state, ()))
    if state not in allowed:
        raise ValidationError(_("Заказ в состоянии «%(a)s» нельзя перевести в «%(b)s»",
                                a=ORDER_STATES.get(order.state, order.state),
                                b=ORDER_STATES.get(state, state)))
    order.state = state
    if is_lab(rights):
        order.staff_note = text_field(staff_note, _("Ответ лаборатории"), 500, False) \
            or order.staff_note
    session.flush()
    return order


def register(session, rights, user_id: int, seminar: Seminar, unit_id,
             now: dt.datetime | None = None) -> SeminarRegistration:
    """Register the user (from one of his offices) for the seminar. Returns the
    registration.

    Raises ValidationError without «Программа семинаров», for a closed, past or full
    seminar, an office outside the scope, or a second registration.
    """
    if not (rights.is_admin or rights.flag("cabinet.seminars")):
        raise ValidationError(_("На семинары записывается пользователь с правом «Программа "
                                "семинаров»"))
    unit = office(session, rights, unit_id)
    if not seminar.active or seminar.starts_on <= (now or dt.datetime.now()):
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
    if seminar.starts_on <= (now or dt.datetime.now()):
        raise ValidationError(_("Семинар уже начался: запись не отменяется"))
    session.delete(registration)
    session.flush()
