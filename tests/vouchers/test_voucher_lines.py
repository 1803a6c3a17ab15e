"""The rules of a voucher's lines, over HTTP as users holding exactly the voucher
rights each test needs: who pays and at what price (a registrar's voucher for an
attached patient), services without an attachment, typed prices, price types and
discounts, a payer chosen by hand, programme limits of count and cost with each
option for an excess, line states (blocked, cancelled, paid by hand) and their
removal, invoiced vouchers and services of another branch. Refusals name the rule
in Russian and change nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import contract, flashes, message, patient
from tests.voucher_rows import (
    DMS_PRICE,
    LINES,
    PAID_PRICE,
    VOUCHERS,
    ago,
    attached,
    category,
    confirmation,
    covered_line,
    diagnosis,
    employee,
    iso,
    line,
    price_type,
    service,
    snapshot,
    stored,
    text,
    voucher,
    voucher_user,
)

D = Decimal
OTHERS = {"voucher.others_edit_delete": "yes"}
NOT_ATTACHED = "Пациент не прикреплён к программе, покрывающей услугу: услуга платная"
PRICE_REFUSED = ("Цену услуги меняет только пользователь с правом «Разрешить изменение цены "
                 "услуги/товара»")
DEPOSIT_PRICE_REFUSED = ("Цену услуги меняет только пользователь с правом «Разрешить изменение "
                         "цены услуги/товара в депозитном талоне»")
PRICE_TYPE_REFUSED = ("Тип цены меняет только пользователь с правом «Разрешить изменение типа "
                      "цены услуги»")
DISCOUNT_REFUSED = ("Скидку или надбавку даёт только пользователь с правом «Разрешить "
                    "применение скидки/надбавки»")
DISCOUNT_RANGE = "Скидка — меньше 100 процентов, надбавка — меньше 1000 процентов"
PAYER_REFUSED = ("Плательщика выбирает только пользователь с правом «Разрешить проводить услуги "
                 "по выбранному прикреплению / за счет пациента»")
CONTRACT_REFUSED = ("За счёт договора без прикрепления проводит только пользователь с правом "
                    "«Разрешить проводить услуги за счет договора, к которому пациент не "
                    "прикреплен»")
PAID_UNCHANGED = "Оплаченная или выставленная в счёт услуга не меняется: сначала отмените оплату"
PAID_KEPT = "Оплаченная или выставленная в счёт услуга не удаляется: она отменяется"
DELETE_REFUSED = ("Услуги удаляет только пользователь с правом «Разрешить удаление оказанных "
                  "услуг/товаров»")


def needs(right: str) -> str:
    return f"Нужно право «{right}»"


def add(client, owner, item, *, confirm=False, **values):
    """POST a line of `item` (quantity 1 unless told) to the voucher."""
    return client.post(f"{LINES}?confirm=1" if confirm else LINES,
                       json={"voucher": owner.id, "service": item.id, "quantity": 1, **values})


def lines_of(session, owner) -> list[VoucherLine]:
    session.expire_all()
    return list(session.scalars(select(VoucherLine).where(VoucherLine.voucher_id == owner.id)
                                .order_by(VoucherLine.id)))


def payer(row: VoucherLine) -> tuple:
    """Who pays for a line, under which price type and category, at what price."""
    return (row.payer_kind, row.attachment_id, row.price_type.code, row.category.code,
            row.price, row.amount)


# --------------------------------------------------------------------------- 1. registrar


def test_a_registrar_gets_payer_and_price_from_the_attachment(session, login):
    covered, other = service(session), service(session)
    person, link = attached(session, [covered])
    doctor, nurse = employee(session), employee(session, doctor=False)
    session.commit()
    client, _ = voucher_user(session, login, {
        "voucher.other_vouchers": "create", "voucher.others_edit_delete": "yes",
        "voucher.without_attachment": "allow"}, base={})
    made = client.post(VOUCHERS, json={
        "service_date": iso(ago(1)), "kind": "regular", "branch": doctor.branch_id,
        "patient": person.id, "doctor": doctor.id, "nurse": nurse.id,
        "diagnosis": diagnosis(session).id})
    assert made.status_code == 201, made.get_json()
    owner = stored(session, Voucher, made.get_json()["id"])
    assert add(client, owner, covered, quantity=2).status_code == 201
    assert add(client, owner, other).status_code == 201
    assert [payer(row) for row in lines_of(session, owner)] == [
        ("attachment", link.id, "DMS", "DMS-MSK", DMS_PRICE, D("2400.00")),
        ("patient", None, "PAID", "MSK-BASE", PAID_PRICE, PAID_PRICE)]
    assert lines_of(session, owner)[0].contract_id == link.programme.contract_id
    owner = stored(session, Voucher, owner.id)
    assert (owner.total, owner.line_count) == (D("3900.00"), 2)
    card = text(client.get(f"/voucherview/show/{owner.id}"))
    for shown in ("По прикреплению", "1 200,00", "2 400,00", "За счёт пациента", "1 500,00",
                  "3 900,00"):
        assert shown in card, shown


def test_the_voucher_card_names_the_attachment(session, login):
    covered = service(session)
    person, link = attached(session, [covered])
    owner = voucher(session, person)
    covered_line(session, owner, covered, link)
    session.commit()
    client, _ = voucher_user(session, login, {})
    assert "object at 0x" not in text(client.get(f"/voucherview/show/{owner.id}"))


# --------------------------------------------------------------------------- 2. no attachment


@pytest.fixture
def unattached(session):
    """A voucher of a patient attached to a programme covering one service but not another."""
    covered, other = service(session), service(session)
    person, _ = attached(session, [covered])
    made = SimpleNamespace(owner=voucher(session, person), covered=covered, other=other)
    session.commit()
    return made


def test_without_attachment_forbid_refuses_a_paid_service(session, login, unattached):
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.without_attachment": "forbid"})
    before = snapshot(session, unattached.owner.id)
    for confirm in (False, True):
        refused = add(client, unattached.owner, unattached.other, confirm=confirm)
        assert refused.status_code == 400 and message(refused) == NOT_ATTACHED
    assert snapshot(session, unattached.owner.id) == before
    assert add(client, unattached.owner, unattached.covered).status_code == 201


def test_without_attachment_warn_saves_a_paid_service_once_confirmed(session, login,
                                                                     unattached):
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.without_attachment": "warn"})
    before = snapshot(session, unattached.owner.id)
    asked = add(client, unattached.owner, unattached.other)
    assert asked.status_code == 400 and message(asked) == confirmation(NOT_ATTACHED)
    assert snapshot(session, unattached.owner.id) == before
    assert add(client, unattached.owner, unattached.other, confirm=True).status_code == 201
    assert [row.payer_kind for row in lines_of(session, unattached.owner)] == ["patient"]


def test_without_attachment_allow_saves_a_paid_service(session, login, unattached):
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.without_attachment": "allow"})
    assert add(client, unattached.owner, unattached.other).status_code == 201
    assert [payer(row) for row in lines_of(session, unattached.owner)] == [
        ("patient", None, "PAID", "MSK-BASE", PAID_PRICE, PAID_PRICE)]


# --------------------------------------------------------------------------- 10. price


def test_a_typed_price_needs_change_price(session, login):
    item, owner = service(session), voucher(session, patient(session))
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price": "no"})
    refused = add(client, owner, item, price="1000.00")
    assert refused.status_code == 400 and message(refused) == PRICE_REFUSED
    assert snapshot(session, owner.id) == before
    assert add(client, owner, item, price="1500.00").status_code == 201  # the list price
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price": "yes"})
    assert add(allowed, owner, item, price="1000.00", quantity=2).status_code == 201
    assert [(row.price, row.amount) for row in lines_of(session, owner)] == [
        (PAID_PRICE, PAID_PRICE), (D("1000.00"), D("2000.00"))]


def test_a_typed_price_in_a_deposit_voucher_needs_change_price_deposit(session, login):
    item = service(session)
    deposit = contract(session, kind="deposit", payment_scheme="prepaid", amount=D("20000.00"))
    owner = voucher(session, patient(session), kind="deposit", contract=deposit)
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price": "yes",
                                              "voucher.change_price_deposit": "no"})
    refused = add(client, owner, item, price="1000.00")
    assert refused.status_code == 400 and message(refused) == DEPOSIT_PRICE_REFUSED
    assert snapshot(session, owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price": "no",
                                               "voucher.change_price_deposit": "yes"})
    assert add(allowed, owner, item, price="1000.00").status_code == 201
    assert [row.price for row in lines_of(session, owner)] == [D("1000.00")]


def test_a_deposit_voucher_spends_no_more_than_its_contract(session, login):
    item = service(session)
    deposit = contract(session, kind="deposit", payment_scheme="prepaid", amount=D("2000.00"))
    owner = voucher(session, patient(session), kind="deposit", contract=deposit)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.deposit_exceed": "no"})
    first = add(client, owner, item)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["result"]["payer_kind"] == "contract"
    before = snapshot(session, owner.id)
    refused = add(client, owner, item)
    assert refused.status_code == 400
    assert message(refused) == (f"Сумма услуг превысит сумму депозитного договора "
                                f"{deposit.number}: осталось 500,00")
    assert snapshot(session, owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.deposit_exceed": "yes"})
    assert add(allowed, owner, item).status_code == 201
    assert [row.amount for row in lines_of(session, owner)] == [PAID_PRICE, PAID_PRICE]


def test_changing_a_lines_price_type_needs_change_price_type(session, login):
    item, owner = service(session), voucher(session, patient(session))
    target = line(session, owner, item)
    session.commit()
    before = snapshot(session, owner.id)
    dms = price_type(session, "DMS").id
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price_type": "no"})
    refused = client.put(f"{LINES}{target.id}", json={"price_type": dms})
    assert refused.status_code == 403 and message(refused) == PRICE_TYPE_REFUSED
    assert snapshot(session, owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price_type": "yes"})
    changed = allowed.put(f"{LINES}{target.id}", json={"price_type": dms})
    assert changed.status_code == 200, changed.get_json()
    assert payer(stored(session, VoucherLine, target.id)) == (
        "patient", None, "DMS", "DMS-MSK", DMS_PRICE, DMS_PRICE)
    assert stored(session, Voucher, owner.id).total == DMS_PRICE


def test_a_new_lines_price_type_is_checked_and_kept(session, login):
    item, owner = service(session), voucher(session, patient(session))
    session.commit()
    dms = price_type(session, "DMS").id
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price_type": "no"})
    refused = add(client, owner, item, price_type=dms)
    assert refused.status_code == 403 and message(refused) == PRICE_TYPE_REFUSED
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.change_price_type": "yes"})
    assert add(allowed, owner, item, price_type=dms).status_code == 201
    assert [payer(row)[2:] for row in lines_of(session, owner)] == [
        ("DMS", "DMS-MSK", DMS_PRICE, DMS_PRICE)]


def test_a_discount_needs_apply_discount_and_the_amount_follows_it(session, login):
    item = service(session, {"MSK-BASE": "100.05"})
    owner = voucher(session, patient(session))
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.apply_discount": "no"})
    for percent in ("10", "-10"):
        refused = add(client, owner, item, discount=percent)
        assert refused.status_code == 400 and message(refused) == DISCOUNT_REFUSED
    assert snapshot(session, owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.apply_discount": "yes"})
    for percent in ("100", "150"):
        refused = add(allowed, owner, item, discount=percent)
        assert refused.status_code == 400 and message(refused) == DISCOUNT_RANGE
    assert snapshot(session, owner.id) == before
    # price × quantity less the percent, rounded half-up to the kopeck.
    for quantity, percent in ((1, "10"), (3, "12.5"), (1, "-10"), (1, "99.99")):
        assert add(allowed, owner, item, quantity=quantity, discount=percent).status_code == 201
    amounts = [row.amount for row in lines_of(session, owner)]
    assert amounts == [D("90.05"), D("262.63"), D("110.06"), D("0.01")]
    assert stored(session, Voucher, owner.id).total == sum(amounts)


def test_the_line_form_posted_as_offered_takes_the_list_price(session, login):
    item, owner = service(session), voucher(session, patient(session))
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    form = text(client.get("/voucherlineview/add"))
    offered = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', form).group(1)
               for name in ("price", "discount")}
    posted = client.post("/voucherlineview/add", follow_redirects=True, data={
        "voucher": str(owner.id), "service": str(item.id), "quantity": "1", "payer_kind": "",
        "state": "rendered", **offered})
    assert flashes(posted, "danger") == []
    assert [(row.price, row.amount) for row in lines_of(session, owner)] == [
        (PAID_PRICE, PAID_PRICE)]


# --------------------------------------------------------------------------- 11. payer


def test_choosing_the_payer_needs_post_by_attachment(session, login):
    covered = service(session)
    person, link = attached(session, [covered])
    owner = voucher(session, person)
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.post_by_attachment": "no"})
    refused = add(client, owner, covered, payer_kind="patient")
    assert refused.status_code == 403 and message(refused) == PAYER_REFUSED
    assert snapshot(session, owner.id) == before
    # Naming the payer the system would choose is no choice.
    same = add(client, owner, covered, payer_kind="attachment", attachment=link.id)
    assert same.status_code == 201, same.get_json()
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.post_by_attachment": "yes"})
    assert add(allowed, owner, covered, payer_kind="patient").status_code == 201
    assert [payer(row) for row in lines_of(session, owner)] == [
        ("attachment", link.id, "DMS", "DMS-MSK", DMS_PRICE, DMS_PRICE),
        ("patient", None, "PAID", "MSK-BASE", PAID_PRICE, PAID_PRICE)]


def test_a_chosen_attachment_must_be_valid_on_the_voucher_date(session, login):
    covered = service(session)
    person, link = attached(session, [covered])
    owner = voucher(session, person, day=ago(40))  # the attachment starts 30 days ago
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.post_by_attachment": "yes"})
    refused = add(client, owner, covered, payer_kind="attachment", attachment=link.id)
    assert refused.status_code == 400
    assert message(refused) == "Прикрепление не действует на дату талона"
    assert snapshot(session, owner.id) == before
    # Left to the system, the line goes to the patient: no attachment on that date.
    assert add(client, owner, covered).get_json()["result"]["payer_kind"] == "patient"


def test_a_contract_the_patient_is_not_attached_to_needs_post_unattached_contract(session,
                                                                                  login):
    item, owner = service(session), voucher(session, patient(session))
    payer_contract = contract(session, price_category=category(session, "DMS-MSK"))
    session.commit()
    before = snapshot(session, owner.id)
    body = {"payer_kind": "contract", "contract": payer_contract.id}
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.post_by_attachment": "yes",
                                              "voucher.post_unattached_contract": "no"})
    refused = add(client, owner, item, **body)
    assert refused.status_code == 403 and message(refused) == CONTRACT_REFUSED
    assert snapshot(session, owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.post_by_attachment": "yes",
                                               "voucher.post_unattached_contract": "yes"})
    assert add(allowed, owner, item, **body).status_code == 201
    (saved,) = lines_of(session, owner)
    assert payer(saved) == ("contract", None, "DMS", "DMS-MSK", DMS_PRICE, DMS_PRICE)
    assert saved.contract_id == payer_contract.id


# --------------------------------------------------------------------------- 12. limits


@pytest.fixture(params=["count", "cost"])
def excess(request, session):
    """A line that breaks a programme limit: raising a stored line's quantity to 3 where
    the service is limited to 2 (count), or adding a line of 1 200,00 where 800,00 of
    the programme's 2 000,00 are left (cost)."""
    item = service(session)
    limit = {"max_count": 2} if request.param == "count" else {"max_cost": "2000.00"}
    person, link = attached(session, [item], **limit)
    owner = voucher(session, person)
    used = covered_line(session, owner, item, link)
    session.commit()
    plan = link.programme.name
    if request.param == "count":
        end = link.valid_from + relativedelta(months=12) - dt.timedelta(days=1)
        said = (f"Превышен лимит количества услуги по программе «{plan}»: осталось 2 за период "
                f"с {link.valid_from:%d.%m.%Y} по {end:%d.%m.%Y}")

        def send(client, confirm=False):
            return client.put(f"{LINES}{used.id}{'?confirm=1' if confirm else ''}",
                              json={"quantity": 3})
    else:
        said = f"Превышена максимальная стоимость лечения по программе «{plan}»: осталось 800,00"

        def send(client, confirm=False):
            return add(client, owner, item, confirm=confirm)

    quantity = 3 if request.param == "count" else 1
    return SimpleNamespace(
        right=f"voucher.programme_{request.param}_exceeded", text=said, send=send,
        owner=owner, ok=200 if request.param == "count" else 201,
        result=lambda: lines_of(session, owner)[-1],
        on_patient=("patient", None, "PAID", "MSK-BASE", PAID_PRICE, PAID_PRICE * quantity),
        on_programme=("attachment", link.id, "DMS", "DMS-MSK", DMS_PRICE, DMS_PRICE * quantity))


