"""Price rules: positive amounts, coherent periods, no two prices of one service
in one category valid on the same day, and only categories «Изменение цен на
услуги» lets the user write."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from models.base import fk_value
from models.pricelist import Price
from security.branches import category_allowed
from services.errors import ValidationError

#: Branch-scope rights: which price categories a user sees, and which he changes.
PRICE_VIEW, PRICE_EDIT = "price.prices.view", "price.prices.edit"


def _not_yours() -> str:
    return _("Цены этой категории вам менять нельзя (право «Изменение цен на услуги»)")


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


