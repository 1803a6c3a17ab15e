"""Row factories for the voucher tests (not fixtures): a priced service of its own,
an attached patient, staff, vouchers and lines stored directly (for setup), the
closed period, and a user holding given voucher rights; and what the tests read
back: a voucher with its lines as stored, a page's text, the confirmation a
warning asks for. Dates are counted back from today: the voucher rules compare
them with the real date."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from sqlalchemy import select

from models.pricelist import Price, Service
from models.programmes import ProgrammeService
from models.refbooks import Currency, Department, PriceCategory, PriceType
from models.staff import Diagnosis, Employee
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import attachment, contract, n, patient, programme
from tests.support import make_role, make_user, unit

VOUCHERS, LINES = "/api/v1/vouchers/", "/api/v1/voucherlines/"
PAID_PRICE, DMS_PRICE, SPB_PRICE = Decimal("1500.00"), Decimal("1200.00"), Decimal("1400.00")
#: What every voucher test user holds unless the test says otherwise: full access to
#: vouchers and none of the optional rights; the policies let an empty nurse,
#: diagnosis or attachment pass so that each test meets only the rule it is about.
BASE = {"voucher.other_vouchers": "delete", "voucher.others_access": "yes",
        "voucher.without_staff": "allow", "voucher.without_diagnosis": "allow",
        "voucher.without_attachment": "allow", "voucher.control_branches": "no",
        "voucher.forbid_add_to_invoiced": "no"}


def confirmation(*warnings: str) -> str:
    """Return the API's refusal that asks the caller to confirm the given warnings."""
    return f"{screen_confirmation(*warnings)} (в API — параметр confirm=1)"


def screen_confirmation(*warnings: str) -> str:
    """Return the screen's refusal that asks the user to tick «Подтверждаю» (no word
    of the API there)."""
    return (f"Требуется подтверждение: {'; '.join(warnings)}. Чтобы сохранить, отметьте "
            "«Подтверждаю»")


def text(response) -> str:
    """Return a page's text with entities decoded and (narrow) no-break spaces plain."""
    body = html.unescape(response.get_data(as_text=True))
    return re.sub(r"[\xa0\u202f]", " ", body)


def snapshot(session, voucher_id: int) -> tuple:
    """Return the stored voucher row and its line rows, read afresh: equal snapshots
    mean a refused request changed nothing."""
    session.expire_all()
    head = Voucher.__table__
    lines = VoucherLine.__table__
    row = session.execute(select(head).where(head.c.id == voucher_id)).first()
    rows = session.execute(select(lines).where(lines.c.voucher_id == voucher_id)
                           .order_by(lines.c.id)).all()
    return (None if row is None else tuple(row), [tuple(r) for r in rows])


def stored(session, model, pk):
    """Return a row as the database holds it now."""
    session.expire_all()
    return session.get(model, pk)


def ago(days: int) -> dt.date:
    """Return the date `days` days before today (negative: after)."""
    return dt.date.today() - dt.timedelta(days=days)


def iso(day: dt.date) -> str:
    return day.isoformat()


def category(session, code: str) -> PriceCategory:
    return session.scalar(select(PriceCategory).where(PriceCategory.code == code))


def price_type(session, code: str) -> PriceType:
    return session.scalar(select(PriceType).where(PriceType.code == code))


def service(session, prices=None, department: str | None = None) -> Service:
    """Create a service priced (since 2000) in the given categories: by default
    MSK-BASE (paid, Moscow) 1 500,00, DMS-MSK 1 200,00 and SPB (paid) 1 400,00."""
    if prices is None:
        prices = {"MSK-BASE": PAID_PRICE, "DMS-MSK": DMS_PRICE, "SPB": SPB_PRICE}
    k = n()
    row = Service(code=f"T-SVC{k}", name=f"Тестовая услуга {k}",
                  department=session.scalar(select(Department).where(
                      Department.code == department)) if department else None)
    session.add(row)
    rub = session.scalar(select(Currency).where(Currency.code == "RUB"))
    for code, amount in prices.items():
        session.add(Price(service=row, category=category(session, code), amount=Decimal(amount),
                          currency=rub, valid_from=dt.date(2000, 1, 1)))
    session.flush()
    return row


def attached(session, covered=(), home="MSK-TVR", *, max_count=None, max_cost=None,
             price="DMS"):
    """Create a patient attached (since 30 days ago) to a fresh DMS programme covering
    the given services (each limited to `max_count`); returns (patient, attachment)."""
    plan = programme(session, contract(session, home), price_type=price_type(session, price),
                     max_cost=None if max_cost is None else Decimal(max_cost),
                     services=[ProgrammeService(service=s, max_count=max_count)
                               for s in covered])
    person = patient(session, home)
    link = attachment(session, person, plan, valid_from=ago(30))
    return person, link


def employee(session, branch="MSK-TVR", *, user=None, doctor=True) -> Employee:
    k = n()
    row = Employee(last_name=f"Врачев{k}" if doctor else f"Сестрина{k}", first_name="Анна",
                   is_doctor=doctor, branch=unit(session, branch), user=user)
    session.add(row)
    session.flush()
    return row


def diagnosis(session, code="J06.9") -> Diagnosis:
    return session.scalar(select(Diagnosis).where(Diagnosis.code == code))


def voucher(session, person, branch="MSK-TVR", day: dt.date | None = None, **values
            ) -> Voucher:
    """Store a voucher directly (setup, no rules): a doctor of the branch, no nurse."""
    values.setdefault("doctor", employee(session, branch))
    row = Voucher(service_date=day or ago(1), kind=values.pop("kind", "regular"),
                  branch=unit(session, branch), patient=person, version=1, **values)
    session.add(row)
    session.flush()
    return row


def line(session, owner: Voucher, item: Service, *, price=PAID_PRICE, quantity=1,
         state="rendered", payer_kind="patient", **values) -> VoucherLine:
    """Store a line directly (setup, no rules) at the given price; the voucher's total
    and line count follow at the flush."""
    price = Decimal(price)
    values.setdefault("price_type", price_type(session, "PAID"))
    values.setdefault("category", category(session, "MSK-BASE"))
    row = VoucherLine(voucher=owner, service=item, quantity=quantity, price=price,
                      amount=price * quantity, payer_kind=payer_kind, state=state,
                      service_date=owner.service_date, branch_id=owner.branch_id, **values)
    session.add(row)
    session.flush()
    return row


def covered_line(session, owner: Voucher, item: Service, link, quantity=1) -> VoucherLine:
    """Store a line paid under the attachment at the DMS price."""
    return line(session, owner, item, price=DMS_PRICE, quantity=quantity,
                payer_kind="attachment", attachment=link, contract=link.programme.contract,
                price_type=price_type(session, "DMS"), category=category(session, "DMS-MSK"))


def close_period(session, through: dt.date) -> None:
    """Close the network's reporting period through the given day."""
    from models.params import ModuleParameters

    session.add(ModuleParameters(unit_id=unit(session, "NET").id, closed_through=through))
    session.flush()


def voucher_user(session, login, rights: dict[str, str], home="MSK-TVR",
                 scope="own_subtree", base=BASE):
    """Create a role holding `base` overridden by `rights` (and a data scope), a user at
    `home`; log him in. Returns (client, user)."""
    k = n()
    role = make_role(session, f"Тестовая роль талонов {k}",
                     {"scope.data": scope, **base, **rights})
    user = make_user(session, f"vch_user{k}", roles=[role], home_unit=unit(session, home))
    return login(user.username), user
