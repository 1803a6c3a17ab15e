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


def _tver_invoice(session):
    from tests.support import unit

    return session.scalar(select(Invoice).where(
        Invoice.kind == "patient", Invoice.state == "confirmed", Invoice.total > 1,
        Invoice.branch_id == unit(session, "MSK-TVR").id).order_by(Invoice.id))


def _desk_pay(client, session, invoice, key, **form):
    url = f"/money/cash/invoice?register={register(session).id}&patient={invoice.patient_id}"
    return client.post(url, data={"invoice": invoice.id, "key": key, **form})


def test_an_invoice_paid_at_the_cash_desk_in_cash_then_by_card(login, session):
    from tests.money.rows import device_documents, receipts

    invoice = _tver_invoice(session)
    client = login("cashier")
    page = client.get(f"/money/cash/?register={register(session).id}"
                      f"&patient={invoice.patient_id}").get_data(as_text=True)
    assert 'id="invoice-form"' in page and "Не оплачен" in page
    half = (invoice.total / 2).quantize(Decimal("0.01"))
    before = device_documents(session)
    assert _desk_pay(client, session, invoice, "k-desk-1", amount=str(half)).status_code == 302
    session.expire_all()
    assert invoice.state == "partly_paid" and invoice.paid_amount == half
    [receipt] = receipts(session, "k-desk-1")
    assert (receipt.kind, receipt.state, receipt.total) == ("sale", "confirmed", half)
    assert {t.kind for t in posted(session, "k-desk-1")} == {"deposit", "payment"}
    assert device_documents(session) == before + 1
    # The same request again is recognised by its key.
    assert _desk_pay(client, session, invoice, "k-desk-1", amount=str(half)).status_code == 302
    assert device_documents(session) == before + 1 and len(posted(session, "k-desk-1")) == 2
    page = client.get(f"/money/cash/?register={register(session).id}"
                      f"&patient={invoice.patient_id}").get_data(as_text=True)
    assert "Оплачен частично" in page
    # More than is left is refused; the rest by card pays it in full.
    answer = _desk_pay(client, session, invoice, "k-desk-2", amount=str(invoice.total))
    assert "осталось" in refused(answer)
    assert _desk_pay(client, session, invoice, "k-desk-3", how="card").status_code == 302
    session.expire_all()
    assert invoice.state == "paid" and invoice.paid_amount == invoice.total
    assert '"cashless": true' in receipts(session, "k-desk-3")[0].intent
    account = patient_account_of(session, invoice)
    assert account.balance == Decimal("0.00")  # what came in paid the invoice


def patient_account_of(session, invoice):
    from tests.money.rows import account_of

    return account_of(session, invoice.patient_id)


def test_a_desk_payment_the_register_did_not_print_pays_nothing(login, session):
    from services.money.fiscal.emulator import EmulatorDriver
    from tests.money.rows import receipts

    invoice = _tver_invoice(session)
    client = login("cashier")
    EmulatorDriver(register(session).serial, session).inject("paper_out")
    assert "бумага" in refused(_desk_pay(client, session, invoice, "k-desk-p"))
    session.expire_all()
    assert invoice.state == "confirmed" and invoice.paid_amount == 0
    assert receipts(session, "k-desk-p")[0].state == "failed" and posted(session, "k-desk-p") == []


def test_paying_an_invoice_at_the_desk_needs_edit_on_patients_accounts(login, session):
    from tests.money.rows import user_with

    invoice = _tver_invoice(session)
    # Both read the patients' invoices, as the cashier's preset does.
    viewer = login(user_with(session, payment__patient_accounts="view",
                             invoice__patients="view"))
    assert "Нет права" in refused(_desk_pay(viewer, session, invoice, "k-desk-v"))
    session.expire_all()
    assert invoice.paid_amount == 0
    cashier = login(user_with(session, invoice__patients="view"))
    answer = _desk_pay(cashier, session, invoice, "k-desk-c")
    assert answer.status_code == 302, refused(answer)
    session.expire_all()
    assert invoice.state == "paid"


