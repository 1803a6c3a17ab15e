"""The cash desk over HTTP as the demo cashier: a payment through the emulated
register marks the line paid and posts once; a repeated or retried request is
recognised by its key; driver faults leave money consistent; a partial refund, X,
sections and Z with its reconciliation."""

from __future__ import annotations

from decimal import Decimal

from models.money import Shift
from services.money.fiscal.emulator import EmulatorDriver
from tests.contract_rows import flashes
from tests.money.rows import (
    account_of,
    device_documents,
    open_shift,
    pay_form,
    posted,
    receipts,
    refused,
    register,
    unpaid_line,
    user_with,
)


def _driver(session):
    return EmulatorDriver(register(session).serial, session)


def test_cashier_sees_the_desk_with_the_open_shift(login, session):
    page = login("cashier").get(f"/money/cash/?register={register(session).id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Смена № {open_shift(session).number} открыта" in text
    assert "Z-отчёт (закрыть смену)" in text


def test_payment_marks_the_line_paid_and_posts_once(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    url, form = pay_form(session, line, "k-pay-1")
    before = device_documents(session)
    answer = client.post(url, data=form)
    assert answer.status_code == 302, flashes(client.get(answer.location or "/"))
    session.expire_all()
    assert line.state == "paid"
    [receipt] = receipts(session, "k-pay-1")
    assert receipt.state == "confirmed" and receipt.total == line.amount
    kinds = sorted(t.kind for t in posted(session, "k-pay-1"))
    assert kinds == ["deposit", "payment"]
    assert account_of(session, line.voucher.patient_id).balance == Decimal("0.00")
    assert device_documents(session) == before + 1
    # The same request again (a double click, a reload): recognised, nothing new.
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert len(posted(session, "k-pay-1")) == 2 and device_documents(session) == before + 1


def test_a_second_payment_of_a_paid_line_is_refused(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    url, form = pay_form(session, line, "k-first")
    assert client.post(url, data=form).status_code == 302
    url, form = pay_form(session, line, "k-second")
    assert "уже оплачена" in refused(client.post(url, data=form))
    assert receipts(session, "k-second") == []


def test_timeout_before_printing_leaves_nothing_paid_and_the_retry_pays_once(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    _driver(session).inject("timeout")
    url, form = pay_form(session, line, "k-timeout")
    before = device_documents(session)
    assert "не ответил вовремя" in refused(client.post(url, data=form))
    session.expire_all()
    [receipt] = receipts(session, "k-timeout")
    assert receipt.state == "pending" and posted(session, "k-timeout") == []
    assert line.state == "rendered"  # not confirmed by the register: not paid
    # A payment of the same line under another key waits for this one.
    other_url, other = pay_form(session, line, "k-other")
    assert "уже оплачена" in refused(client.post(other_url, data=other))
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert receipts(session, "k-timeout")[0].state == "confirmed"
    assert len(posted(session, "k-timeout")) == 2 and device_documents(session) == before + 1


def test_timeout_after_printing_is_recognised_by_its_key_not_charged_twice(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    _driver(session).inject("timeout_after_print")
    url, form = pay_form(session, line, "k-printed")
    before = device_documents(session)
    refused(client.post(url, data=form))
    session.expire_all()
    assert device_documents(session) == before + 1  # the device printed
    assert receipts(session, "k-printed")[0].state == "pending"
    assert posted(session, "k-printed") == []
    assert client.post(url, data=form).status_code == 302  # the retry
    session.expire_all()
    assert device_documents(session) == before + 1  # ... and did not print again
    assert line.state == "paid" and len(posted(session, "k-printed")) == 2


def test_paper_out_fails_the_receipt_and_the_same_key_works_after(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    _driver(session).inject("paper_out")
    url, form = pay_form(session, line, "k-paper")
    assert "закончилась бумага" in refused(client.post(url, data=form))
    session.expire_all()
    assert receipts(session, "k-paper")[0].state == "failed"
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert receipts(session, "k-paper")[0].state == "confirmed" and line.state == "paid"


def test_a_shift_past_24_hours_takes_no_payment_until_its_z(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    _driver(session).age_shift(25)
    url, form = pay_form(session, line, "k-old-shift")
    assert "больше 24 часов" in refused(client.post(url, data=form))
    reg = register(session).id
    assert client.post(f"/money/cash/z?register={reg}", data={"key": "k-z-old"}).status_code == 302


def test_partial_refund_x_sections_and_z_reconcile(login, session):
    line = unpaid_line(session)
    client = login("cashier")
    reg = register(session).id
    url, form = pay_form(session, line, "k-pay-r")
    assert client.post(url, data=form).status_code == 302
    half = (line.amount / 2).quantize(Decimal("0.01"))
    answer = client.post(f"/money/cash/refund?register={reg}&patient={line.voucher.patient_id}",
                         data={"key": "k-refund", "line": line.id, "amount": str(half)})
    assert answer.status_code == 302
    session.expire_all()
    assert line.state == "rendered"  # part-paid again
    x = client.post(f"/money/cash/report/x?register={reg}")
    assert x.status_code == 200 and "X-отчёт" in x.get_data(as_text=True)
    assert client.post(f"/money/cash/report/sections?register={reg}").status_code == 200
    shift_id = open_shift(session).id
    assert client.post(f"/money/cash/z?register={reg}", data={"key": "k-z"}).status_code == 302
    session.expire_all()
    shift = session.get(Shift, shift_id)
    assert shift.state == "closed" and shift.refunds >= half
    assert '"differences": []' in shift.reconciliation
    # The shift is closed: a payment now asks to open one.
    url, form = pay_form(session, unpaid_line(session), "k-after-z")
    assert "не открыта" in refused(client.post(url, data=form))


def test_the_voucher_card_offers_pay_to_those_who_reach_the_cash_desk(login, session):
    line = unpaid_line(session)
    voucher = line.voucher.id
    cashier = login("cashier")
    card = cashier.get(f"/voucherview/show/{voucher}").get_data(as_text=True)
    assert "Оплатить" in card
    answer = cashier.post(f"/voucherview/action/pay/{voucher}")
    assert answer.status_code == 302 and f"patient={line.voucher.patient_id}" in answer.location
    other = login(user_with(session, payment__patient_accounts="none"))
    page = other.get(f"/voucherview/show/{voucher}")
    assert page.status_code == 200 and "/action/pay/" not in page.get_data(as_text=True)
    assert other.post(f"/voucherview/action/pay/{voucher}").status_code == 403
