"""Личный кабинет / Заказ расходных материалов, Программа семинаров and Дозаказ
тестов: the client's office orders from the catalogue, registers for seminars and
orders more tests on a recent visit; the personal manager moves orders along on the
same pages. The lab's managers keep both catalogues
(«Кабинет менеджера»). Rules: services.cabinet.orders.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, request
from flask_appbuilder import expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from models.cabinet_orders import (
    ADDON_STATES,
    ORDER_STATES,
    AddonOrder,
    Consumable,
    ConsumableOrder,
    Seminar,
    SeminarRegistration,
)
from models.vouchers import Voucher
from security.effective import current
from security.scope import CABINET, scoped
from services.cabinet import orders as rules
from services.cabinet.stats import COST_RIGHT
from services.contracts.rules import money
from services.dates import utc_now
from views.base import screen_command
from views.cabinet.requests import CabinetPage, form_int, moves_for
from views.refbook import RefBook, register_refbook
from views.registry import register


def _moves() -> dict[str, list[tuple[str, str]]]:
    return moves_for(rules.LAB_MOVES)


class ConsumablesView(CabinetPage):
    """Заказ расходных материалов: the catalogue with quantities, the address; orders."""

    route_base = "/cabinet/consumables"
    governing_right = "cabinet.consumables"
    model = ConsumableOrder
    template = "uchet/cabinet_consumables.html"

    def _page(self, status: int = 200, **extra):
        catalogue = self.appbuilder.session.scalars(
            select(Consumable).where(Consumable.active.is_(True)).order_by(Consumable.name)).all()
        return super()._page(status, catalogue=catalogue, states=ORDER_STATES, moves=_moves(),
                             **extra)

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The catalogue to order from and the orders of the user's offices."""
        return self._page()

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("show")
    def create(self):
        """Place an order (all its lines or none)."""
        quantities = {int(key[4:]): value for key, value in request.form.items()
                      if key.startswith("qty_") and key[4:].isdecimal() and len(key) < 14}
        return self._save(lambda session, rights: rules.order_consumables(
            session, rights, rights.user_id, unit_id=form_int("unit"),
            address=request.form.get("address", ""), quantities=quantities,
            note=request.form.get("note", "")), _("Заказ отправлен в лабораторию"))

    @expose("/<int:pk>/state", methods=["POST"])
    @has_access
    @permission_name("show")
    def move(self, pk: int):
        """Cancel (client) or accept, ship, deliver, cancel (lab) an order."""
        order = self._row(pk)
        return self._save(lambda session, rights: rules.move_order(
            session, order, request.form.get("state", ""), rights,
            request.form.get("staff_note", "")), _("Состояние заказа изменено"))


class SeminarsView(CabinetPage):
    """Программа семинаров: the coming seminars, seats left, one's registrations."""

    route_base = "/cabinet/seminars"
    governing_right = "cabinet.seminars"
    model = SeminarRegistration
    template = "uchet/cabinet_seminars.html"

    def _page(self, status: int = 200, **extra):
        session = self.appbuilder.session
        rights = current()
        since = utc_now() - dt.timedelta(days=1)
        seminars = session.scalars(select(Seminar).where(Seminar.starts_on >= since)
                                   .order_by(Seminar.starts_on)).all()
        taken = dict(session.execute(
            select(SeminarRegistration.seminar_id, func.count())
            .group_by(SeminarRegistration.seminar_id)).all())
        mine = set(session.scalars(select(SeminarRegistration.seminar_id).where(
            SeminarRegistration.user_id == rights.user_id)))
        return super()._page(status, seminars=seminars, taken=taken, mine=mine,
                             now=utc_now(), **extra)

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The programme; the lab sees who registered from its clients' offices."""
        return self._page()

    def _seminar(self, pk: int) -> Seminar:
        seminar = self.appbuilder.session.get(Seminar, pk)
        if seminar is None:
            abort(404)
        return seminar

    @expose("/<int:pk>/register", methods=["POST"])
    @has_access
    @permission_name("show")
    def enrol(self, pk: int):
        """Register the user for the seminar."""
        seminar = self._seminar(pk)
        return self._save(lambda session, rights: rules.register(
            session, rights, rights.user_id, seminar, form_int("unit")),
            _("Вы записаны на семинар «%(s)s»", s=seminar.title))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @has_access
    @permission_name("show")
    def cancel(self, pk: int):
        """Cancel the user's registration."""
        seminar = self._seminar(pk)
        return self._save(lambda session, rights: rules.unregister(
            session, rights.user_id, seminar), _("Запись на семинар отменена"))


