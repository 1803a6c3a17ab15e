"""«Импорт оплаты счетов» for invoices to insurers (DMS) and to individuals under a
contract, over HTTP as the demo accountant: the payment goes through the payer's own
personal account (opened on the first payment) and pays the invoice, once; the
account card and the invoice card show it; a bad row writes nothing; a user without
the right is refused."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from sqlalchemy import func, select

from models.invoices import Invoice
from models.money import Account, Transaction
from models.user import AppUser
from security.effective import resolve
from services.invoices.imported import invoice_from_lines
from tests.imports.import_rows import csv_bytes, run, text
from tests.invoices.rows import inv_user, owed_contract, states
from tests.voucher_rows import ago

HEADER = ["Номер платежа", "Дата платежа", "Номер счёта", "Дата счёта", "Сумма",
          "Назначение платежа"]


def day(value: dt.date) -> str:
    return f"{value:%d.%m.%Y}"


def confirmed(session, kind: str, count=2) -> tuple[Invoice, list]:
    """Return a confirmed invoice under a new contract of `kind` ("dms": an insurer
    pays; "prepaid": an individual does) and its voucher lines."""
    deal, lines = owed_contract(session, count=count, kind=kind,
                                **({"payment_scheme": "prepaid"} if kind == "prepaid" else {}))
    admin = resolve(session, session.scalar(select(AppUser).filter_by(username="admin")))
    invoice = invoice_from_lines(session, admin, contract_id=deal.id,
                                 invoice_date=dt.date.today(), line_ids=[r.id for r in lines],
                                 external_number=f"PAY-{deal.id}", confirm=True)
    session.commit()
    return invoice, lines


def row(payment, invoice, amount, note=""):
    return [payment, day(ago(0)), invoice.number, day(invoice.invoice_date),
            str(amount).replace(".", ","), note]


def posted(session, payment: str) -> list[Transaction]:
    """Return the transactions a bank payment posted (its deposit and its payment)."""
    session.expire_all()
    return session.scalars(select(Transaction).where(
        Transaction.idem_key.like(f"bank:{payment}%")).order_by(Transaction.id)).all()


def tx_count(session) -> int:
    return session.scalar(select(func.count(Transaction.id)))


def test_insurer_and_individual_payments_pay_their_invoices_once(session, login):
    dms, dms_lines = confirmed(session, "dms")
    person, person_lines = confirmed(session, "prepaid")
    assert (dms.kind, person.kind) == ("organisation", "individual")
    half = (person.total / 2).quantize(Decimal("0.01"))
    data = csv_bytes(HEADER, row("ДМС-1", dms, dms.total, "по реестру"),
                     row("ФЛ-1", person, half), encoding="cp1251")
    client = login("accountant")
    preview, done = run(client, "invoice_payments", data)
    assert "Будет добавлено 2" in text(preview) and "Строк с ошибками 0" in text(preview)
    assert "Файл загружен" in text(done)
    session.expire_all()
    dms, person = session.get(Invoice, dms.id), session.get(Invoice, person.id)
    assert (dms.state, dms.paid_amount) == ("paid", dms.total)
    assert (person.state, person.paid_amount) == ("partly_paid", half)
    assert set(states(session, dms_lines)) == {"paid"}
    assert set(states(session, person_lines)) == {"invoiced"}
    # Each payment posted once: a deposit on the payer's own account, then the payment.
    for key, invoice, kind, holder in (("ДМС-1", dms, "insurer", dms.contract.insurer_id),
                                       ("ФЛ-1", person, "individual",
                                        person.contract.individual_id)):
        deposit, payment = posted(session, key)
        assert (deposit.kind, payment.kind, payment.invoice_id) == ("deposit", "payment",
                                                                    invoice.id)
        assert deposit.amount == payment.amount == invoice.paid_amount
        account = session.get(Account, payment.account_id)
        assert (account.kind, getattr(account, f"{kind}_id")) == (kind, holder)
        assert account.balance == 0 and deposit.account_id == account.id
    before = tx_count(session)
    again, _ = run(client, "invoice_payments", data, confirm=False)
    assert "Без изменений 2" in text(again)
    assert tx_count(session) == before


def test_the_account_and_invoice_cards_show_the_payment(session, login):
    dms, _lines = confirmed(session, "dms", count=1)
    client = login("accountant")
    run(client, "invoice_payments", csv_bytes(HEADER, row("ДМС-2", dms, "100.00")))
    [_deposit, payment] = posted(session, "ДМС-2")
    insurer = dms.contract.insurer.name
    listing = text(client.get("/money/organisations/list/"))
    assert f"ЛС № {payment.account_id} {insurer} Страховая компания" in listing
    card = text(client.get(f"/money/organisations/show/{payment.account_id}"))
    assert insurer in card and f"Счёт № {dms.number}" in card
    # What is left is offered for payment from the account, as an organisation's is.
    assert f"№ {dms.number} от {day(dms.invoice_date)}" in card
    invoice_card = client.get(f"/organisationinvoiceview/show/{dms.id}")
    page = text(invoice_card)
    assert 'id="invoice-payments"' in invoice_card.get_data(as_text=True)
    assert "Платёж № ДМС-2" in page and f"ЛС № {payment.account_id}" in page
    # Reversed on the account card, as an organisation's payment is: the invoice owes
    # the amount again and the money stays on the insurer's account.
    answer = client.post(f"/money/organisations/reverse/{payment.account_id}/{payment.id}",
                         data={"key": "reverse-dms-2"})
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(Invoice, dms.id).state == "confirmed"
    assert session.get(Account, payment.account_id).balance == Decimal("100.00")


def test_a_wrong_amount_or_number_is_a_russian_row_error_and_writes_nothing(session, login):
    dms, _ = confirmed(session, "dms", count=1)
    person, _ = confirmed(session, "prepaid", count=1)
    accounts = session.scalar(select(func.count(Account.id)))
    before = tx_count(session)
    wrong_number = row("ФЛ-3", person, "1,00")
    wrong_number[2] = "99999/2001"
    data = csv_bytes(HEADER, row("ДМС-3", dms, "1,00"),
                     row("ФЛ-2", person, person.total + 1), wrong_number)
    client = login("accountant")
    preview, done = run(client, "invoice_payments", data)
    page = text(preview)
    assert f"К оплате по счёту осталось {person.total}" in page
    assert f"Счёт № 99999/2001 от {day(person.invoice_date)} не найден" in page
    assert "Строк с ошибками 2" in page
    assert done is None or "Файл загружен" not in text(done)
    session.expire_all()
    assert session.get(Invoice, dms.id).paid_amount == 0
    assert session.get(Invoice, person.id).paid_amount == 0
    assert tx_count(session) == before
    assert session.scalar(select(func.count(Account.id))) == accounts


def test_without_the_right_the_import_is_refused_and_nothing_is_paid(session, login):
    dms, _ = confirmed(session, "dms", count=1)
    data = csv_bytes(HEADER, row("ДМС-4", dms, "1,00"))
    refused = inv_user(session, login, {"payment.organisation_accounts": "delete",
                                        "invoice.organisations": "view"})
    answer = refused.post("/imports/invoice_payments/preview",
                          data={"file": (io.BytesIO(data), "a.csv")},
                          content_type="multipart/form-data")
    assert answer.status_code == 403
    # The import right without «изменение» of the payers' accounts: the row is refused.
    viewer = inv_user(session, login, {"import.invoice_payments": "yes",
                                       "payment.organisation_accounts": "view",
                                       "invoice.organisations": "view"})
    page = text(run(viewer, "invoice_payments", data, confirm=False)[0])
    assert "Будет добавлено 0" in page and "Строк с ошибками 1" in page
    assert posted(session, "ДМС-4") == []
    assert session.get(Invoice, dms.id).paid_amount == 0
