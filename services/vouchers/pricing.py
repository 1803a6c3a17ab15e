"""Who pays for a voucher line and at what price.

The payer comes from the patient's attachments valid on the service date whose
programme covers the service (the programme's price type then prices it), else
the patient pays at the branch's paid price. The price is the price-list price
of the service in the price category of that price type which serves the
branch, valid on the service date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core.errors import ValidationError
from models.patients import Attachment
from models.pricelist import Price
from models.programmes import Programme, ProgrammeService
from models.refbooks import PriceCategory, PriceType, price_category_branch
from services.contracts.rules import KOPECK


@dataclass(frozen=True)
class Payer:
    """The resolved payer of a line: its kind, attachment and contract, price type."""

    kind: str  # "patient" | "attachment" | "contract"
    price_type_id: int | None
    attachment: Attachment | None = None
    contract_id: int | None = None


def covering_attachments(session, patient_id: int, service_id: int, on: dt.date
                         ) -> list[Attachment]:
    """Return the patient's attachments valid on `on` whose active programme includes
    the service, oldest first."""
    query = (select(Attachment).join(Programme, Attachment.programme_id == Programme.id)
             .join(ProgrammeService, ProgrammeService.programme_id == Programme.id)
             .where(Attachment.patient_id == patient_id, Attachment.valid_from <= on,
                    or_(Attachment.valid_to.is_(None), Attachment.valid_to >= on),
                    Programme.active.is_(True), ProgrammeService.service_id == service_id)
             .order_by(Attachment.valid_from, Attachment.id))
    return list(session.scalars(query))


def paid_price_type(session) -> PriceType | None:
    """Return the price type of services the patient pays for himself."""
    return session.scalars(select(PriceType).where(PriceType.funding == "paid",
                                                   PriceType.active.is_(True))
                           .order_by(PriceType.id)).first()


def resolve_payer(session, patient_id: int, service_id: int, on: dt.date) -> Payer:
    """Return who pays for the service: the first covering attachment, else the patient."""
    attachments = covering_attachments(session, patient_id, service_id, on)
    if attachments:
        attachment = attachments[0]
        programme = attachment.programme
        return Payer("attachment", programme.price_type_id, attachment,
                     programme.contract_id)
    paid = paid_price_type(session)
    return Payer("patient", paid.id if paid else None)


def category_for(session, price_type_id: int, branch_id: int) -> PriceCategory | None:
    """Return the active price category of the price type that serves the branch."""
    query = (select(PriceCategory)
             .join(price_category_branch,
                   price_category_branch.c.category_id == PriceCategory.id)
             .where(PriceCategory.price_type_id == price_type_id,
                    PriceCategory.active.is_(True),
                    price_category_branch.c.branch_id == branch_id)
             .order_by(PriceCategory.id))
    return session.scalars(query).first()


def price_on(session, service_id: int, category_id: int, on: dt.date) -> Price | None:
    """Return the price of the service in the category valid on the date."""
    return session.scalars(
        select(Price).where(Price.service_id == service_id, Price.category_id == category_id,
                            Price.valid_from <= on,
                            or_(Price.valid_to.is_(None), Price.valid_to >= on))
        .order_by(Price.valid_from.desc())).first()


def line_price(session, service_id: int, price_type_id: int | None, branch_id: int,
               on: dt.date) -> tuple[PriceCategory, Decimal]:
    """Return the (category, price) of the service for the price type in the branch.

    Raises ValidationError naming what is missing: a category of the price type
    for the branch, or a price valid on the date.
    """
    if price_type_id is None:
        raise ValidationError(_("Не задан тип цены для услуги"), field="price_type")
    category = category_for(session, price_type_id, branch_id)
    if category is None:
        price_type = session.get(PriceType, price_type_id)
        raise ValidationError(_("Для филиала нет категории цен типа «%(t)s»",
                                t=price_type.name if price_type else price_type_id),
                              field="price_type")
    price = price_on(session, service_id, category.id, on)
    if price is None:
        raise ValidationError(
            _("В прейскуранте «%(c)s» нет цены услуги на %(d)s", c=category.name,
              d=on.strftime("%d.%m.%Y")), field="service")
    return category, price.amount


def line_amount(price: Decimal, quantity: int, discount: Decimal) -> Decimal:
    """Return price × quantity less the discount percent (a negative one is a markup),
    rounded half-up to the kopeck."""
    gross = price * quantity
    return (gross - gross * discount / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
