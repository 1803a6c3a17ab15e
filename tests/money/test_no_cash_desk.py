"""«Не работать через кассу» over HTTP, one rule for every money operation
(`services.money.desk.without_register`): on a marked account a deposit, a payment
of voucher lines, an invoice taken at the desk and a refund post on the account
without a receipt (the register prints nothing, no shift is needed); giving back
money that came in through a receipt (a refund of a line paid at the register, the
reversal of such a payment) needs a refund receipt and is refused with the reason,
and goes through once the mark is off."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from models.invoices import Invoice
from models.money import Account, Shift, Transaction
from tests.contract_rows import flashes
from tests.money.rows import (
    account_of,
    device_documents,
    pay_form,
    posted,
    receipts,
    refused,
    register,
    unpaid_line,
    user_with,
)
from tests.support import unit

REFUSAL = "Не работать через кассу"
NO_RECEIPT = "Без чека"


def _account(session, patient_id: int) -> Account:
    """Return the patient's account in «Тверской» (opened when he has none)."""
    from models.user import AppUser
    from security.effective import resolve
    from services.money.accounts import patient_account

    admin = resolve(session, session.scalar(select(AppUser).filter_by(username="admin")))
    account = patient_account(session, admin, patient_id, unit(session, "MSK-TVR").id)
    session.commit()
    return account


def _mark(session, account: Account, value: bool = True) -> None:
    session.execute(update(Account).where(Account.id == account.id)
                    .values(no_cash_desk=value))
    session.commit()


def _without_receipts(session, key: str) -> list[Transaction]:
    txs = posted(session, key)
    assert receipts(session, key) == [] and txs
    assert {t.receipt_id for t in txs} == {None} and {t.shift_id for t in txs} == {None}
    return txs


def test_voucher_lines_of_a_marked_account_are_paid_without_a_receipt(login, session):
    line = unpaid_line(session)
    account = _account(session, line.voucher.patient_id)
    _mark(session, account)
    before = device_documents(session)
    client = login("cashier")
    url, form = pay_form(session, line, "k-nc-pay")
    answer = client.post(url, data=form)
    assert answer.status_code == 302
    assert any(NO_RECEIPT in m for m in flashes(client.get(answer.location)))
    session.expire_all()
    assert line.state == "paid" and device_documents(session) == before
    txs = _without_receipts(session, "k-nc-pay")
    assert sorted(t.kind for t in txs) == ["deposit", "payment"]
    assert account_of(session, line.voucher.patient_id).balance == Decimal("0.00")
    # The same key again is recognised: nothing is posted twice.
    assert client.post(url, data=form).status_code == 302
    assert len(posted(session, "k-nc-pay")) == 2


def test_a_marked_account_pays_even_when_the_shift_is_closed(login, session):
    """No register is used, so no open shift is needed; an unmarked account is
    refused then (the register's shift is the cash desk's)."""
    line = unpaid_line(session)
    account = _account(session, line.voucher.patient_id)
    session.execute(update(Shift).where(Shift.register_id == register(session).id)
                    .values(state="closed"))
    session.commit()
    client = login("cashier")
    url, form = pay_form(session, line, "k-nc-closed")
    assert "не открыта" in refused(client.post(url, data=form))
    _mark(session, account)
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert line.state == "paid" and len(_without_receipts(session, "k-nc-closed")) == 2


def test_a_deposit_onto_a_marked_account_prints_nothing(login, session):
    account = _account(session, unpaid_line(session).voucher.patient_id)
    _mark(session, account)
    before, balance = device_documents(session), account.balance
    answer = login("accountant").post(
        f"/money/patients/deposit/{account.id}",
        data={"register": register(session).id, "amount": "700", "key": "k-nc-dep"})
    assert answer.status_code == 302
    session.expire_all()
    [tx] = _without_receipts(session, "k-nc-dep")
    assert tx.kind == "deposit" and account.balance == balance + 700
    assert device_documents(session) == before


def test_an_invoice_of_a_marked_account_is_paid_at_the_desk_without_a_receipt(login, session):
    invoice = session.scalar(select(Invoice).where(
        Invoice.kind == "patient", Invoice.state == "confirmed", Invoice.total > 1,
        Invoice.branch_id == unit(session, "MSK-TVR").id).order_by(Invoice.id))
    account = _account(session, invoice.patient_id)
    _mark(session, account)
    before = device_documents(session)
    url = f"/money/cash/invoice?register={register(session).id}&patient={invoice.patient_id}"
    client = login("cashier")
    answer = client.post(url, data={"invoice": invoice.id, "key": "k-nc-inv", "how": "card"})
    assert answer.status_code == 302
    session.expire_all()
    assert invoice.state == "paid" and invoice.paid_amount == invoice.total
    assert {t.kind for t in _without_receipts(session, "k-nc-inv")} == {"deposit", "payment"}
    assert device_documents(session) == before and account.balance == Decimal("0.00")
    # Paid in full: the same key is recognised, a new one refused.
    assert client.post(url, data={"invoice": invoice.id, "key": "k-nc-inv"}).status_code == 302
    assert "не оплачивается" in refused(client.post(url, data={"invoice": invoice.id,
                                                               "key": "k-nc-inv2"}))


