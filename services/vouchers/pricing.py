"""Who pays for a voucher line and at what price.

The payer comes from the patient's attachments valid on the service date whose
programme covers the service (the programme's price type then prices it), else
the patient pays at the branch's paid price. The price is the price-list price
of the service in the price category of that price type which serves the
branch, valid on the service date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

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


class Cover(NamedTuple):
    """An attachment whose programme covers a service: what the payer rule reads."""

    attachment_id: int
    valid_from: dt.date
    valid_to: dt.date | None
    price_type_id: int | None
    contract_id: int


def attachment_covers(session, *where) -> dict[tuple[int, int], list[Cover]]:
    """Return {(patient id, service id): [Cover]}, oldest attachment first, of the
    attachments to active programmes that include the service, narrowed by `where`
    (the patients and services wanted): one query for a line or for a batch."""
    query = (select(Attachment.patient_id, ProgrammeService.service_id, Attachment.id,
                    Attachment.valid_from, Attachment.valid_to, Programme.price_type_id,
                    Programme.contract_id)
             .join(Programme, Attachment.programme_id == Programme.id)
             .join(ProgrammeService, ProgrammeService.programme_id == Programme.id)
             .where(Programme.active.is_(True), *where)
             .order_by(Attachment.valid_from, Attachment.id))
    found: dict[tuple[int, int], list[Cover]] = defaultdict(list)
    for patient_id, service_id, *cover in session.execute(query):
        found[(patient_id, service_id)].append(Cover(*cover))
    return found


def valid_on(valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> bool:
    """Return True when a period (open-ended when `valid_to` is None) holds `on`."""
    return valid_from <= on and (valid_to is None or valid_to >= on)


def first_cover(covers: list[Cover], on: dt.date) -> Cover | None:
    """Return the payer rule's choice among a patient's covers of a service: the
    oldest attachment valid on `on` (None: the patient pays)."""
    return next((c for c in covers if valid_on(c.valid_from, c.valid_to, on)), None)


def paid_price_type(session) -> PriceType | None:
    """Return the price type of services the patient pays for himself."""
    return session.scalars(select(PriceType).where(PriceType.funding == "paid",
                                                   PriceType.active.is_(True))
                           .order_by(PriceType.id)).first()


def resolve_payer(session, patient_id: int, service_id: int, on: dt.date) -> Payer:
    """Return who pays for the service: the first covering attachment, else the patient."""
    covers = attachment_covers(session, Attachment.patient_id == patient_id,
                               ProgrammeService.service_id == service_id)
    cover = first_cover(covers.get((patient_id, service_id), []), on)
    if cover is not None:
        # With its programme: the line's price type is read from it next.
        attachment = session.get(Attachment, cover.attachment_id,
                                 options=[joinedload(Attachment.programme)])
        return Payer("attachment", cover.price_type_id, attachment, cover.contract_id)
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


def price_rows(session, *where) -> dict[tuple[int, int], list[tuple]]:
    """Return {(service id, category id): [(valid_from, valid_to, amount)]} of the
    price list's prices narrowed by `where`: one query for a line or for a batch."""
    found: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for service_id, category_id, *period in session.execute(select(
            Price.service_id, Price.category_id, Price.valid_from, Price.valid_to,
            Price.amount).where(*where)):
        found[(service_id, category_id)].append(tuple(period))
    return found


def price_valid_on(rows, on: dt.date) -> Decimal | None:
    """Return the amount of `rows` (valid_from, valid_to, amount) valid on the date;
    of overlapping ones the latest start wins (None: no price)."""
    best = None
    for start, end, value in rows:  # inline (no call per row): the import runs it per line
        if start <= on and (end is None or end >= on) and (best is None or start > best[0]):
            best = (start, value)
    return best[1] if best else None


def listed_price(price_type_id: int | None, type_name, category, rows, on: dt.date
                 ) -> Decimal:
    """Return the list price of a line: `category` is the price type's category for
    the branch (None: there is none), `rows` its prices of the service, `type_name`
    a callable naming the price type for the message.

    Raises ValidationError naming what is missing: the price type, a category of
    the price type for the branch, or a price valid on the date.
    """
    if price_type_id is None:
        raise ValidationError(_("Не задан тип цены для услуги"), field="price_type")
    if category is None:
        raise ValidationError(_("Для филиала нет категории цен типа «%(t)s»",
                                t=type_name() or price_type_id), field="price_type")
    price = price_valid_on(rows, on)
    if price is None:
        raise ValidationError(
            _("В прейскуранте «%(c)s» нет цены услуги на %(d)s", c=category.name,
              d=on.strftime("%d.%m.%Y")), field="service")
    return price


def line_price(session, service_id: int, price_type_id: int | None, branch_id: int,
               on: dt.date) -> tuple[PriceCategory, Decimal]:
    """Return the (category, price) of the service for the price type in the branch.

    Raises ValidationError (see listed_price).
    """
    category = category_for(session, price_type_id, branch_id) \
        if price_type_id is not None else None
    rows = price_rows(session, Price.service_id == service_id,
                      Price.category_id == category.id)[(service_id, category.id)] \
        if category is not None else []

    def type_name():
        price_type = session.get(PriceType, price_type_id)
        return price_type.name if price_type else None

    return category, listed_price(price_type_id, type_name, category, rows, on)


def line_amount(price: Decimal, quantity: int, discount: Decimal) -> Decimal:
    """Return price × quantity less the discount percent (a negative one is a markup),
    rounded half-up to the kopeck."""
    gross = price * quantity
    return (gross - gross * discount / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
