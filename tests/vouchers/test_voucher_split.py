"""«Разделить оплату»: part of a line paid under an attachment moves to the patient at
his price, under «Разрешить разбивать оплаты»; refusals change nothing. Over HTTP as
users holding exactly the rights each test needs."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import flashes, patient
from tests.voucher_rows import (
    DMS_PRICE,
    PAID_PRICE,
    attached,
    covered_line,
    line,
    service,
    snapshot,
    text,
    voucher,
    voucher_user,
)

#: «изменение» is the level a split needs (the tests' base role holds «удаление»).
SPLIT = {"voucher.split_payments": "yes", "voucher.others_edit_delete": "yes",
         "voucher.other_vouchers": "edit"}


def split(client, row, quantity):
    return client.post(f"/voucherlineview/split/{row.id}", data={"quantity": quantity})


def rows_of(session, owner):
    session.expire_all()
    return [(r.quantity, r.payer_kind, r.price, r.amount) for r in session.scalars(
        select(VoucherLine).where(VoucherLine.voucher_id == owner.id).order_by(VoucherLine.id))]


def _covered(session, quantity=3):
    item = service(session)
    person, link = attached(session, covered=[item])
    owner = voucher(session, person)
    row = covered_line(session, owner, item, link, quantity=quantity)
    session.commit()
    return owner, row


def test_the_patient_pays_for_the_part_split_off(session, login):
    owner, row = _covered(session)
    client, _ = voucher_user(session, login, SPLIT)
    asked = client.post(f"/voucherlineview/action/split_payment/{row.id}")
    assert asked.status_code == 200 and 'name="quantity"' in text(asked)
    done = split(client, row, 1)
    assert done.status_code == 302
    assert rows_of(session, owner) == [(2, "attachment", DMS_PRICE, 2 * DMS_PRICE),
                                       (1, "patient", PAID_PRICE, PAID_PRICE)]
    stored = session.get(Voucher, owner.id)
    assert (stored.total, stored.line_count) == (2 * DMS_PRICE + PAID_PRICE, 2)
    page = client.get(done.headers["Location"])
    assert "Оплата разделена: 1 ед. за счёт пациента на сумму 1 500,00" in flashes(page)


def test_splitting_needs_split_payments(session, login):
    owner, row = _covered(session)
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**SPLIT, "voucher.split_payments": "no"})
    refused = split(client, row, 1)
    assert refused.status_code == 400
    assert ("Оплату разделяет только пользователь с правом «Разрешить разбивать оплаты»"
            in flashes(refused, "danger"))
    assert snapshot(session, owner.id) == before


def test_each_side_keeps_at_least_one_unit(session, login):
    owner, row = _covered(session)
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, SPLIT)
    for quantity in (3, 0, -1):
        refused = split(client, row, quantity)
        assert refused.status_code == 400
        assert ("За счёт пациента переносится от 1 до 2 ед.: остальное остаётся за "
                "плательщиком услуги") in flashes(refused, "danger")
    typo = split(client, row, "два")
    assert typo.status_code == 400
    assert "Укажите количество целым числом" in flashes(typo, "danger")
    assert snapshot(session, owner.id) == before


def test_only_a_rendered_line_of_another_payer_is_split(session, login):
    item = service(session)
    owner = voucher(session, patient(session))
    own_payment = line(session, owner, item, quantity=2)
    _o, paid = _covered(session)
    paid.state = "paid"
    session.commit()
    client, _ = voucher_user(session, login, SPLIT)
    refused = split(client, own_payment, 1)
    assert "Услуга уже оплачивается пациентом: делить нечего" in flashes(refused, "danger")
    refused = split(client, paid, 1)
    assert ("Разделяется оплата только оказанной услуги, ещё не оплаченной и не выставленной "
            "в счёт") in flashes(refused, "danger")
    assert rows_of(session, owner) == [(2, "patient", PAID_PRICE, Decimal(2) * PAID_PRICE)]


def test_a_line_outside_the_scope_is_not_found(session, login):
    item = service(session)
    person, link = attached(session, covered=[item], home="SPB-NEV")
    owner = voucher(session, person, branch="SPB-NEV")
    row = covered_line(session, owner, item, link, quantity=3)
    session.commit()
    client, _ = voucher_user(session, login, SPLIT)
    assert split(client, row, 1).status_code == 404
    assert rows_of(session, owner)[0][0] == 3


def test_a_deposit_voucher_is_not_split(session, login):
    from tests.contract_rows import contract

    deposit = contract(session, kind="deposit", payment_scheme="prepaid",
                       amount=Decimal("9000.00"))
    owner = voucher(session, patient(session), kind="deposit", contract=deposit)
    row = line(session, owner, service(session), quantity=2, payer_kind="contract",
               contract=deposit)
    session.commit()
    client, _ = voucher_user(session, login, SPLIT)
    refused = split(client, row, 1)
    assert refused.status_code == 400
    assert ("В депозитном талоне все услуги оплачиваются из депозита: оплата не разделяется"
            in flashes(refused, "danger"))
    assert rows_of(session, owner) == [(2, "contract", PAID_PRICE, 2 * PAID_PRICE)]


def test_the_single_row_split_is_not_a_bulk_action(session, login):
    _owner, row = _covered(session)
    client, _ = voucher_user(session, login, SPLIT)
    assert client.post("/voucherlineview/action_post",
                       data={"action": "split_payment", "rowid": [row.id]}).status_code == 404
