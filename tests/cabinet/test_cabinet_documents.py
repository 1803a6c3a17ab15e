"""Личный кабинет / Документы over HTTP: a client's users download their client's
contracts and no other; monthly acts carry the visits and the sum of the offices in
scope and exist only for users who may see cost."""

from __future__ import annotations

import datetime as dt
import html
import io
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from models.contracts import Contract
from models.org import UnitClosure
from models.vouchers import Voucher
from services.contracts.rules import money
from tests.support import make_role, make_user, unit

TODAY = dt.date.today()


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def contract(session, number) -> Contract:
    return session.scalar(select(Contract).where(Contract.number == number))


def test_a_client_downloads_his_clients_contracts_only(session, login):
    client = login("client_head")
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert "ЛАБ-2026/011" in page and "ЛАБ-2026/012" not in page
    own, other = contract(session, "ЛАБ-2026/011"), contract(session, "ЛАБ-2026/012")
    text = pdf_text(client.get(f"/cabinet/documents/contract/{own.id}.pdf"))
    assert "ЛАБ-2026/011" in text and "Добромед" in text and "7701234560" in text
    assert client.get(f"/cabinet/documents/contract/{other.id}.pdf").status_code == 404
    manager = html.unescape(login("manager").get("/cabinet/documents/").get_data(as_text=True))
    assert "ЛАБ-2026/011" in manager and "ЛАБ-2026/012" in manager


def test_the_months_act_sums_the_offices_visits(session, login):
    """The act of a finished month (issue 17: none for the month still running)."""
    offices = list(session.scalars(select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, "CL1-HQ").id)))
    last_day = TODAY.replace(day=1) - dt.timedelta(days=1)
    visits = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id.in_(offices),
        Voucher.service_date >= last_day.replace(day=1), Voucher.service_date <= last_day)).all()
    assert visits, "the demo must have visits last month"
    client = login("client_head")
    assert client.get(f"/cabinet/documents/act/{TODAY.year}-{TODAY.month}.pdf"
                      ).status_code == 404
    text = pdf_text(client.get(f"/cabinet/documents/act/{last_day.year}-{last_day.month}.pdf"))
    assert f"Визитов: {len(visits)}" in text
    total = sum((v.total for v in visits), Decimal(0))
    assert f"Сумма: {' '.join(money(total).split())} руб." in text
    assert client.get("/cabinet/documents/act/2026-13.pdf").status_code == 404
    assert client.get("/cabinet/documents/act/1999-01.pdf").status_code == 404


def test_acts_need_the_cost_right(session, login):
    role = make_role(session, "Документы без стоимости", {
        "scope.data": "own_subtree", "cabinet.documents": "yes", "cabinet.see_cost": "no"})
    user = make_user(session, "docs_no_cost", roles=[role], home_unit=unit(session, "CL1-HQ"))
    session.commit()
    client = login(user.username)
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert "ЛАБ-2026/011" in page
    assert "Акты содержат суммы" in page and "руб." not in page
    assert client.get(f"/cabinet/documents/act/{TODAY.year}-{TODAY.month}.pdf"
                      ).status_code == 404
    assert login("client_user").get("/cabinet/documents/").status_code in (302, 403)
