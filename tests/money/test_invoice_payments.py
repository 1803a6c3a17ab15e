"""Invoices paid from a personal account (issue 15 on top of the invoices branch):
the invoice's paid amount and state move, its lines turn paid, a second payment
beyond the total is refused, a reversal gives the amount back, and confirmed
invoices are links of the money chain."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from models.invoices import Invoice
from models.money import ChainLink
from services.money.accounts import patient_account
from tests.money.rows import posted, refused, register


def _invoice_and_account(session):
    from models.user import AppUser
    from security.effective import resolve

    invoice = session.scalar(select(Invoice).where(
        Invoice.kind == "patient", Invoice.state == "confirmed", Invoice.total > 0)
        .order_by(Invoice.id))
    admin = resolve(session, session.scalar(select(AppUser).filter_by(username="admin")))
    account = patient_account(session, admin, invoice.patient_id, invoice.branch_id)
    session.commit()
    return invoice, account


def _deposit(client, session, account, amount, key):
    return client.post(f"/money/patients/deposit/{account.id}",
                       data={"register": register(session).id, "amount": str(amount),
                             "key": key})


def test_an_invoice_paid_from_the_account(login, session):
    invoice, account = _invoice_and_account(session)
    client = login("accountant")
    assert _deposit(client, session, account, invoice.total, "k-inv-dep").status_code == 302
    url = f"/money/patients/invoice/{account.id}"
    half = (invoice.total / 2).quantize(Decimal("0.01"))
    assert client.post(url, data={"invoice": invoice.id, "amount": str(half),
                                  "key": "k-inv-1"}).status_code == 302
    session.expire_all()
    assert invoice.state == "partly_paid" and invoice.paid_amount == half
    assert client.post(url, data={"invoice": invoice.id, "key": "k-inv-2"}).status_code == 302
    session.expire_all()
    assert invoice.state == "paid" and invoice.paid_amount == invoice.total
    assert {line.voucher_line.state for line in invoice.lines} == {"paid"}
    assert account.balance == Decimal("0.00")
    # Paid in full: nothing more is taken.
    answer = client.post(url, data={"invoice": invoice.id, "amount": "1", "key": "k-inv-3"})
    assert "не оплачивается" in refused(answer)
    # The last payment reversed: the invoice owes it again.
    [tx] = posted(session, "k-inv-2")
    assert client.post(f"/money/patients/reverse/{account.id}/{tx.id}",
                       data={"key": "k-inv-rev"}).status_code == 302
    session.expire_all()
    assert invoice.state == "partly_paid" and invoice.paid_amount == half


def test_paying_an_invoice_needs_edit_on_the_account(login, session):
    invoice, account = _invoice_and_account(session)
    cashier = login("cashier")
    assert _deposit(cashier, session, account, invoice.total, "k-inv-d2").status_code == 302
    answer = cashier.post(f"/money/patients/invoice/{account.id}",
                          data={"invoice": invoice.id, "key": "k-inv-x"})
    assert answer.status_code == 302  # the cashier holds «создание»
    viewer = login("registrar")  # «просмотр» of patients' accounts
    answer = viewer.post(f"/money/patients/invoice/{account.id}",
                         data={"invoice": invoice.id, "key": "k-inv-y"})
    assert answer.status_code == 403 or "Нет права" in refused(answer)


def test_confirmed_invoices_are_chained(login, session, app):
    invoice = session.scalar(select(Invoice).where(Invoice.number_seq.is_not(None))
                             .order_by(Invoice.id))
    assert session.scalar(select(ChainLink).where(ChainLink.doc_type == "invoice",
                                                  ChainLink.doc_id == invoice.id))
    session.execute(update(Invoice).where(Invoice.id == invoice.id)
                    .values(total=invoice.total + 1))
    session.commit()
    result = app.test_cli_runner().invoke(args=["uchet", "verify-money"])
    assert result.exit_code == 1 and f"invoice {invoice.id}" in result.output
