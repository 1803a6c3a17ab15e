"""Личный кабинет / Документы: a client's users with the cost right see the confirmed
invoices of their client's contracts with the payment state, as PDF; no other
client's, no drafts; without the cost right none."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

from sqlalchemy import select

from models.contracts import Contract
from models.invoices import Invoice
from tests.cabinet.test_cabinet_documents import pdf_text


def _invoice(session, number, state="confirmed", seq=None, paid="0.00"):
    deal = session.scalar(select(Contract).where(Contract.number == number))
    row = Invoice(kind="organisation", state=state, branch_id=deal.branch_id, contract=deal,
                  invoice_date=dt.date.today(), total=Decimal("5000.00"),
                  paid_amount=Decimal(paid), number_year=dt.date.today().year,
                  number_seq=seq)
    session.add(row)
    session.commit()
    return row


def test_the_client_sees_his_invoices_with_payment_state(session, login):
    own = _invoice(session, "ЛАБ-2026/011", "partly_paid", 90001, "1000.00")
    draft = _invoice(session, "ЛАБ-2026/011", "draft")
    other = _invoice(session, "ЛАБ-2026/012", "confirmed", 90002)
    client = login("client_head")
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert own.number in page and "Оплачен частично" in page
    assert other.number not in page
    assert "появятся здесь с подключением" not in page
    text = pdf_text(client.get(f"/cabinet/documents/invoice/{own.id}.pdf"))
    assert own.number in text and "Пять тысяч рублей 00 копеек" in text
    assert client.get(f"/cabinet/documents/invoice/{other.id}.pdf").status_code == 404
    assert client.get(f"/cabinet/documents/invoice/{draft.id}.pdf").status_code == 404


def test_without_the_cost_right_no_invoices(session, login):
    from tests.support import make_role, make_user, unit

    own = _invoice(session, "ЛАБ-2026/011", "confirmed", 90003)
    role = make_role(session, "Кабинет без стоимости", {
        "scope.data": "own_subtree", "cabinet.documents": "yes"}, side="cabinet")
    make_user(session, "inv_cab_nocost", roles=[role], home_unit=unit(session, "CL1-HQ"))
    client = login("inv_cab_nocost")
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert own.number not in page and "правом просмотра стоимости" in page
    assert client.get(f"/cabinet/documents/invoice/{own.id}.pdf").status_code == 404
