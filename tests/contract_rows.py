"""Row factories for the contract, programme and patient tests (not fixtures):
each test makes its own rows, never relying on demo contracts or patients."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from decimal import Decimal

from sqlalchemy import func, select

from tests.support import make_role, make_user, unit

_seq = itertools.count(1)
YEAR_START = dt.date(2026, 1, 1)
YEAR_END = dt.date(2026, 12, 31)
BORN = dt.date(1980, 5, 17)


def n() -> int:
    """Return a number unique within the test session."""
    return next(_seq)


def count(session, model, *where) -> int:
    """Return how many rows of `model` match, reading the database afresh."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def page(response) -> str:
    """Return a page's text (after a redirect was followed)."""
    return response.get_data(as_text=True)


FLASH = re.compile(r'<div class="alert alert-(\w+)">\s*<button[^>]*>&times;</button>(.*?)</div>',
                   re.S)


def flashes(response, category: str | None = None) -> list[str]:
    """Return the flash messages a page shows (of one category: danger, warning…)."""
    found = [(kind, " ".join(html.unescape(text).split()))
             for kind, text in FLASH.findall(response.get_data(as_text=True))]
    return [text for kind, text in found if category is None or kind == category]


def message(response) -> str:
    """Return the message of an API refusal."""
    body = response.get_json() or {}
    return str(body.get("message"))


def insurer(session, owner="NET", **values):
    from models.parties import Insurer

    k = n()
    row = Insurer(code=f"T-INS{k}", name=f"СК «Тест {k}»", unit=unit(session, owner), **values)
    session.add(row)
    session.flush()
    return row


def organisation(session, owner="NET", **values):
    from models.parties import Organisation

    k = n()
    values.setdefault("name", f"ООО «Тестовая организация {k}»")
    row = Organisation(code=f"T-ORG{k}", unit=unit(session, owner), **values)
    session.add(row)
    session.flush()
    return row


def individual(session, owner="NET", **values):
    from models.parties import Individual

    k = n()
    row = Individual(last_name=f"Плательщиков{k}", first_name="Пётр", unit=unit(session, owner),
                     **values)
    session.add(row)
    session.flush()
    return row


def terms(session, policy_cost="12000.00", owner="NET"):
    from models.contracts import InsuranceTerms

    k = n()
    row = InsuranceTerms(code=f"T-TRM{k}", name=f"Условия ДМС {k}", insurance="dms",
                         period_months=12,
                         policy_cost=None if policy_cost is None else Decimal(policy_cost),
                         unit=unit(session, owner))
    session.add(row)
    session.flush()
    return row


def contract(session, branch="MSK-TVR", *, kind="dms", served=(), **values):
    """Create a contract (a DMS one with a fresh insurer unless told otherwise)."""
    from models.contracts import Contract

    k = n()
    values.setdefault("number", f"ТСТ-{k:04d}/26")
    values.setdefault("signed_on", YEAR_START)
    values.setdefault("valid_from", YEAR_START)
    values.setdefault("valid_to", YEAR_END)
    values.setdefault("payment_scheme", "postpaid")
    if kind in ("dms", "oms") and "insurer" not in values:
        values["insurer"] = insurer(session)
    if kind == "organisation" and "organisation" not in values:
        values["organisation"] = organisation(session)
    if kind in ("prepaid", "deposit") and "individual" not in values \
            and "organisation" not in values:
        values["individual"] = individual(session)
    values.setdefault("network", bool(served))
    row = Contract(kind=kind, branch=unit(session, branch),
                   branches=[unit(session, c) for c in served], **values)
    session.add(row)
    session.flush()
    return row


def programme(session, contract_row, **values):
    from models.programmes import Programme

    k = n()
    values.setdefault("code", f"T-PRG{k}")
    values.setdefault("name", f"Программа ДМС {k}")
    values.setdefault("period_months", 12)
    values.setdefault("active", True)
    row = Programme(contract=contract_row, **values)
    session.add(row)
    session.flush()
    return row


def patient(session, home="MSK-TVR", **values):
    from models.patients import Patient

    k = n()
    values.setdefault("last_name", f"Тестов{k}")
    values.setdefault("first_name", "Иван")
    values.setdefault("middle_name", "Петрович")
    values.setdefault("birth_date", BORN)
    values.setdefault("sex", "m")
    row = Patient(home_branch=unit(session, home), **values)
    session.add(row)
    session.flush()
    return row


def attachment(session, patient_row, programme_row, valid_from=YEAR_START, valid_to=None,
               **values):
    from models.patients import Attachment

    row = Attachment(patient=patient_row, programme=programme_row, valid_from=valid_from,
                     valid_to=valid_to, **values)
    session.add(row)
    session.flush()
    return row


def user_with(session, login, rights: dict[str, str], home="MSK-TVR",
              scope="own_subtree"):
    """Create a role holding `rights` (and a data scope), a user at `home`; log him in."""
    k = n()
    role = make_role(session, f"Тестовая роль договоров {k}", {"scope.data": scope, **rights})
    make_user(session, f"ctr_user{k}", roles=[role], home_unit=unit(session, home))
    return login(f"ctr_user{k}")