def limit_user(session, login, excess, option, to_patient="no", **rights):
    client, _ = voucher_user(session, login, {
        **OTHERS, excess.right: option, "voucher.forbid_excess_to_patient": to_patient,
        "voucher.post_ignore_limits": "no", **rights})
    return client


def test_an_excess_under_forbid_is_refused(session, login, excess):
    client = limit_user(session, login, excess, "forbid")
    before = snapshot(session, excess.owner.id)
    for confirm in (False, True):
        refused = excess.send(client, confirm)
        assert refused.status_code == 400 and message(refused) == excess.text
    assert snapshot(session, excess.owner.id) == before


def test_charge_patient_moves_the_excess_to_the_patient(session, login, excess):
    client = limit_user(session, login, excess, "charge_patient")
    assert excess.send(client).status_code == excess.ok
    assert payer(excess.result()) == excess.on_patient


def test_warn_charge_patient_moves_the_excess_once_confirmed(session, login, excess):
    client = limit_user(session, login, excess, "warn_charge_patient")
    before = snapshot(session, excess.owner.id)
    asked = excess.send(client)
    assert asked.status_code == 400
    assert message(asked) == confirmation(f"{excess.text}: услуга будет проведена за счёт "
                                          "пациента")
    assert snapshot(session, excess.owner.id) == before
    assert excess.send(client, confirm=True).status_code == excess.ok
    assert payer(excess.result()) == excess.on_patient


