"""What keeps a contract and the rows under it consistent once they are stored, over
HTTP as given users: un-networking a contract needs «Сетевые договоры»; a programme
in use stays with its contract (an unused one moves and takes the new contract's
policy cost); a contract's dates cannot shrink past its guarantees or instalments;
single instalment lines and bulk deletes keep the schedule adding up; the schedule
page saves a new amount only together with a schedule adding up to it, and only for
a user who may edit contracts; programme codes from a template skip taken numbers
and refuse patterns other than {contract} and {n}; an attachment to a programme
closed later stays editable while new ones are refused. Refusals name the rule in
Russian and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.contracts import Contract, InstalmentLine, PaymentGuarantee
from models.patients import Attachment
from models.programmes import Programme, ProgrammeCodeTemplate
from tests.contract_rows import (
    attachment,
    contract,
    count,
    flashes,
    message,
    n,
    patient,
    programme,
    terms,
    user_with,
)
from tests.support import unit

CONTRACTS, PROGRAMMES, LINES = "/api/v1/contracts/", "/api/v1/programmes/", "/api/v1/instalments/"
RIGHTS = {"contract.contracts": "delete", "contract.insurance_terms": "view",
          "contract.programme_code_templates": "view"}
INSTALMENT_RIGHTS = {**RIGHTS, "contract.instalment_schemes": "yes"}
NETWORK_REFUSED = ("Сетевые договоры заводит и меняет только пользователь с правом "
                   "«Сетевые договоры»")
COST_REFUSED = ("Стоимость полиса меняется вручную только с правом «Ручное изменение "
                "стоимости медпрограммы»")
NOT_INSTALMENTS = ("Схема рассрочки бывает только у договора со способом оплаты "
                   "«Предоплата, с рассрочкой оплаты»")
D = dt.date.fromisoformat
BEFORE = [(D("2026-01-01"), Decimal("600.00")), (D("2026-02-01"), Decimal("400.00"))]


@pytest.fixture
def admin(login):
    return login("admin")


def _prepaid(session, lines=BEFORE, amount="1000.00", scheme="instalments") -> Contract:
    """A prepaid MSK-TVR contract for 2026 with the given instalment lines."""
    row = contract(session, "MSK-TVR", kind="prepaid", payment_scheme=scheme,
                   amount=Decimal(amount))
    row.instalments = [InstalmentLine(due_date=d, amount=Decimal(a)) for d, a in lines]
    session.flush()
    return row


def _lines(session, agreement) -> list[tuple[dt.date, Decimal]]:
    session.expire_all()
    return [(line.due_date, line.amount) for line in session.scalars(
        select(InstalmentLine).where(InstalmentLine.contract_id == agreement.id)
        .order_by(InstalmentLine.due_date))]


def _reloaded(session, model, pk):
    session.expire_all()
    return session.get(model, pk)


# --------------------------------------------------------------------------- 1. network


def test_without_the_network_right_a_network_contract_stays_networked(session, login):
    network = contract(session, "MSK-TVR", served=("MSK-ARB",))
    session.commit()
    client = user_with(session, login, {**RIGHTS, "contract.network_contracts": "no"},
                       home="MSK")
    for body in ({"network": False, "branches": []}, {"branches": []}):
        refused = client.put(f"{CONTRACTS}{network.id}", json=body)
        assert refused.status_code == 403, body
        assert message(refused) == NETWORK_REFUSED
    stored = _reloaded(session, Contract, network.id)
    assert stored.network is True and [u.code for u in stored.branches] == ["MSK-ARB"]
    # Other fields of it he may change, on the API and on the screen (which posts
    # the network flag and branches back as they were).
    noted = client.put(f"{CONTRACTS}{network.id}", json={"note": "Продлён письмом"})
    assert noted.status_code == 200, noted.get_json()
    page = client.post(f"/contractview/edit/{network.id}", follow_redirects=True, data={
        "number": network.number, "signed_on": "2026-01-01", "kind": "dms",
        "payment_scheme": "postpaid", "branch": str(unit(session, "MSK-TVR").id),
        "network": "y", "branches": str(unit(session, "MSK-ARB").id),
        "insurer": str(network.insurer_id), "valid_from": "2026-01-01",
        "valid_to": "2026-12-31", "note": "Продлён ещё раз"})
    assert flashes(page, "danger") == []
    stored = _reloaded(session, Contract, network.id)
    assert (stored.note, stored.network) == ("Продлён ещё раз", True)
    assert [u.code for u in stored.branches] == ["MSK-ARB"]


def test_with_the_network_right_a_network_contract_is_un_networked(session, login):
    network = contract(session, "MSK-TVR", served=("MSK-ARB",))
    session.commit()
    client = user_with(session, login, {**RIGHTS, "contract.network_contracts": "yes"},
                       home="MSK")
    response = client.put(f"{CONTRACTS}{network.id}", json={"network": False, "branches": []})
    assert response.status_code == 200, response.get_json()
    stored = _reloaded(session, Contract, network.id)
    assert (stored.network, stored.branches) == (False, [])


# --------------------------------------------------------------------------- 2. moving programmes


def test_a_programme_in_use_is_not_moved_to_another_contract(session, admin):
    old, new = contract(session, "MSK-TVR"), contract(session, "MSK-TVR")
    attached, guaranteed = programme(session, old), programme(session, old)
    attachment(session, patient(session), attached)
    session.add(PaymentGuarantee(contract=old, number="ГП-1", issued_on=D("2026-01-10"),
                                 valid_from=D("2026-01-10"), valid_to=D("2026-06-30"),
                                 programmes=[guaranteed]))
    session.commit()
    for plan, used in ((attached, "прикреплений 1, гарантийных писем 0"),
                       (guaranteed, "прикреплений 0, гарантийных писем 1")):
        response = admin.put(f"{PROGRAMMES}{plan.id}", json={"contract": new.id})
        assert response.status_code == 400
        assert message(response) == f"Программу нельзя перенести в другой договор: {used}"
        assert _reloaded(session, Programme, plan.id).contract_id == old.id
    assert count(session, Programme, Programme.contract_id == new.id) == 0
    renamed = admin.put(f"{PROGRAMMES}{attached.id}", json={"name": "Поликлиника плюс"})
    assert renamed.status_code == 200, renamed.get_json()


def test_an_unused_programme_moves_and_takes_the_new_contracts_cost(session, login):
    old = contract(session, "MSK-TVR", insurance_terms=terms(session, "12000.00"))
    new = contract(session, "MSK-TVR", insurance_terms=terms(session, "15000.00"))
    plan = programme(session, old, policy_cost=Decimal("12000.00"))
    session.commit()
    client = user_with(session, login, {**RIGHTS, "contract.programme_cost_manual": "no"})
    typed = client.put(f"{PROGRAMMES}{plan.id}",
                       json={"contract": new.id, "policy_cost": "13000.00"})
    assert typed.status_code == 403 and message(typed) == COST_REFUSED
    stored = _reloaded(session, Programme, plan.id)
    assert (stored.contract_id, stored.policy_cost) == (old.id, Decimal("12000.00"))
    moved = client.put(f"{PROGRAMMES}{plan.id}", json={"contract": new.id})
    assert moved.status_code == 200, moved.get_json()
    stored = _reloaded(session, Programme, plan.id)
    assert (stored.contract_id, stored.policy_cost) == (new.id, Decimal("15000.00"))


# --------------------------------------------------------------------------- 3. contract dates


def test_contract_dates_shrink_only_while_guarantees_and_instalments_fit(session, admin):
    dms = contract(session, "MSK-TVR")
    session.add(PaymentGuarantee(contract=dms, number="ГП-1", issued_on=D("2026-02-01"),
                                 valid_from=D("2026-02-01"), valid_to=D("2026-10-31")))
    prepaid = _prepaid(session, [(D("2026-01-01"), "600.00"), (D("2026-10-01"), "400.00")])
    session.commit()
    letters = "Гарантийных писем вне нового срока договора: 1. Сначала измените их"
    payments = "Платежей рассрочки вне нового срока договора: 1. Сначала измените схему"
    for row, dates, wanted in ((dms, {"valid_to": "2026-10-30"}, letters),
                               (dms, {"valid_from": "2026-02-02"}, letters),
                               (prepaid, {"valid_to": "2026-09-30"}, payments),
                               (prepaid, {"valid_from": "2026-01-02"}, payments)):
        response = admin.put(f"{CONTRACTS}{row.id}", json=dates)
        assert response.status_code == 400, dates
        assert message(response) == wanted
    for row in (dms, prepaid):
        stored = _reloaded(session, Contract, row.id)
        assert (stored.valid_from, stored.valid_to) == (D("2026-01-01"), D("2026-12-31"))
    # Up to the last day that still holds them all.
    for row, dates in ((dms, {"valid_from": "2026-02-01", "valid_to": "2026-10-31"}),
                       (prepaid, {"valid_to": "2026-10-01"})):
        response = admin.put(f"{CONTRACTS}{row.id}", json=dates)
        assert response.status_code == 200, response.get_json()
        assert _reloaded(session, Contract, row.id).valid_to == D(dates["valid_to"])


# --------------------------------------------------------------------------- 4. single lines


def test_single_instalment_lines_breaking_a_rule_are_refused(session, login):
    own = _prepaid(session)
    # Taking in own's 600.00 line would make this one add up: only the move rule refuses.
    other = _prepaid(session, [(D("2026-03-01"), "1000.00")], amount="1600.00")
    empty = _prepaid(session, [])
    plain = _prepaid(session, [], scheme="prepaid")
    session.commit()
    first = own.instalments[0].id
    client = user_with(session, login, INSTALMENT_RIGHTS)
    outside = "Срок платежа вне срока действия договора (с 01.01.2026 по 31.12.2026)"
    total = ("Платежи в сумме дадут {}, а сумма договора 1\xa0000,00: меняйте схему "
             "целиком на странице «Схема рассрочки» договора")
    line = f"{LINES}{first}"
    for method, url, body, wanted in (
            ("post", LINES, {"contract": plain.id, "due_date": "2026-03-01", "amount": "1000.00"},
             NOT_INSTALMENTS),
            ("post", LINES, {"contract": empty.id, "due_date": "2027-01-10", "amount": "1000.00"},
             outside),
            ("post", LINES, {"contract": empty.id, "due_date": "2026-03-01", "amount": "999.99"},
             total.format("999,99")),
            ("put", line, {"due_date": "2027-01-10"}, outside),
            ("put", line, {"amount": "500.00"}, total.format("900,00")),
            ("put", line, {"contract": other.id},
             "Платёж нельзя перенести в другой договор: удалите его и добавьте в нужный")):
        response = client.open(url, method=method.upper(), json=body)
        assert response.status_code == 400, body
        assert message(response) == wanted
    assert _lines(session, own) == BEFORE
    assert _lines(session, other) == [(D("2026-03-01"), Decimal("1000.00"))]
    assert _lines(session, empty) == _lines(session, plain) == []


def test_single_instalment_lines_adding_up_are_accepted(session, login):
    own, empty = _prepaid(session), _prepaid(session, [])
    session.commit()
    client = user_with(session, login, INSTALMENT_RIGHTS)
    added = client.post(LINES, json={"contract": empty.id, "due_date": "2026-03-01",
                                     "amount": "1000.00"})
    assert added.status_code == 201, added.get_json()
    assert _lines(session, empty) == [(D("2026-03-01"), Decimal("1000.00"))]
    first = own.instalments[0].id
    moved = client.put(f"{LINES}{first}", json={"contract": own.id, "due_date": "2026-01-20"})
    assert moved.status_code == 200, moved.get_json()
    page = client.post(f"/instalmentview/edit/{first}", follow_redirects=True, data={
        "contract": str(own.id), "due_date": "2026-01-25", "amount": "600.00"})
    assert flashes(page, "danger") == []
    assert _lines(session, own) == [(D("2026-01-25"), Decimal("600.00")), BEFORE[1]]


# --------------------------------------------------------------------------- 5. deleting lines


THREE = [(D("2026-01-01"), "400.00"), (D("2026-02-01"), "300.00"), (D("2026-03-01"), "300.00")]


def test_only_a_whole_schedule_is_deleted_and_only_at_once(session, login):
    own, other = _prepaid(session, THREE), _prepaid(session)
    session.commit()
    ids = [line.id for line in own.instalments]
    client = user_with(session, login, INSTALMENT_RIGHTS)
    single = client.delete(f"{LINES}{ids[0]}")
    assert single.status_code == 400
    assert message(single).startswith("Платежи в сумме дадут 600,00, а сумма договора")
    page = client.post(f"/instalmentview/delete/{ids[0]}", follow_redirects=True)
    assert any(t.startswith("Платежи в сумме дадут 600,00") for t in flashes(page, "danger"))
    some = client.post("/instalmentview/action_post", follow_redirects=True,
                       data={"action": "muldelete", "rowid": [str(i) for i in ids[:2]]})
    assert any(t.startswith("Платежи в сумме дадут 300,00") for t in flashes(some, "danger"))
    assert _lines(session, own) == [(d, Decimal(a)) for d, a in THREE]
    every = client.post("/instalmentview/action_post", follow_redirects=True,
                        data={"action": "muldelete", "rowid": [str(i) for i in ids]})
    assert flashes(every, "danger") == []
    assert "Удалено записей: 3" in flashes(every, "success")
    assert _lines(session, own) == []
    assert _lines(session, other) == BEFORE


# --------------------------------------------------------------------------- 6. schedule page


def _schedule(client, agreement, rows, **extra):
    dates, amounts = zip(*rows, strict=True) if rows else ((), ())
    return client.post(f"/instalment-schedule/{agreement.id}",
                       data={"due_date": list(dates), "amount": list(amounts), **extra})


def _amount(session, agreement) -> Decimal:
    return _reloaded(session, Contract, agreement.id).amount


NEW = [("2026-01-10", "700.00"), ("2026-05-10", "500,00")]
NEW_LINES = [(D("2026-01-10"), Decimal("700.00")), (D("2026-05-10"), Decimal("500.00"))]


@pytest.mark.parametrize(("rows", "extra", "wanted"), [
    ([("2026-01-10", "1e30")], {}, "Строка 1: слишком большая сумма"),
    ([("2026-01-10", "1000"), ("2026-02-10", "-1e30")], {}, "Строка 2: слишком большая сумма"),
    ([("2026-01-10", "1000")], {"contract_amount": "1e30"},
     "Сумма договора: больше нуля, до копеек, меньше триллиона"),
    ([("2026-01-10", "1000")], {"contract_amount": "NaN"}, "Сумма договора «NaN» — не число"),
])
def test_an_absurd_amount_on_the_schedule_page_is_a_refusal(session, login, rows, extra,
                                                            wanted):
    own = _prepaid(session)
    session.commit()
    client = user_with(session, login, INSTALMENT_RIGHTS)
    response = _schedule(client, own, rows, **extra)
    assert response.status_code == 400
    assert wanted in flashes(response, "danger")
    assert _lines(session, own) == BEFORE and _amount(session, own) == Decimal("1000.00")


def test_an_amount_beyond_the_decimal_exponent_is_a_refusal(session, login):
    own = _prepaid(session)
    session.commit()
    client = user_with(session, login, INSTALMENT_RIGHTS)
    response = _schedule(client, own, [("2026-01-10", "1e1000000")])
    assert response.status_code == 400
    assert "Строка 1: слишком большая сумма" in flashes(response, "danger")
    assert _lines(session, own) == BEFORE


def test_a_new_amount_is_saved_only_with_a_schedule_adding_up_to_it(session, login):
    own = _prepaid(session)
    session.commit()
    client = user_with(session, login, INSTALMENT_RIGHTS)
    assert 'name="contract_amount"' in client.get(f"/instalment-schedule/{own.id}").text
    refused = _schedule(client, own, NEW, contract_amount="1500.00")
    assert refused.status_code == 400
    assert ("Платежи в сумме дают 1 200,00, а сумма договора 1 500,00"
            in flashes(refused, "danger"))
    assert _lines(session, own) == BEFORE and _amount(session, own) == Decimal("1000.00")
    saved = _schedule(client, own, NEW, contract_amount="1 200,00")
    assert saved.status_code == 302
    assert _lines(session, own) == NEW_LINES and _amount(session, own) == Decimal("1200.00")


def test_a_contract_viewer_changes_the_schedule_but_not_the_amount(session, login):
    own = _prepaid(session)
    session.commit()
    client = user_with(session, login, {**INSTALMENT_RIGHTS, "contract.contracts": "view"})
    shown = client.get(f"/instalment-schedule/{own.id}")
    assert shown.status_code == 200 and 'name="contract_amount"' not in shown.text
    refused = _schedule(client, own, NEW, contract_amount="1200.00")
    assert refused.status_code == 400
    assert ("Сумму договора меняет только пользователь с правом изменять договоры"
            in flashes(refused, "danger"))
    assert _lines(session, own) == BEFORE and _amount(session, own) == Decimal("1000.00")
    saved = _schedule(client, own, [("2026-01-10", "300"), ("2026-04-10", "700")],
                      contract_amount="1000.00")
    assert saved.status_code == 302
    assert _lines(session, own) == [(D("2026-01-10"), Decimal("300.00")),
                                    (D("2026-04-10"), Decimal("700.00"))]
    assert _amount(session, own) == Decimal("1000.00")


def test_clearing_the_schedule_deletes_every_line(session, login):
    own = _prepaid(session)
    session.commit()
    outsider = user_with(session, login, {**RIGHTS, "contract.instalment_schemes": "no"})
    assert _schedule(outsider, own, [], clear="1").status_code in (302, 403)
    assert _lines(session, own) == BEFORE
    client = user_with(session, login, INSTALMENT_RIGHTS)
    cleared = client.post(f"/instalment-schedule/{own.id}", data={"clear": "1"},
                          follow_redirects=True)
    assert (f"Схема рассрочки договора {own.number} удалена: платежей 2"
            in flashes(cleared, "success"))
    assert _lines(session, own) == [] and _amount(session, own) == Decimal("1000.00")


# --------------------------------------------------------------------------- 7. code templates


def _template(session, pattern) -> ProgrammeCodeTemplate:
    row = ProgrammeCodeTemplate(code=f"T-TPL{n()}", name=f"Шаблон {n()}", pattern=pattern,
                                unit=unit(session, "NET"))
    session.add(row)
    session.flush()
    return row


def _from_template(agreement, template) -> dict:
    return {"contract": agreement.id, "code": "", "code_template": template.id,
            "name": f"Программа {n()}", "period_months": 12, "active": True}


def test_a_template_code_skips_numbers_already_taken(session, admin):
    agreement = contract(session, "MSK-TVR")
    programme(session, contract(session, "MSK-TVR"), code=f"{agreement.number}-1")
    template = _template(session, "{contract}-{n}")
    session.commit()
    codes = []
    for _ in range(2):
        response = admin.post(PROGRAMMES, json=_from_template(agreement, template))
        assert response.status_code == 201, response.get_json()
        codes.append(response.get_json()["result"]["code"])
    assert codes == [f"{agreement.number}-2", f"{agreement.number}-3"]


@pytest.mark.parametrize("pattern", ["{contract.x}", "{n[0]}", "{x}", "{0}", "П-{",
                                     "{n:>999999999}", "{contract!r}", "{contract:>60}"])
def test_a_template_with_anything_but_contract_and_n_is_refused(session, admin, pattern):
    agreement = contract(session, "MSK-TVR")
    template = _template(session, pattern)
    session.commit()
    response = admin.post(PROGRAMMES, json=_from_template(agreement, template))
    assert response.status_code == 400
    assert message(response) == f"Шаблон кода «{pattern}» понимает только {{contract}} и {{n}}"
    assert count(session, Programme, Programme.contract_id == agreement.id) == 0


def test_a_pattern_is_checked_when_the_template_is_saved(session, admin):
    api = "/api/v1/programmecodetemplates/"
    body = {"code": f"T-TPL{n()}", "name": "Шаблон", "unit": unit(session, "NET").id}
    refused = admin.post(api, json={**body, "pattern": "{n:>999999999}"})
    assert refused.status_code == 400
    assert message(refused) == "Шаблон кода «{n:>999999999}» понимает только {contract} и {n}"
    assert count(session, ProgrammeCodeTemplate, ProgrammeCodeTemplate.code == body["code"]) == 0
    accepted = admin.post(api, json={**body, "pattern": "П-{contract}-{n:03}"})
    assert accepted.status_code == 201, accepted.get_json()


def test_a_template_code_too_long_for_the_column_is_refused(session, admin):
    agreement = contract(session, "MSK-TVR", number=f"ТСТ-ДЛИННЫЙ-{n():04d}/".ljust(50, "Ж"))
    template = _template(session, "{contract}-{n}")
    session.commit()
    response = admin.post(PROGRAMMES, json=_from_template(agreement, template))
    assert response.status_code == 400, response.get_json()
    assert message(response) == "Код по шаблону длиннее 50 знаков: укажите код вручную"
    assert count(session, Programme, Programme.contract_id == agreement.id) == 0


# --------------------------------------------------------------------------- 8. closed programmes


@pytest.fixture
def closed(session):
    """An attachment made while its programme was active; the programme is closed since."""
    agreement = contract(session, "MSK-TVR")
    plan, open_plan = programme(session, agreement), programme(session, agreement)
    person = patient(session)
    made = attachment(session, person, plan, D("2026-02-01"), D("2026-06-30"))
    other = attachment(session, person, open_plan, D("2026-02-01"), D("2026-06-30"))
    plan.active = False
    session.commit()
    return {"programme": plan, "patient": person, "attachment": made, "other": other}


def test_an_attachment_to_a_closed_programme_stays_editable(session, admin, closed):
    made = closed["attachment"]
    for body in ({"note": "Закрыто письмом"}, {"valid_to": "2026-05-31"},
                 {"programme": closed["programme"].id, "policy_number": "П-77"}):
        response = admin.put(f"/api/v1/attachments/{made.id}", json=body)
        assert response.status_code == 200, (body, response.get_json())
    page = admin.post(f"/attachmentview/edit/{made.id}", follow_redirects=True, data={
        "patient": str(closed["patient"].id), "programme": str(closed["programme"].id),
        "valid_from": "2026-02-01", "valid_to": "2026-05-31", "policy_number": "П-77",
        "note": "Закрыто письмом, см. карту"})
    assert flashes(page, "danger") == []
    stored = _reloaded(session, Attachment, made.id)
    assert (stored.note, stored.valid_to, stored.policy_number) == (
        "Закрыто письмом, см. карту", D("2026-05-31"), "П-77")


def test_nobody_new_is_attached_to_a_closed_programme(session, admin, closed):
    plan, other = closed["programme"], closed["other"]
    wanted = f"Программа «{plan.name}» не действует"
    created = admin.post("/api/v1/attachments/", json={
        "patient": closed["patient"].id, "programme": plan.id, "valid_from": "2026-07-01"})
    assert created.status_code == 400 and message(created) == wanted
    moved = admin.put(f"/api/v1/attachments/{other.id}", json={"programme": plan.id})
    assert moved.status_code == 400 and message(moved) == wanted
    assert count(session, Attachment, Attachment.programme_id == plan.id) == 1
    assert _reloaded(session, Attachment, other.id).programme_id != plan.id