register(ConsumablesView, name="CabinetConsumables", label=_l("Заказ расходных материалов"),
         category="cabinet", icon="fa-flask")
register(SeminarsView, name="CabinetSeminars", label=_l("Программа семинаров"),
         category="cabinet", icon="fa-graduation-cap")

# The catalogues, kept by the lab's managers.
register_refbook(RefBook(
    Consumable, "cabinet.manager_cabinet", "Consumables", "cabinet",
    ("code", "name", "measure", "max_quantity", "active"), icon="fa-cubes",
    validate=rules.check_consumable))
register_refbook(RefBook(
    Seminar, "cabinet.manager_cabinet", "Seminars", "cabinet",
    ("starts_on", "title", "place", "seats", "active"),
    edit_columns=("title", "starts_on", "place", "description", "seats", "active"),
    order=("starts_on", "desc"), icon="fa-calendar", validate=rules.check_seminar))


class AddonOrdersView(CabinetPage):
    """Дозаказ тестов: choose a recent visit, then tests from the price list; orders."""

    route_base = "/cabinet/addons"
    governing_right = "cabinet.test_reorders"
    model = AddonOrder
    template = "uchet/cabinet_addons.html"

    def _page(self, status: int = 200, **extra):
        session = self.appbuilder.session
        rights = current()
        since = dt.date.today() - dt.timedelta(days=rules.ADDON_DAYS)
        visits = session.scalars(scoped(select(Voucher).where(
            Voucher.referring_unit_id.is_not(None), Voucher.service_date >= since)
            .order_by(Voucher.service_date.desc(), Voucher.id.desc()).limit(200),
            rights, side=CABINET)).all()
        if "chosen" not in extra and request.method == "POST":
            # A refused order shows its visit and ticks again: the typing stays.
            extra["chosen"] = session.scalar(scoped(select(Voucher).where(
                Voucher.id == (form_int("visit") if isinstance(form_int("visit"), int)
                               else None)), rights, side=CABINET))
            extra["offered"] = rules.addon_services(session, extra["chosen"]) \
                if extra["chosen"] is not None else []
        extra.setdefault("chosen", None)
        extra.setdefault("offered", [])
        extra.setdefault("error", None)
        return super()._page(status, visits=visits, states=ADDON_STATES,
                             moves=_addon_moves(), money=money,
                             with_cost=rights.allows(COST_RIGHT), **extra)

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """Recent visits to order on, the tests offered for the chosen one, the orders."""
        raw = request.args.get("visit", "")
        if not raw:
            return self._page(200, chosen=None, offered=[], error=None)
        session = self.appbuilder.session

        def read():
            chosen = rules.addon_visit(session, current(), int(raw) if raw.isdecimal()
                                       and len(raw) < 10 else None)
            return chosen, rules.addon_services(session, chosen)

        return screen_command(
            read, flash_refusal=False,
            done=lambda found: self._page(200, chosen=found[0], offered=found[1], error=None),
            again=lambda exc: self._page(400, chosen=None, offered=[], error=str(exc)))

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("show")
    def create(self):
        """Send the order to the lab."""
        ids = [int(v) for v in request.form.getlist("service") if v.isdecimal() and len(v) < 10]
        return self._save(lambda session, rights: rules.order_addon(
            session, rights, rights.user_id, voucher_id=form_int("visit"), service_ids=ids,
            note=request.form.get("note", "")), _("Дозаказ отправлен в лабораторию"))

    @expose("/<int:pk>/state", methods=["POST"])
    @has_access
    @permission_name("show")
    def move(self, pk: int):
        """Cancel (client) or accept, carry out, reject (lab) an add-on order."""
        order = self._row(pk)
        return self._save(lambda session, rights: rules.move_addon(
            session, order, request.form.get("state", ""), rights,
            request.form.get("staff_note", "")), _("Состояние дозаказа изменено"))


def _addon_moves() -> dict[str, list[tuple[str, str]]]:
    return moves_for(rules.ADDON_LAB_MOVES)


register(AddonOrdersView, name="CabinetAddons", label=_l("Дозаказ тестов"),
         category="cabinet", icon="fa-plus-square")
