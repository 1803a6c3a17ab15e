"""A prepaid contract's instalment schedule: entered whole (or from a prepayment
scheme template) on its own page under «Изменение схем рассрочек…», always adding
up to the contract amount; single lines change through the screen or API only
while the total still holds. Refusals name the rule and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import (
    Contract,
    Individual,
    InstalmentLine,
    PrepaymentSchemeStep,
    PrepaymentSchemeTemplate,
)
from tests.support import make_role, make_user, unit

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _contract(session, branch: str, number: str, scheme="instalments") -> Contract:
    payer = Individual(last_name="Рассрочкин", first_name="Пётр", unit=unit(session, branch))
    contract = Contract(number=number, signed_on=START, kind="prepaid", payment_scheme=scheme,
                        branch=unit(session, branch), individual=payer, valid_from=START,
                        valid_to=END, amount=Decimal("1000.00"))
    session.add(contract)
    session.flush()
    return contract


@pytest.fixture
def rows(session):
    own = _contract(session, "MSK-TVR", "Т-РАС/1")
    own.instalments = [InstalmentLine(due_date=START, amount=Decimal("600.00")),
                       InstalmentLine(due_date=dt.date(2026, 2, 1), amount=Decimal("400.00"))]
    foreign = _contract(session, "SPB-NEV", "Т-РАС/2")
    plain = _contract(session, "MSK-TVR", "Т-РАС/3", scheme="prepaid")
    scheme = PrepaymentSchemeTemplate(code="T-333", name="Три платежа (тест)",
                                      unit=unit(session, "NET"))
    scheme.steps = [PrepaymentSchemeStep(days_after_start=0, share=Decimal("33.33")),
                    PrepaymentSchemeStep(days_after_start=30, share=Decimal("33.33")),
                    PrepaymentSchemeStep(days_after_start=60, share=Decimal("33.34"))]
    session.add(scheme)
    session.commit()
    return {"own": own, "foreign": foreign, "plain": plain, "scheme": scheme}


@pytest.fixture
def as_user(session, login):
    def _make(schemes="yes", contracts="view"):
        name = f"rassrochka_{schemes}_{contracts}"
        role = make_role(session, f"Рассрочка {schemes}/{contracts}", {
            "contract.contracts": contracts, "contract.instalment_schemes": schemes,
            "contract.insurance_terms": "view", "contract.prepayment_scheme_templates": "view",
            "scope.data": "own_subtree"})
        make_user(session, name, roles=[role], home_unit=unit(session, "MSK-TVR"))
        return login(name)

    return _make


def _lines(session, contract) -> list[tuple[dt.date, Decimal]]:
    session.expire_all()
    return [(line.due_date, line.amount) for line in session.scalars(
        select(InstalmentLine).where(InstalmentLine.contract_id == contract.id)
        .order_by(InstalmentLine.due_date))]


BEFORE = [(START, Decimal("600.00")), (dt.date(2026, 2, 1), Decimal("400.00"))]


def test_a_whole_schedule_adding_up_replaces_the_old_one(session, rows, as_user):
    client = as_user()
    own = rows["own"]
    page = client.get(f"/instalment-schedule/{own.id}")
    assert page.status_code == 200
    assert "600.00" in page.get_data(as_text=True)
    saved = client.post(f"/instalment-schedule/{own.id}", data={
        "due_date": ["2026-01-10", "2026-03-10", "2026-05-10", ""],
        "amount": ["250", "250,00", "500.00", ""]})
    assert saved.status_code == 302
    assert _lines(session, own) == [(dt.date(2026, 1, 10), Decimal("250.00")),
                                    (dt.date(2026, 3, 10), Decimal("250.00")),
                                    (dt.date(2026, 5, 10), Decimal("500.00"))]


@pytest.mark.parametrize(("dates", "amounts", "message"), [
    (["2026-01-10", "2026-02-10"], ["500", "400"], "в сумме дают 900,00"),
    (["2026-01-10", "2027-02-10"], ["500", "500"], "вне срока действия договора"),
    (["2026-01-10", "2026-02-10"], ["1000", "0"], "сумма должна быть больше нуля"),
    (["10.01.2026x", ""], ["1000", ""], "Строка 1: укажите дату платежа"),
    (["2026-01-10", ""], ["тысяча", ""], "не число"),
    (["2026-01-10", ""], ["999.999", ""], "не больше двух знаков"),
    ([""], [""], "хотя бы один платёж"),
])
def test_a_schedule_that_does_not_fit_is_refused_and_nothing_changes(
        session, rows, as_user, dates, amounts, message):
    client = as_user()
    own = rows["own"]
    response = client.post(f"/instalment-schedule/{own.id}",
                           data={"due_date": dates, "amount": amounts})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text
    # What was typed comes back in the form.
    assert f'value="{amounts[0]}"' in text
    assert _lines(session, own) == BEFORE


def test_filling_from_a_template_splits_the_amount_to_the_kopeck(session, rows, as_user):
    client = as_user()
    own = rows["own"]
    response = client.post(f"/instalment-schedule/{own.id}",
                           data={"scheme": str(rows["scheme"].id)})
    assert response.status_code == 302
    assert _lines(session, own) == [(START, Decimal("333.30")),
                                    (dt.date(2026, 1, 31), Decimal("333.30")),
                                    (dt.date(2026, 3, 2), Decimal("333.40"))]


def test_a_contract_without_instalments_takes_no_schedule(session, rows, as_user):
    client = as_user()
    plain = rows["plain"]
    response = client.post(f"/instalment-schedule/{plain.id}",
                           data={"due_date": ["2026-01-10"], "amount": ["1000"]})
    assert response.status_code == 400
    assert "Предоплата, с рассрочкой оплаты" in response.get_data(as_text=True)
    assert _lines(session, plain) == []


def test_without_the_right_the_schedule_page_is_closed(session, rows, as_user):
    client = as_user(schemes="no", contracts="delete")
    own = rows["own"]
    assert client.get(f"/instalment-schedule/{own.id}").status_code in (302, 403)
    response = client.post(f"/instalment-schedule/{own.id}",
                           data={"due_date": ["2026-01-10"], "amount": ["1000"]})
    assert response.status_code in (302, 403)
    assert _lines(session, own) == BEFORE
    # He still reads the schedule in the contract's card and the list.
    assert client.get("/instalmentview/list/").status_code == 200
    assert client.get(f"/api/v1/instalments/{own.instalments[0].id}").status_code == 200


def test_a_contract_outside_the_scope_is_not_found(session, rows, as_user):
    client = as_user()
    foreign = rows["foreign"]
    assert client.get(f"/instalment-schedule/{foreign.id}").status_code == 404
    response = client.post(f"/instalment-schedule/{foreign.id}",
                           data={"due_date": ["2026-01-10"], "amount": ["1000"]})
    assert response.status_code == 404
    assert _lines(session, foreign) == []


def test_a_single_line_changes_only_while_the_total_holds(session, rows, as_user):
    client = as_user()
    own = rows["own"]
    first = own.instalments[0]
    moved = client.put(f"/api/v1/instalments/{first.id}", json={"due_date": "2026-01-15"})
    assert moved.status_code == 200, moved.get_json()
    broken = client.put(f"/api/v1/instalments/{first.id}", json={"amount": "700.00"})
    assert broken.status_code == 400
    assert "сумма договора 1\u00a0000,00" in broken.get_json()["message"]
    assert _lines(session, own) == [(dt.date(2026, 1, 15), Decimal("600.00")),
                                    (dt.date(2026, 2, 1), Decimal("400.00"))]
    deleted = client.delete(f"/api/v1/instalments/{first.id}")
    assert deleted.status_code == 400
    assert len(_lines(session, own)) == 2


def test_line_writes_need_the_instalment_right(session, rows, as_user):
    client = as_user(schemes="no", contracts="delete")
    first = rows["own"].instalments[0]
    response = client.put(f"/api/v1/instalments/{first.id}", json={"due_date": "2026-01-15"})
    assert response.status_code in (401, 403)
    assert _lines(session, rows["own"]) == BEFORE


def test_changing_the_contract_amount_alone_is_refused(session, rows, login):
    client = login("admin")
    own = rows["own"]
    response = client.put(f"/api/v1/contracts/{own.id}", json={"amount": "1200.00"})
    assert response.status_code == 400
    assert "не совпадает со схемой рассрочки" in response.get_json()["message"]
    session.expire_all()
    assert session.get(Contract, own.id).amount == Decimal("1000.00")