def test_warn_keeps_the_excess_on_the_programme_once_confirmed(session, login, excess):
    client = limit_user(session, login, excess, "warn")
    before = snapshot(session, excess.owner.id)
    asked = excess.send(client)
    assert asked.status_code == 400
    assert message(asked) == confirmation(f"{excess.text}: услуга будет проведена по "
                                          "программе сверх лимита")
    assert snapshot(session, excess.owner.id) == before
    assert excess.send(client, confirm=True).status_code == excess.ok
    assert payer(excess.result()) == excess.on_programme


@pytest.mark.parametrize("option", ["charge_patient", "warn_charge_patient"])
def test_forbid_excess_to_patient_refuses_moving_it(session, login, excess, option):
    client = limit_user(session, login, excess, option, to_patient="yes")
    before = snapshot(session, excess.owner.id)
    for confirm in (False, True):
        refused = excess.send(client, confirm)
        assert refused.status_code == 400
        assert message(refused) == f"{excess.text}. Перенос превышения на пациента запрещён"
    assert snapshot(session, excess.owner.id) == before


def test_post_ignore_limits_skips_the_limits(session, login, excess):
    client = limit_user(session, login, excess, "forbid", **{"voucher.post_ignore_limits": "yes"})
    assert excess.send(client).status_code == excess.ok
    assert payer(excess.result()) == excess.on_programme


