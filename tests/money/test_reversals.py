"""Reversing a transaction that went through the register, over HTTP: the money
goes back with a refund receipt printed through the driver under the operation's
key; the reversal counts only once the register confirmed it; the rights
«Удаление транзакций, прошедших через кассовый аппарат» and «… при закрытой смене»
allow and refuse it; the Z report still reconciles."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models.money import Account, Shift, Transaction
from services.money.fiscal.emulator import EmulatorDriver
from tests.money.rows import (
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

DENIED = "Нет права"
REVERSER = {"payment__patient_accounts__edit_transactions": "yes",
            "payment__delete_fiscal_transactions": "yes"}


def _paid_line(login, session, key):
    """Pay an unpaid line at the desk as the demo cashier; return its payment."""
    line = unpaid_line(session)
    url, form = pay_form(session, line, key)
    assert login("cashier").post(url, data=form).status_code == 302
    return session.scalar(select(Transaction).where(Transaction.idem_key.like(f"{key}:line:%")))


def _reverse(client, tx, key):
    return client.post(f"/money/patients/reverse/{tx.account_id}/{tx.id}", data={"key": key})


def test_reversal_of_a_paid_line_prints_a_refund_receipt_once(login, session):
    tx = _paid_line(login, session, "k-rv-pay")
    account = session.get(Account, tx.account_id)
    balance, before = account.balance, device_documents(session)
    denied = login(user_with(session, payment__patient_accounts__edit_transactions="yes"))
    assert DENIED in refused(_reverse(denied, tx, "k-rv-1"))
    assert device_documents(session) == before and receipts(session, "k-rv-1") == []
    client = login(user_with(session, **REVERSER))
    assert _reverse(client, tx, "k-rv-1").status_code == 302
    session.expire_all()
    [receipt] = receipts(session, "k-rv-1")
    assert (receipt.kind, receipt.state, receipt.total) == ("refund", "confirmed", tx.amount)
    assert receipt.fiscal_number and device_documents(session) == before + 1
    assert tx.reversed and tx.voucher_line.state == "rendered"
    # The paid amount came back onto the balance and went out as cash: the balance stays.
    assert {t.kind for t in posted(session, "k-rv-1")} == {"reversal", "refund"}
    assert session.get(Account, tx.account_id).balance == balance
    # The same request again: recognised by its key, nothing printed or posted twice.
    assert _reverse(client, tx, "k-rv-1").status_code == 302
    session.expire_all()
    assert device_documents(session) == before + 1 and len(posted(session, "k-rv-1")) == 2
    # A second reversal under another key is refused.
    assert "уже сторнирована" in refused(_reverse(client, tx, "k-rv-2"))


def test_reversal_counts_only_when_the_register_confirmed(login, session):
    tx = _paid_line(login, session, "k-rv-paper")
    client = login(user_with(session, **REVERSER))
    EmulatorDriver(register(session).serial, session).inject("paper_out")
    assert "закончилась бумага" in refused(_reverse(client, tx, "k-rv-p"))
    session.expire_all()
    assert receipts(session, "k-rv-p")[0].state == "failed"
    assert not tx.reversed and posted(session, "k-rv-p") == []
    assert tx.voucher_line.state == "paid"
    EmulatorDriver(register(session).serial, session).inject("timeout")
    refused(_reverse(client, tx, "k-rv-p"))
    session.expire_all()
    assert not tx.reversed and posted(session, "k-rv-p") == []
    assert _reverse(client, tx, "k-rv-p").status_code == 302  # the retry, same key
    session.expire_all()
    assert tx.reversed and receipts(session, "k-rv-p")[0].state == "confirmed"


def test_reversal_in_a_closed_shift_needs_its_right(login, session):
    shift = session.scalar(select(Shift).where(Shift.state == "closed",
                                               Shift.register_id == register(session).id))
    tx = session.scalar(select(Transaction).where(
        Transaction.shift_id == shift.id, Transaction.kind == "payment",
        Transaction.reversed.is_(False)).order_by(Transaction.id.desc()))
    before = device_documents(session)
    assert DENIED in refused(_reverse(login(user_with(session, **REVERSER)), tx, "k-rv-c1"))
    assert device_documents(session) == before
    client = login(user_with(session, payment__delete_closed_shift="yes", **REVERSER))
    assert _reverse(client, tx, "k-rv-c2").status_code == 302
    session.expire_all()
    # The refund goes through today's open shift.
    [receipt] = receipts(session, "k-rv-c2")
    assert receipt.shift_id == open_shift(session).id and tx.reversed


def test_reversal_of_a_deposit_and_the_z_report_reconcile(login, session):
    cashier = login("cashier")
    tx = _paid_line(login, session, "k-rv-z")
    reg = register(session).id
    deposit = Decimal("300.00")
    answer = cashier.post(f"/money/patients/deposit/{tx.account_id}",
                          data={"key": "k-rv-dep", "register": reg, "amount": "300"})
    assert answer.status_code == 302
    dep = posted(session, "k-rv-dep")[0]
    client = login(user_with(session, **REVERSER))
    assert _reverse(client, dep, "k-rv-d").status_code == 302
    assert _reverse(client, tx, "k-rv-l").status_code == 302
    session.expire_all()
    assert dep.reversed and receipts(session, "k-rv-d")[0].total == deposit
    shift_id = open_shift(session).id
    assert cashier.post(f"/money/cash/z?register={reg}", data={"key": "k-rv-zz"}).status_code \
        == 302
    session.expire_all()
    assert '"differences": []' in session.get(Shift, shift_id).reconciliation
