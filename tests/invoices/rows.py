"""Row factories for the invoice tests: owed voucher lines of a patient and of a
contract, a user holding given invoice rights, and readers of what was stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from models.invoices import Invoice, InvoiceLine
from models.vouchers import VoucherLine
from tests.contract_rows import contract, n, patient
from tests.support import make_role, make_user, unit
from tests.voucher_rows import PAID_PRICE, ago, line, service, voucher

#: Every invoice test user reads vouchers of other users (the owed lines are theirs).
BASE = {"voucher.other_vouchers": "view", "voucher.others_access": "yes"}
#: Full rights on invoices to patients, without the optional ones.
PATIENTS = {"invoice.patients": "delete", "invoice.patients.confirm": "yes"}
ORGS = {"invoice.organisations": "delete", "invoice.organisations.confirm": "yes"}


def inv_user(session, login, rights: dict[str, str], home="MSK-TVR", scope="own_subtree"):
    """Create a role with BASE + `rights` and a user at `home`; log him in. Returns the client."""
    k = n()
    role = make_role(session, f"Тестовая роль счетов {k}", {"scope.data": scope, **BASE, **rights})
    make_user(session, f"inv_user{k}", roles=[role], home_unit=unit(session, home))
    return login(f"inv_user{k}")


def owed_patient(session, branch="MSK-TVR", prices=(PAID_PRICE, Decimal("250.55")),
                 day: dt.date | None = None):
    """Create a patient with one voucher and his own rendered lines; returns (patient, lines)."""
    person = patient(session, branch)
    item = service(session)
    owner = voucher(session, person, branch, day=day or ago(1))
    rows = [line(session, owner, item, price=p) for p in prices]
    session.commit()
    OWED[person.id] = rows
    return person, rows


#: The owed lines of each patient made here: the form ticks them all, as it opens.
OWED: dict[int, list] = {}


def owed_contract(session, branch="MSK-TVR", count=3, price=Decimal("1200.00"), **values):
    """Create a DMS contract with `count` lines charged to it, rendered yesterday;
    returns (contract, lines)."""
    deal = contract(session, branch, **values)
    item = service(session)
    person = patient(session, branch)
    owner = voucher(session, person, branch, day=ago(1))
    rows = [line(session, owner, item, price=price, payer_kind="contract", contract=deal)
            for _ in range(count)]
    session.commit()
    return deal, rows


def states(session, rows) -> list[str]:
    """Return the stored states of voucher lines."""
    session.expire_all()
    return [session.get(VoucherLine, r.id).state for r in rows]


def invoice(session, pk) -> Invoice:
    """Return the stored invoice."""
    session.expire_all()
    return session.get(Invoice, pk)


def last_invoice(session) -> Invoice | None:
    """Return the newest invoice."""
    session.expire_all()
    return session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))


def line_count(session, pk) -> int:
    return len(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == pk)).all())


def make_patient_invoice(client, person, rows=None) -> int:
    """Make a draft through the screen (all owed lines ticked, as the form opens, or
    `rows`); returns its id (from the redirect)."""
    rows = OWED[person.id] if rows is None else rows
    data = {"invoice_date": "", "line": [str(r.id) for r in rows]}
    answer = client.post(f"/patientinvoiceview/add?patient={person.id}", data=data)
    assert answer.status_code == 302, answer.get_data(as_text=True)[-2000:]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
