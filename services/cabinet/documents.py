"""Личный кабинет / Документы: the client's contracts with the lab and monthly acts of
the services rendered to the patients its offices sent, each downloadable as PDF.

A contract is the client's when its paying organisation carries the INN of a client
organisation above the user's offices. An act sums a month's visits of the offices
in the user's scope; it states money, so it needs «Просмотр информации о стоимости».
Invoices and their payment state arrive with the invoices module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, cast, func, select

from core.errors import ValidationError
from models.contracts import Contract
from models.vouchers import Voucher
from security.scope import CABINET, scoped
from services.cabinet.forms import FONTS
from services.cabinet.stats import COST_RIGHT
from services.contracts.rules import money

#: Acts are offered for this many months back.
ACT_MONTHS = 12


def client_contracts(session, rights) -> list[Contract]:
    """Return the contracts whose payer is a client organisation above the user's
    offices (matched by INN; the contract's cabinet scope path), newest first."""
    return list(session.scalars(scoped(select(Contract).order_by(Contract.signed_on.desc()),
                                       rights, side=CABINET)))


#: The invoices a client sees: confirmed ones, paid or not, and reversed ones.
CLIENT_INVOICE_STATES = ("confirmed", "partly_paid", "paid", "reversed")


def client_invoices(session, rights) -> list:
    """Return the confirmed invoices of the contracts the user's client pays (the
    invoice's cabinet scope path), newest first; none without «Просмотр информации
    о стоимости» (an invoice is all sums)."""
    from models.invoices import Invoice

    if not rights.allows(COST_RIGHT):
        return []
    return list(session.scalars(scoped(
        select(Invoice).where(Invoice.state.in_(CLIENT_INVOICE_STATES))
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()), rights, side=CABINET)))


def client_invoice(session, rights, pk: int):
    """Return one of `client_invoices`, or None."""
    return next((i for i in client_invoices(session, rights) if i.id == pk), None)


@dataclass(frozen=True)
class Act:
    """A month's services for the user's offices."""

    month: dt.date
    visits: int
    tests: int
    cost: Decimal


def _month_key(session):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", Voucher.service_date), Date)
    return func.strftime("%Y-%m-01", Voucher.service_date)


def acts(session, rights, today: dt.date | None = None) -> list[Act]:
    """Return the finished months (newest first, the last ACT_MONTHS before this one)
    with visits of the user's offices: a month is acted once it is over. Raises
    ValidationError without «Просмотр информации о стоимости»."""
    rights.require(COST_RIGHT, refusal=_l("Акты с суммами видит пользователь с правом "
                                          "«%(right)s»"))
    today = today or dt.date.today()
    last_day = today.replace(day=1) - dt.timedelta(days=1)  # of the last finished month
    start = (today.replace(day=1) - dt.timedelta(days=31 * ACT_MONTHS)).replace(day=1)
    month = _month_key(session).label("month")
    rows = session.execute(scoped(
        select(month, func.count(Voucher.id), func.coalesce(func.sum(Voucher.line_count), 0),
               func.coalesce(func.sum(Voucher.total), 0))
        .where(Voucher.service_date >= start, Voucher.service_date <= last_day,
               Voucher.referring_unit_id.is_not(None))
        .group_by(month).order_by(month.desc()), rights, model=Voucher, side=CABINET)).all()
    return [Act(_as_date(row[0]), int(row[1]), int(row[2]), Decimal(row[3])) for row in rows]


def _as_date(value) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def act_for(session, rights, month: dt.date) -> Act:
    """Return the act of one month. Raises ValidationError without the cost right or
    for a month without visits."""
    for act in acts(session, rights):
        if act.month == month:
            return act
    raise ValidationError(_("За %(m)s оказанных услуг нет", m=month.strftime("%m.%Y")))


def _pdf(title: str, lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_title(title)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 11)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def contract_pdf(contract: Contract) -> bytes:
    """Return the contract's card as a PDF."""
    until = contract.valid_to.strftime("%d.%m.%Y") if contract.valid_to else _("бессрочно")
    return _pdf(_("Договор № %(n)s от %(d)s", n=contract.number,
                  d=contract.signed_on.strftime("%d.%m.%Y")), [
        _("Заказчик: %(p)s, ИНН %(i)s", p=contract.organisation.name,
          i=contract.organisation.inn or "—"),
        _("Исполнитель: %(b)s", b=contract.branch.name),
        _("Срок действия: с %(f)s по %(t)s", f=contract.valid_from.strftime("%d.%m.%Y"),
          t=until),
        _("Прейскурант: %(c)s", c=contract.price_category.name
          if contract.price_category else "—"),
        _("Примечание: %(n)s", n=contract.note or "—"),
    ])


def act_pdf(act: Act, offices: list[str]) -> bytes:
    """Return a month's act of services rendered as a PDF."""
    return _pdf(_("Акт оказанных услуг за %(m)s", m=act.month.strftime("%m.%Y")), [
        _("Подразделения: %(o)s", o=", ".join(offices)),
        _("Визитов: %(v)s", v=act.visits),
        _("Исследований: %(t)s", t=act.tests),
        _("Сумма: %(s)s руб.", s=money(act.cost)),
    ])