def test_a_refund_from_a_marked_accounts_balance_prints_nothing(login, session):
    account = _account(session, unpaid_line(session).voucher.patient_id)
    _mark(session, account)
    client = login(user_with(session, payment__deposit="yes", payment__refund="yes"))
    reg = register(session).id
    assert client.post(f"/money/patients/deposit/{account.id}",
                       data={"register": reg, "amount": "500", "key": "k-nc-d2"}
                       ).status_code == 302
    before = device_documents(session)
    answer = client.post(f"/money/patients/refund/{account.id}",
                         data={"register": reg, "amount": "200", "key": "k-nc-ref"})
    assert answer.status_code == 302
    session.expire_all()
    [tx] = _without_receipts(session, "k-nc-ref")
    assert tx.kind == "refund" and account.balance == Decimal("300.00")
    assert device_documents(session) == before


def _refund(client, session, line, key, amount):
    url = f"/money/cash/refund?register={register(session).id}&patient={line.voucher.patient_id}"
    return client.post(url, data={"key": key, "line": line.id, "amount": str(amount)})


def test_a_line_paid_at_the_register_is_not_refunded_while_the_account_is_marked(
        login, session):
    line = unpaid_line(session)
    client = login("cashier")
    url, form = pay_form(session, line, "k-nc-rp")
    assert client.post(url, data=form).status_code == 302
    account = account_of(session, line.voucher.patient_id)
    _mark(session, account)
    before = device_documents(session)
    assert REFUSAL in refused(_refund(client, session, line, "k-nc-r1", line.amount))
    session.expire_all()
    assert line.state == "paid" and posted(session, "k-nc-r1") == []
    assert receipts(session, "k-nc-r1") == [] and device_documents(session) == before
    # The mark off: the refund receipt is printed.
    _mark(session, account, False)
    assert _refund(client, session, line, "k-nc-r1", line.amount).status_code == 302
    session.expire_all()
    assert line.state == "rendered" and receipts(session, "k-nc-r1")[0].state == "confirmed"
    assert device_documents(session) == before + 1


def test_a_line_paid_without_the_register_is_refunded_without_it(login, session):
    line = unpaid_line(session)
    account = _account(session, line.voucher.patient_id)
    _mark(session, account)
    client = login("cashier")
    url, form = pay_form(session, line, "k-nc-pp")
    assert client.post(url, data=form).status_code == 302
    before = device_documents(session)
    assert _refund(client, session, line, "k-nc-r2", line.amount).status_code == 302
    session.expire_all()
    [tx] = _without_receipts(session, "k-nc-r2")
    assert tx.kind == "refund" and line.state == "rendered"
    assert device_documents(session) == before


def test_a_payment_at_the_register_is_not_reversed_while_the_account_is_marked(
        login, session):
    line = unpaid_line(session)
    url, form = pay_form(session, line, "k-nc-rv")
    assert login("cashier").post(url, data=form).status_code == 302
    tx = session.scalar(select(Transaction).where(
        Transaction.idem_key.like("k-nc-rv:line:%")))
    account = session.get(Account, tx.account_id)
    _mark(session, account)
    client = login(user_with(session, payment__patient_accounts__edit_transactions="yes",
                             payment__delete_fiscal_transactions="yes"))
    reverse = f"/money/patients/reverse/{account.id}/{tx.id}"
    before = device_documents(session)
    assert REFUSAL in refused(client.post(reverse, data={"key": "k-nc-rv1"}))
    session.expire_all()
    assert not tx.reversed and line.state == "paid" and device_documents(session) == before
    _mark(session, account, False)
    assert client.post(reverse, data={"key": "k-nc-rv1"}).status_code == 302
    session.expire_all()
    assert tx.reversed and receipts(session, "k-nc-rv1")[0].state == "confirmed"


def test_a_payment_from_the_balance_prints_nothing_and_is_recognised_by_its_key(
        login, session):
    """The same rule's other case: paid from the balance, on any account."""
    line = unpaid_line(session)
    account = _account(session, line.voucher.patient_id)
    client = login("cashier")
    assert client.post(f"/money/patients/deposit/{account.id}", data={
        "register": register(session).id, "amount": str(line.amount), "key": "k-nc-bd",
    }).status_code == 302
    before = device_documents(session)
    url, form = pay_form(session, line, "k-nc-bal", from_balance="y")
    assert client.post(url, data=form).status_code == 302
    assert client.post(url, data=form).status_code == 302  # the same key: recognised
    session.expire_all()
    [tx] = _without_receipts(session, "k-nc-bal")
    assert tx.kind == "payment" and line.state == "paid"
    assert account.balance == Decimal("0.00") and device_documents(session) == before
