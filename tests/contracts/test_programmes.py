"""Medical programmes and instalment schedules (issue 5), over HTTP as given users:
limits are never negative, an empty code comes from the code template, the policy
cost follows the contract's insurance terms unless the user holds «Ручное
изменение стоимости медпрограммы»; an instalment schedule always adds up to the
contract amount, to the kopeck. Refusals name the rule and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import ValidationError
from models.contracts import InstalmentLine, PrepaymentSchemeStep, PrepaymentSchemeTemplate
from models.pricelist import Service
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
from services.contracts.instalments import replace_schedule, schedule_from_template
from tests.contract_rows import (
    contract,
    count,
    flashes,
    message,
    n,
    programme,
    terms,
    user_with,
)
from tests.support import unit

API = "/api/v1/programmes/"
COST_REFUSED = ("Стоимость полиса меняется вручную только с правом «Ручное изменение "
                "стоимости медпрограммы»")
NEGATIVE_MAX = "Максимальная стоимость лечения не может быть отрицательной"
RIGHTS = {"contract.contracts": "delete", "contract.insurance_terms": "view",
          "contract.programme_code_templates": "view"}


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def agreement(session):
    """A DMS contract of MSK-TVR whose insurance terms price a policy at 12 000.00."""
    row = contract(session, "MSK-TVR", insurance_terms=terms(session, "12000.00"))
    session.commit()
    return row


def _body(agreement, **values):
    body = {"contract": agreement.id, "code": f"T-P{n()}", "name": f"Программа {n()}",
            "period_months": 12, "active": True}
    body.update(values)
    return body


def _form(agreement, **values):
    form = {"contract": str(agreement.id), "code": f"T-P{n()}", "name": f"Программа {n()}",
            "period_months": "12", "active": "y"}
    form.update(values)
    return form


def _programmes(session, agreement) -> int:
    return count(session, Programme, Programme.contract_id == agreement.id)


def _reloaded(session, model, pk):
    session.expire_all()
    return session.get(model, pk)


# --------------------------------------------------------------------------- limits


def test_a_negative_maximum_cost_is_refused(session, admin, agreement):
    response = admin.post(API, json=_body(agreement, max_cost="-0.01"))
    assert response.status_code == 400
    assert message(response) == NEGATIVE_MAX
    page = admin.post("/programmeview/add", data=_form(agreement, max_cost="-100"),
                      follow_redirects=True)
    assert NEGATIVE_MAX in flashes(page, "danger")
    assert _programmes(session, agreement) == 0
    zero = admin.post(API, json=_body(agreement, max_cost="0"))
    assert zero.status_code == 201, zero.get_json()
    pk = zero.get_json()["id"]
    edited = admin.put(f"{API}{pk}", json={"max_cost": "-5"})
    assert edited.status_code == 400 and message(edited) == NEGATIVE_MAX
    assert _reloaded(session, Programme, pk).max_cost == Decimal("0")


def test_a_negative_service_count_is_refused(session, admin, agreement):
    plan = programme(session, agreement)
    service = Service(code=f"T-SRV{n()}", name="Тестовый приём терапевта", insurance="none")
    session.add(service)
    session.commit()
    wanted = "Лимит количества услуг не может быть отрицательным"
    body = {"programme": plan.id, "service": service.id, "max_count": -1}
    response = admin.post("/api/v1/programmeservices/", json=body)
    assert response.status_code == 400 and message(response) == wanted
    page = admin.post("/programmeserviceview/add", follow_redirects=True, data={
        "programme": str(plan.id), "service": str(service.id), "max_count": "-3"})
    assert wanted in flashes(page, "danger")
    where = ProgrammeService.programme_id == plan.id
    assert count(session, ProgrammeService, where) == 0
    accepted = admin.post("/api/v1/programmeservices/", json={**body, "max_count": 0})
    assert accepted.status_code == 201, accepted.get_json()
    assert count(session, ProgrammeService, where) == 1


def test_an_inactive_programme_can_be_saved_on_the_screen(session, admin, agreement):
    form = _form(agreement)
    del form["active"]
    page = admin.post("/programmeview/add", data=form, follow_redirects=True)
    assert "Обязательное поле" not in page.get_data(as_text=True)
    assert count(session, Programme, Programme.code == form["code"],
                 Programme.active.is_(False)) == 1


# --------------------------------------------------------------------------- code template


@pytest.fixture
def template(session):
    row = ProgrammeCodeTemplate(code=f"T-TPL{n()}", name="По номеру договора",
                                pattern="{contract}-П{n}", unit=unit(session, "NET"))
    session.add(row)
    session.commit()
    return row


def test_an_empty_code_is_made_from_the_code_template(session, admin, agreement, template):
    first = admin.post(API, json=_body(agreement, code="", code_template=template.id))
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["result"]["code"] == f"{agreement.number}-П1"
    second = admin.post(API, json=_body(agreement, code="  ", code_template=template.id))
    assert second.get_json()["result"]["code"] == f"{agreement.number}-П2"
    typed = admin.post(API, json=_body(agreement, code="СВОЙ-КОД", code_template=template.id))
    assert typed.get_json()["result"]["code"] == "СВОЙ-КОД"
    none = admin.post(API, json=_body(agreement, code=""))
    assert none.status_code == 400
    assert message(none) == "Укажите код программы или шаблон кода"
    assert _programmes(session, agreement) == 3


def test_an_empty_code_is_made_from_the_template_on_the_screen(session, admin, agreement,
                                                                template):
    page = admin.post("/programmeview/add", data=_form(agreement, code="",
                                                        code_template=str(template.id)),
                      follow_redirects=True)
    assert flashes(page, "danger") == []
    assert count(session, Programme, Programme.code == f"{agreement.number}-П1") == 1
    page = admin.post("/programmeview/add", data=_form(agreement, code=""),
                      follow_redirects=True)
    assert "Укажите код программы или шаблон кода" in flashes(page, "danger")
    assert _programmes(session, agreement) == 1


def test_the_api_makes_the_code_when_it_is_left_out(session, admin, agreement, template):
    body = _body(agreement, code_template=template.id)
    del body["code"]
    response = admin.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["result"]["code"] == f"{agreement.number}-П1"


# --------------------------------------------------------------------------- policy cost


def test_without_the_cost_right_the_policy_cost_comes_from_the_terms(session, login,
                                                                    agreement):
    client = user_with(session, login, {**RIGHTS, "contract.programme_cost_manual": "no"})
    typed = client.post(API, json=_body(agreement, policy_cost="9999.00"))
    assert typed.status_code == 403 and message(typed) == COST_REFUSED
    page = client.post("/programmeview/add", data=_form(agreement, policy_cost="9999"),
                       follow_redirects=True)
    assert COST_REFUSED in flashes(page, "danger")
    assert _programmes(session, agreement) == 0
    empty = client.post(API, json=_body(agreement, policy_cost=None))
    assert empty.status_code == 201, empty.get_json()
    assert _reloaded(session, Programme, empty.get_json()["id"]).policy_cost == Decimal("12000")
    same = client.post(API, json=_body(agreement, policy_cost="12000.00"))
    assert same.status_code == 201, same.get_json()
    assert _programmes(session, agreement) == 2


def test_without_the_cost_right_an_existing_cost_stays(session, login, agreement):
    plan = programme(session, agreement, policy_cost=Decimal("11500.00"))
    session.commit()
    client = user_with(session, login, {**RIGHTS, "contract.programme_cost_manual": "no"})
    changed = client.put(f"{API}{plan.id}", json={"policy_cost": "12000.00"})
    assert changed.status_code == 403 and message(changed) == COST_REFUSED
    assert _reloaded(session, Programme, plan.id).policy_cost == Decimal("11500.00")
    page = client.post(f"/programmeview/edit/{plan.id}", follow_redirects=True, data={
        "contract": str(agreement.id), "code": plan.code, "name": plan.name,
        "period_months": "12", "policy_cost": "12000.00", "active": "y"})
    assert COST_REFUSED in flashes(page, "danger")
    assert _reloaded(session, Programme, plan.id).policy_cost == Decimal("11500.00")
    renamed = client.put(f"{API}{plan.id}", json={"name": "Поликлиника плюс"})
    assert renamed.status_code == 200, renamed.get_json()
    stored = _reloaded(session, Programme, plan.id)
    assert (stored.name, stored.policy_cost) == ("Поликлиника плюс", Decimal("11500.00"))


def test_with_the_cost_right_any_non_negative_cost_is_accepted(session, login, agreement):
    client = user_with(session, login, {**RIGHTS, "contract.programme_cost_manual": "yes"})
    typed = client.post(API, json=_body(agreement, policy_cost="9999.00"))
    assert typed.status_code == 201, typed.get_json()
    pk = typed.get_json()["id"]
    assert _reloaded(session, Programme, pk).policy_cost == Decimal("9999.00")
    assert client.put(f"{API}{pk}", json={"policy_cost": "0"}).status_code == 200
    assert _reloaded(session, Programme, pk).policy_cost == Decimal("0")
    negative = client.post(API, json=_body(agreement, policy_cost="-1"))
    assert negative.status_code == 400
    assert message(negative) == "Стоимость полиса не может быть отрицательной"
    assert _programmes(session, agreement) == 1


# --------------------------------------------------------------------------- instalments


@pytest.fixture
def prepaid(session):
    """A prepaid contract of MSK-TVR for 100 000.00 paid in instalments, with no schedule."""
    row = contract(session, "MSK-TVR", kind="prepaid", payment_scheme="instalments",
                   amount=Decimal("100000.00"))
    session.commit()
    return row


def _lines(session, agreement) -> list[tuple[dt.date, Decimal]]:
    session.expire_all()
    return [(line.due_date, line.amount) for line in session.scalars(
        select(InstalmentLine).where(InstalmentLine.contract_id == agreement.id)
        .order_by(InstalmentLine.due_date))]


SCHEDULE = [(dt.date(2026, 1, 1), Decimal("40000.00")), (dt.date(2026, 4, 1), Decimal("30000.00")),
            (dt.date(2026, 7, 1), Decimal("30000.00"))]


def test_replace_schedule_takes_only_a_schedule_adding_up(session, prepaid):
    short = [*SCHEDULE[:2], (dt.date(2026, 7, 1), Decimal("29999.99"))]
    with pytest.raises(ValidationError) as refused:
        replace_schedule(session, prepaid, short)
    assert str(refused.value) == ("Платежи в сумме дают 99\xa0999,99, "
                                  "а сумма договора 100\xa0000,00")
    session.rollback()
    assert _lines(session, prepaid) == []
    replace_schedule(session, prepaid, SCHEDULE)
    session.commit()
    assert _lines(session, prepaid) == SCHEDULE
    over = [*SCHEDULE, (dt.date(2026, 10, 1), Decimal("0.01"))]
    with pytest.raises(ValidationError):
        replace_schedule(session, prepaid, over)
    session.rollback()
    assert _lines(session, prepaid) == SCHEDULE


@pytest.mark.parametrize(("amount", "expected"), [
    ("100.00", ["33.33", "33.33", "33.34"]),
    ("1000.01", ["333.30", "333.30", "333.41"]),
    ("0.10", ["0.03", "0.03", "0.04"]),
])
def test_a_template_splits_the_amount_to_the_kopeck(session, prepaid, amount, expected):
    scheme = PrepaymentSchemeTemplate(code=f"T-SCH{n()}", name="Три платежа",
                                      unit=unit(session, "NET"))
    scheme.steps = [PrepaymentSchemeStep(days_after_start=days, share=Decimal(share))
                    for days, share in ((0, "33.33"), (30, "33.33"), (60, "33.34"))]
    session.add(scheme)
    prepaid.amount = Decimal(amount)
    session.flush()
    lines = schedule_from_template(prepaid, scheme)
    assert [a for _d, a in lines] == [Decimal(x) for x in expected]
    assert sum(a for _d, a in lines) == Decimal(amount)
    start = prepaid.valid_from
    assert [d for d, _a in lines] == [start, start + dt.timedelta(days=30),
                                      start + dt.timedelta(days=60)]


@pytest.fixture
def scheduled(session, prepaid):
    replace_schedule(session, prepaid, SCHEDULE)
    session.commit()
    return prepaid, [line.id for line in prepaid.instalments]


def test_a_single_line_change_breaking_the_total_is_refused(session, login, scheduled):
    agreement, ids = scheduled
    client = user_with(session, login, {**RIGHTS, "contract.instalment_schemes": "yes"})
    changed = client.put(f"/api/v1/instalments/{ids[1]}", json={"amount": "35000.00"})
    assert changed.status_code == 400
    assert message(changed).startswith(
        "Платежи в сумме дадут 105\xa0000,00, а сумма договора 100\xa0000,00")
    assert client.delete(f"/api/v1/instalments/{ids[2]}").status_code == 400
    added = client.post("/api/v1/instalments/", json={
        "contract": agreement.id, "due_date": "2026-10-01", "amount": "1000.00"})
    assert added.status_code == 400
    assert _lines(session, agreement) == SCHEDULE
    moved = client.put(f"/api/v1/instalments/{ids[1]}", json={"due_date": "2026-05-01"})
    assert moved.status_code == 200, moved.get_json()
    assert _lines(session, agreement)[1] == (dt.date(2026, 5, 1), Decimal("30000.00"))


def test_instalment_lines_are_written_only_with_the_instalment_right(session, login,
                                                                    scheduled):
    agreement, ids = scheduled
    client = user_with(session, login, {**RIGHTS, "contract.instalment_schemes": "no"})
    assert client.get("/instalmentview/list/").status_code == 200
    assert client.get(f"/api/v1/instalments/{ids[0]}").status_code == 200
    assert client.get("/instalmentview/add").status_code == 403
    assert client.put(f"/api/v1/instalments/{ids[1]}",
                      json={"due_date": "2026-05-01"}).status_code == 403
    assert client.delete(f"/api/v1/instalments/{ids[1]}").status_code == 403
    assert client.post("/api/v1/instalments/", json={
        "contract": agreement.id, "due_date": "2026-10-01", "amount": "1.00"}).status_code == 403
    assert client.post(f"/instalment-schedule/{agreement.id}", data={
        "due_date": ["2026-01-01"], "amount": ["100000.00"]}).status_code == 403
    assert _lines(session, agreement) == SCHEDULE