def test_the_count_limit_applies_to_a_new_line(session, login):
    item = service(session)
    person, link = attached(session, [item], max_count=1)
    owner = voucher(session, person)
    covered_line(session, owner, item, link)
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {
        **OTHERS, "voucher.programme_count_exceeded": "forbid"})
    refused = add(client, owner, item)
    assert refused.status_code == 400
    assert message(refused).startswith("Превышен лимит количества услуги по программе")
    assert snapshot(session, owner.id) == before


def test_a_line_moved_to_the_patient_by_a_limit_stays_editable(session, login):
    item = service(session)
    person, link = attached(session, [item], max_count=2)
    owner = voucher(session, person)
    covered_line(session, owner, item, link)
    moved = covered_line(session, owner, item, link)
    session.commit()
    client, _ = voucher_user(session, login, {
        **OTHERS, "voucher.programme_count_exceeded": "charge_patient",
        "voucher.forbid_excess_to_patient": "no", "voucher.block_services": "yes"})
    assert client.put(f"{LINES}{moved.id}", json={"quantity": 2}).status_code == 200
    assert stored(session, VoucherLine, moved.id).payer_kind == "patient"
    blocked = client.put(f"{LINES}{moved.id}", json={"state": "blocked"})
    assert blocked.status_code == 200, blocked.get_json()


