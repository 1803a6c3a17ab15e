"""Price-list rules: positive amounts, coherent periods, no two prices of one
service in one category valid on the same day, and only categories «Изменение цен
на услуги» lets the user write; services, the make-up of composite services and
service sets."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core.errors import ValidationError
from models.base import fk_value
from models.pricelist import INSURANCE_KINDS, Price, Service, ServiceComponent, ServiceSet
from security.branches import category_allowed
from security.effective import right_label

#: Branch-scope rights: which price categories a user sees, and which he changes.
PRICE_VIEW, PRICE_EDIT = "price.prices.view", "price.prices.edit"


def _not_yours() -> str:
    return _("Цены этой категории вам менять нельзя (право «%(right)s»)",
             right=right_label(PRICE_EDIT))


def check_price_category(session, rights, item: Price) -> None:
    """Refuse a price in a category the user may not write, or moved out of one.

    Raises ValidationError (at the category field).
    """
    category_id = fk_value(item, "category_id")
    if category_id is None or not category_allowed(session, rights, PRICE_EDIT, category_id):
        raise ValidationError(_not_yours(), field="category")
    if item.id is not None:
        stored = session.scalar(select(Price.category_id).where(Price.id == item.id))
        if stored != category_id and not category_allowed(session, rights, PRICE_EDIT, stored):
            raise ValidationError(_not_yours(), field="category")


def check_price_delete(session, rights, item: Price) -> None:
    """Refuse to delete a price of a category the user may not write.

    Raises ValidationError.
    """
    if not category_allowed(session, rights, PRICE_EDIT, item.category_id):
        raise ValidationError(_not_yours())


def overlapping(session, service_id: int, category_id: int, valid_from, valid_to,
                exclude_id: int | None = None):
    """Return a SELECT of prices of the service and category whose period meets
    [valid_from, valid_to] (an open end runs forever)."""
    query = select(Price).where(
        Price.service_id == service_id,
        Price.category_id == category_id,
        or_(Price.valid_to.is_(None), Price.valid_to >= valid_from),
    )
    if valid_to is not None:
        query = query.where(Price.valid_from <= valid_to)
    if exclude_id is not None:
        query = query.where(Price.id != exclude_id)
    return query


def check_price(session, item: Price) -> None:
    """Raise ValidationError (Russian) for a non-positive amount, a period that ends
    before it starts, or a period that overlaps another price of the same service
    and category."""
    if item.amount is None or item.amount <= 0:
        raise ValidationError(_("Цена должна быть больше нуля"), field="amount")
    if item.valid_from is None:
        raise ValidationError(_("Укажите дату начала действия цены"), field="valid_from")
    if item.valid_to is not None and item.valid_to < item.valid_from:
        raise ValidationError(_("Дата окончания раньше даты начала"), field="valid_to")
    service_id = fk_value(item, "service_id")
    category_id = fk_value(item, "category_id")
    if service_id is None or category_id is None:
        raise ValidationError(_("Укажите услугу и категорию цен"))
    with session.no_autoflush:
        other = session.scalars(overlapping(session, service_id, category_id, item.valid_from,
                                            item.valid_to, item.id).limit(1)).first()
    if other is not None:
        until = other.valid_to.strftime("%d.%m.%Y") if other.valid_to else _("без окончания")
        raise ValidationError(_(
            "Период пересекается с другой ценой этой услуги в этой категории: "
            "с %(start)s по %(end)s", start=other.valid_from.strftime("%d.%m.%Y"), end=until))


def check_service(_session, item: Service) -> None:
    """Raise ValidationError for an unknown OMS/DMS mark."""
    if item.insurance not in INSURANCE_KINDS:
        raise ValidationError(_("Неизвестный признак ОМС/ДМС"), field="insurance")


def check_component(session, item: ServiceComponent) -> None:
    """Raise ValidationError unless a composite service holds another service, in a
    positive quantity, without a cycle at any depth."""
    composite = item.composite or session.get(Service, item.composite_id)
    component = item.component or session.get(Service, item.component_id)
    if composite is None or component is None:
        raise ValidationError(_("Укажите сложную услугу и входящую в неё услугу"))
    if not composite.composite:
        raise ValidationError(_("Услуга «%(name)s» не отмечена как сложная", name=composite.name))
    if composite.id == component.id:
        raise ValidationError(_("Услуга не может входить в саму себя"))
    if item.quantity is None or item.quantity <= 0:
        raise ValidationError(_("Количество должно быть больше нуля"), field="quantity")
    # A composite may not contain, at any depth, a service that contains it.
    seen, frontier = set(), {component.id}
    while frontier:
        if composite.id in frontier:
            raise ValidationError(_("Состав образует цикл: услуга входит сама в себя"))
        seen |= frontier
        frontier = set(session.scalars(
            select(ServiceComponent.component_id)
            .where(ServiceComponent.composite_id.in_(frontier))
        )) - seen


def check_service_set(_session, item: ServiceSet) -> None:
    """Raise ValidationError for a service set priced at zero or below."""
    if item.price is not None and item.price <= 0:
        raise ValidationError(_("Цена набора должна быть больше нуля"), field="price")


def check_quantity(_session, item) -> None:
    """Raise ValidationError for a quantity that is not above zero."""
    if item.quantity is None or item.quantity <= 0:
        raise ValidationError(_("Количество должно быть больше нуля"), field="quantity")
