"""Imports of the price list's structure: service sets («Импорт наборов услуг») and the
content of composite services («Импорт состава сложных услуг»). Rows are checked by the
rules of the price list's screens (services.refbooks.prices)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_

from core.errors import ValidationError
from models.pricelist import Service, ServiceComponent, ServiceSet, ServiceSetItem
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    ModelImport,
    RowProblem,
    money,
    positive_int,
    required_text,
)
from services.refbooks.prices import check_component, check_quantity, check_service_set
from services.refbooks.rules import check_unique


def codes(session, model, wanted: set[str]) -> dict[str, object]:
    """Return {code: row} of `model` for the codes in `wanted` (one query)."""
    if not wanted:
        return {}
    return {row.code: row for row in session.scalars(select(model).where(
        model.code.in_(sorted(wanted))))}


def known_service(ctx, row: dict, key: str) -> Service:
    """Return the service a cell names. Raises RowProblem."""
    code = required_text(row, key)
    found = ctx["services"].get(code)
    if found is None:
        from flask_babel import gettext as _

        raise RowProblem(key, _("Нет услуги с кодом «%(code)s»", code=code))
    return found


class ServiceSetImport(ModelImport):
    """One row per service of a set; the set's name and price repeat on its rows."""

    code = "service_sets"
    title = _l("Импорт наборов услуг")
    right = "import.service_sets"
    description = _l("Наборы услуг с ценой: строка на каждую услугу набора. Новый набор "
                     "создаётся, у существующего меняются наименование и цена.")
    model = ServiceSetItem
    columns = (
        Column("set_code", "Код набора", ("Набор",), required=True),
        Column("set_name", "Наименование набора", ("Название набора",), required=True),
        Column("set_price", "Цена набора", ("Цена",), required=True,
               hint="Рубли, два знака после запятой"),
        Column("service", "Код услуги", ("Услуга",), required=True),
        Column("quantity", "Количество", ("Кол-во",), hint="Целое число; пусто — 1"),
    )
    key = ("set_code", "service")
    text_columns = ("set_code", "set_name")
    field_columns = {"price": "set_price", "quantity": "quantity"}

    def start(self, session, rights):
        return {"rights": rights, "sets": {}, "services": {}}

    def prefetch(self, session, ctx, rows):
        ctx["services"].update(codes(session, Service, {str(r["service"] or "").strip()
                                                        for r in rows} - set(ctx["services"])))
        wanted = {str(r["set_code"] or "").strip() for r in rows} - set(ctx["sets"])
        ctx["sets"].update(codes(session, ServiceSet, wanted))

    def convert(self, session, ctx, row):
        code = required_text(row, "set_code", 32)
        name = required_text(row, "set_name", 255)
        price = money(row, "set_price")
        service = known_service(ctx, row, "service")
        quantity = positive_int(row, "quantity", default=1)
        service_set = self._set(session, ctx, code, name, price)
        return (code, service.code), {"set_id": service_set.id, "service_id": service.id,
                                      "quantity": quantity}

    def _set(self, session, ctx, code, name, price) -> ServiceSet:
        """Return the set, created or renamed/repriced by the file (the screen's rules)."""
        found = ctx["sets"].get(code)
        if found is None:
            found = ServiceSet(code=code, name=name, price=price)
            try:
                check_service_set(session, found)
                check_unique(session, found)
            except ValidationError as exc:
                raise RowProblem("set_code", str(exc)) from None
            session.add(found)
            session.flush()
            ctx["sets"][code] = found
        elif (found.name, found.price) != (name, price):
            if ctx.setdefault("_set_rows", {}).setdefault(code, (name, price)) != (name, price):
                from flask_babel import gettext as _

                raise RowProblem("set_price", _("У набора «%(code)s» в файле разные "
                                                "наименования или цены", code=code))
            found.name, found.price = name, price
        return found

    def existing(self, session, ctx, keys):
        sets = {ctx["sets"][s].id: s for s, _c in keys if ctx["sets"].get(s) is not None
                and ctx["sets"][s].id is not None}
        if not sets:
            return {}
        rows = session.execute(select(ServiceSetItem, Service.code).join(Service).where(
            ServiceSetItem.set_id.in_(list(sets))))
        return {(sets[item.set_id], code): item for item, code in rows}

    def check(self, session, ctx, obj):
        check_quantity(session, obj)


class CompositeImport(ModelImport):
    """One row per service inside a composite service, with its quantity."""

    code = "composite_services"
    title = _l("Импорт состава сложных услуг")
    right = "import.composite_services"
    description = _l("Состав сложных услуг: строка на каждую входящую услугу с количеством.")
    model = ServiceComponent
    columns = (
        Column("composite", "Код сложной услуги", ("Сложная услуга",), required=True),
        Column("component", "Код входящей услуги", ("Входящая услуга", "Код услуги"),
               required=True),
        Column("quantity", "Количество", ("Кол-во",), hint="Целое число; пусто — 1"),
    )
    key = ("composite", "component")
    field_columns = {"quantity": "quantity"}

    def start(self, session, rights):
        return {"rights": rights, "services": {}}

    def prefetch(self, session, ctx, rows):
        wanted = {str(r[k] or "").strip() for r in rows for k in ("composite", "component")}
        ctx["services"].update(codes(session, Service, wanted - set(ctx["services"])))

    def convert(self, session, ctx, row):
        composite = known_service(ctx, row, "composite")
        component = known_service(ctx, row, "component")
        quantity = positive_int(row, "quantity", default=1)
        return (composite.id, component.id), {"composite_id": composite.id,
                                              "component_id": component.id,
                                              "quantity": quantity}

    def existing(self, session, ctx, keys):
        if not keys:
            return {}
        rows = session.scalars(select(ServiceComponent).where(tuple_(
            ServiceComponent.composite_id, ServiceComponent.component_id).in_(keys)))
        return {(r.composite_id, r.component_id): r for r in rows}

    def check(self, session, ctx, obj):
        check_component(session, obj)
