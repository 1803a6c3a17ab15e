"""Price rules: positive amounts, coherent periods and no two prices of one
service in one category valid on the same day."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from models.base import fk_value
from models.pricelist import Price
from services.errors import ValidationError


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