def _organisation_invoice(session, login):
    """Return a confirmed organisation's invoice of «Тверской» and the organisation's
    account there (opened for the test)."""
    from models.contracts import Contract
    from models.money import Account
    from tests.invoices.rows import ORGS, inv_user, invoice, owed_contract
    from tests.invoices.test_invoice_contracts import make

    deal, _rows = owed_contract(session, kind="organisation")
    client = inv_user(session, login, ORGS)
    pk = make(client, deal)
    assert client.post(f"/organisationinvoiceview/confirm/{pk}").status_code == 302
    bill = invoice(session, pk)
    organisation_id = session.get(Contract, deal.id).organisation_id
    account = Account(kind="organisation", branch_id=bill.branch_id,
                      organisation_id=organisation_id, balance=0)
    session.add(account)
    session.commit()
    return bill, account


def _desk_pay_org(client, session, bill, account, key, **form):
    return client.post(f"/money/organisations/invoice_desk/{account.id}",
                       data={"register": register(session).id, "invoice": bill.id,
                             "key": key, **form})


def test_an_organisations_invoice_paid_at_the_cash_desk(login, session):
    from tests.money.rows import receipts, user_with

    bill, account = _organisation_invoice(session, login)
    # The card offers it to one who edits organisations' accounts.
    client = login(user_with(session, payment__organisation_accounts="edit",
                             invoice__organisations="view"))
    card = client.get(f"/money/organisations/show/{account.id}").get_data(as_text=True)
    assert 'id="invoice-desk-form"' in card
    half = (bill.total / 2).quantize(Decimal("0.01"))
    answer = _desk_pay_org(client, session, bill, account, "k-org-1", amount=str(half))
    assert answer.status_code == 302, refused(answer)
    session.expire_all()
    assert bill.state == "partly_paid" and bill.paid_amount == half
    [receipt] = receipts(session, "k-org-1")
    assert (receipt.kind, receipt.state, receipt.total) == ("sale", "confirmed", half)
    assert {t.kind for t in posted(session, "k-org-1")} == {"deposit", "payment"}
    answer = _desk_pay_org(client, session, bill, account, "k-org-2", how="card")
    assert answer.status_code == 302, refused(answer)
    session.expire_all()
    assert bill.state == "paid" and bill.paid_amount == bill.total
    assert '"cashless": true' in receipts(session, "k-org-2")[0].intent
    assert account.balance == Decimal("0.00")
    # Both operations are on the account's statement, with their fiscal documents.
    card = client.get(f"/money/organisations/show/{account.id}").get_data(as_text=True)
    statement = card[card.index('id="statement"'):]
    assert statement.count("ФД №") == 4 and f"Счёт № {bill.number}" in statement


def test_paying_an_organisations_invoice_at_the_desk_needs_edit_on_their_accounts(
        login, session):
    from tests.money.rows import receipts, user_with

    bill, account = _organisation_invoice(session, login)
    viewer = login(user_with(session, payment__organisation_accounts="view",
                             invoice__organisations="view"))
    card = viewer.get(f"/money/organisations/show/{account.id}").get_data(as_text=True)
    assert 'id="invoice-desk-form"' not in card
    assert "Нет права" in refused(_desk_pay_org(viewer, session, bill, account, "k-org-v"))
    # Edit on patients' accounts does not reach an organisation's.
    cashier = login(user_with(session, payment__patient_accounts="edit",
                              payment__organisation_accounts="none",
                              invoice__organisations="view"))
    answer = _desk_pay_org(cashier, session, bill, account, "k-org-c")
    assert answer.status_code == 403
    session.expire_all()
    assert bill.paid_amount == 0 and receipts(session, "k-org-v") == []
    assert receipts(session, "k-org-c") == []