def test_a_voucher_date_change_reaches_its_lines(session, login):
    owner = voucher(session, patient(session), day=ago(5))
    target = line(session, owner, service(session))
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    moved = client.put(f"{VOUCHERS}{owner.id}", json={"service_date": iso(ago(2))})
    assert moved.status_code == 200, moved.get_json()
    assert stored(session, VoucherLine, target.id).service_date == ago(2)


# --------------------------------------------------------------------------- 13. line states


@pytest.fixture
def served(session):
    """A voucher with two lines of 1 500,00 paid by the patient."""
    owner = voucher(session, patient(session))
    item = service(session)
    first, second = line(session, owner, item), line(session, owner, item)
    session.commit()
    return SimpleNamespace(owner=owner, first=first, second=second)


def put_state(client, row, state):
    return client.put(f"{LINES}{row.id}", json={"state": state})


def test_blocking_needs_block_services(session, login, served):
    before = snapshot(session, served.owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.block_services": "no"})
    refused = put_state(client, served.first, "blocked")
    assert refused.status_code == 400
    assert message(refused) == needs("Разрешить блокирование оказанных услуг/товаров")
    assert snapshot(session, served.owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.block_services": "yes"})
    assert put_state(allowed, served.first, "blocked").status_code == 200
    assert stored(session, VoucherLine, served.first.id).state == "blocked"
    assert put_state(allowed, served.first, "rendered").status_code == 200
    assert stored(session, VoucherLine, served.first.id).state == "rendered"


def test_cancelling_needs_cancel_services_and_leaves_the_total(session, login, served):
    before = snapshot(session, served.owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.cancel_services": "no"})
    refused = put_state(client, served.first, "cancelled")
    assert refused.status_code == 400
    assert message(refused) == needs("Разрешить отмену оказанных услуг/товаров")
    assert snapshot(session, served.owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.cancel_services": "yes"})
    assert put_state(allowed, served.first, "cancelled").status_code == 200
    owner = stored(session, Voucher, served.owner.id)
    assert (owner.total, owner.line_count) == (PAID_PRICE, 2)
    assert put_state(allowed, served.first, "rendered").status_code == 200
    assert stored(session, Voucher, served.owner.id).total == 2 * PAID_PRICE


def test_manual_payment_and_its_cancellation_need_their_rights(session, login, served):
    before = snapshot(session, served.owner.id)
    unpaid, _ = voucher_user(session, login, {**OTHERS, "voucher.manual_payment": "no"})
    refused = put_state(unpaid, served.first, "paid")
    assert refused.status_code == 400
    assert message(refused) == needs("Разрешить ”ручную” оплату товаров и услуг")
    assert snapshot(session, served.owner.id) == before

    cashier, _ = voucher_user(session, login, {**OTHERS, "voucher.manual_payment": "yes",
                                               "voucher.manual_payment_cancel": "no",
                                               "voucher.delete_services": "yes"})
    assert put_state(cashier, served.first, "paid").status_code == 200
    assert stored(session, VoucherLine, served.first.id).state == "paid"
    paid = snapshot(session, served.owner.id)
    refusals = [
        (cashier.put(f"{LINES}{served.first.id}", json={"quantity": 2}), PAID_UNCHANGED),
        (cashier.delete(f"{LINES}{served.first.id}"), PAID_KEPT),
        (cashier.delete(f"{VOUCHERS}{served.owner.id}"),
         "В талоне есть оплаченные или выставленные в счёт услуги (1): такой талон не "
         "удаляется, услуги отменяются"),
        (put_state(cashier, served.first, "rendered"),
         needs("Разрешить ”ручную” отмену оплаты товаров и услуг"))]
    for response, said in refusals:
        assert response.status_code == 400 and message(response) == said
    assert snapshot(session, served.owner.id) == paid

    undo, _ = voucher_user(session, login, {**OTHERS, "voucher.manual_payment_cancel": "yes",
                                            "voucher.delete_services": "yes"})
    assert put_state(undo, served.first, "rendered").status_code == 200
    assert undo.delete(f"{VOUCHERS}{served.owner.id}").status_code == 200
    assert stored(session, Voucher, served.owner.id) is None


def test_deleting_services_needs_delete_services(session, login, served):
    second = served.second.id
    before = snapshot(session, served.owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.delete_services": "no"})
    for response, said in (
            (client.delete(f"{LINES}{served.first.id}"), DELETE_REFUSED),
            (client.delete(f"{VOUCHERS}{served.owner.id}"),
             "Талон с услугами удаляет только пользователь с правом «Разрешить удаление "
             "оказанных услуг/товаров»")):
        assert response.status_code == 403 and message(response) == said
    assert snapshot(session, served.owner.id) == before
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.delete_services": "yes"})
    assert allowed.delete(f"{LINES}{served.first.id}").status_code == 200
    owner = stored(session, Voucher, served.owner.id)
    assert (owner.total, owner.line_count) == (PAID_PRICE, 1)
    assert allowed.delete(f"{VOUCHERS}{served.owner.id}").status_code == 200
    assert stored(session, VoucherLine, second) is None


# --------------------------------------------------------------------------- 14. new lines


def test_forbid_add_to_invoiced_refuses_a_line_in_an_invoiced_voucher(session, login):
    item = service(session)
    invoiced, plain = voucher(session, patient(session)), voucher(session, patient(session))
    line(session, invoiced, item, state="invoiced")
    session.commit()
    before = snapshot(session, invoiced.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.forbid_add_to_invoiced": "yes"})
    refused = add(client, invoiced, item)
    assert refused.status_code == 400
    assert message(refused) == ("По услугам талона уже выставлен счёт: новые услуги в него не "
                                "добавляются")
    assert snapshot(session, invoiced.id) == before
    assert add(client, plain, item).status_code == 201
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.forbid_add_to_invoiced": "no"})
    assert add(allowed, invoiced, item).status_code == 201
    assert stored(session, Voucher, invoiced.id).line_count == 2


def test_control_branches_refuses_a_service_of_another_branch(session, login):
    here = service(session, department="MSK-TVR-THR")
    there = service(session, department="SPB-NEV-THR")
    owner = voucher(session, patient(session))
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.control_branches": "yes"})
    refused = add(client, owner, there)
    assert refused.status_code == 400
    assert message(refused) == ("Услуга оказывается в другом филиале: в талон добавляются только "
                                "услуги филиала талона")
    assert snapshot(session, owner.id) == before
    assert add(client, owner, here).status_code == 201
    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.control_branches": "no"})
    assert add(allowed, owner, there).status_code == 201
    assert [row.service_id for row in lines_of(session, owner)] == [here.id, there.id]
