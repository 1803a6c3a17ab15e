"""Export to accounting over HTTP: each right of «Экспорт в бухгалтерию» allows and
refuses what it says, a branch outside the user's scope is 404, an export runs as a job
and lands in the log with its file, a second export of the period is marked as a
repeat, and the closed period makes an export final."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from models.exports import ExportChunk, ExportLog
from models.org import Unit
from tests.contract_rows import user_with

TODAY = dt.date.today()
START, END = TODAY.replace(day=1), TODAY


def unit_id(session, code: str) -> int:
    return session.scalar(select(Unit.id).where(Unit.code == code))


def form(session, branch="MSK-TVR", fmt="xml", start=START, end=END) -> dict:
    return {"start": f"{start:%d.%m.%Y}", "end": f"{end:%d.%m.%Y}", "fmt": fmt,
            "branch_id": str(unit_id(session, branch))}


def run(client, session, kind="cash", **kw):
    """Start an export over HTTP; return the job page's URL (the job ran inline)."""
    response = client.post(f"/export/{kind}/start", data=form(session, **kw))
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def logs(session, kind="cash") -> list[ExportLog]:
    return list(session.scalars(select(ExportLog).where(ExportLog.kind == kind)
                                .order_by(ExportLog.id)))


@pytest.mark.parametrize("kind, right", [("cash", "export.cash_revenue"),
                                         ("invoices", "export.counterparty_invoices")])
def test_create_level_starts_an_export_and_view_level_only_reads(session, login, kind, right):
    creator = user_with(session, login, {right: "create", "invoice.organisations": "view"})
    page = creator.get(f"/export/{kind}/")
    assert page.status_code == 200 and 'id="export-form"' in page.text
    job = creator.get(run(creator, session, kind))
    assert job.status_code == 200 and 'id="export-done"' in job.text
    [entry] = logs(session, kind)
    reader = user_with(session, login, {right: "view"})
    page = reader.get(f"/export/{kind}/")
    assert page.status_code == 200 and 'id="export-form"' not in page.text
    assert entry.filename in page.text
    assert reader.get(f"/export/{kind}/download/{entry.id}").status_code == 200
    assert reader.post(f"/export/{kind}/start", data=form(session)).status_code == 403
    assert len(logs(session, kind)) == 1  # the reader started nothing


@pytest.mark.parametrize("kind, right", [("cash", "export.cash_revenue"),
                                         ("invoices", "export.counterparty_invoices")])
def test_without_the_right_the_screen_and_files_are_refused(session, login, kind, right):
    other = "export.counterparty_invoices" if kind == "cash" else "export.cash_revenue"
    creator = user_with(session, login, {right: "create", "invoice.organisations": "view"})
    run(creator, session, kind)
    [entry] = logs(session, kind)
    stranger = user_with(session, login, {other: "delete"})
    for response in (stranger.get(f"/export/{kind}/"),
                     stranger.get(f"/export/{kind}/download/{entry.id}"),
                     stranger.post(f"/export/{kind}/start", data=form(session))):
        assert response.status_code == 403, response.status_code
    assert len(logs(session, kind)) == 1


def test_a_branch_outside_the_scope_is_not_found(session, login):
    client = user_with(session, login, {"export.cash_revenue": "create"}, scope="own_subtree")
    response = client.post("/export/cash/start", data=form(session, branch="SPB-NEV"))
    assert response.status_code == 404
    assert not logs(session)
    page = client.get("/export/cash/")
    assert "Невский" not in page.text and "Тверской" in page.text


def test_a_foreign_export_file_is_not_found(session, login):
    admin = login("admin")
    run(admin, session, branch="SPB-NEV")
    [entry] = logs(session)
    client = user_with(session, login, {"export.cash_revenue": "view"})
    assert client.get(f"/export/cash/download/{entry.id}").status_code == 404
    assert entry.filename not in client.get("/export/cash/").text


def test_cash_xml_is_enterprise_data_with_shifts_and_export_codes(session, login):
    client = login("accountant")
    page = client.get(run(client, session))
    [entry] = logs(session)
    assert entry.documents >= 1 and entry.lines >= 1 and entry.repeat_of_id is None
    body = client.get(f"/export/cash/download/{entry.id}")
    assert body.headers["Content-Disposition"].endswith('.xml"')
    xml = body.data.decode("utf-8")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "<msg:Format>http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.11</msg:Format>" in xml
    assert xml.count("<Документ.ОтчетОРозничныхПродажах>") == entry.documents
    assert xml.count("<Строка>") == entry.lines
    assert "<КодЭкспорта>" in xml and "<Справочник.Номенклатура>" in xml
    assert "Выгружено документов" in page.text
    from xml.etree import ElementTree

    root = ElementTree.fromstring(body.data)  # well-formed
    ns = "{http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.11}"
    amounts = [Decimal(doc.find(ns + "Сумма").text)
               for doc in root.iter(ns + "Документ.ОтчетОРозничныхПродажах")]
    assert sum(amounts) == entry.amount


def test_invoices_xml_names_counterparties_with_inn_and_kpp(session, login):
    client = login("accountant")
    run(client, session, "invoices", start=TODAY - dt.timedelta(days=40))
    [entry] = logs(session, "invoices")
    assert entry.documents >= 1
    xml = client.get(f"/export/invoices/download/{entry.id}").data.decode("utf-8")
    assert xml.count("<Документ.РеализацияТоваровУслуг>") == entry.documents
    assert "<Справочник.Контрагенты>" in xml and re.search(r"<ИНН>\d{10}</ИНН>", xml)


def test_a_second_export_of_the_period_is_a_repeat(session, login):
    client = login("accountant")
    run(client, session)
    page = client.get(run(client, session, fmt="xlsx"))
    first, second = logs(session)
    assert first.repeat_of_id is None and second.repeat_of_id == first.id
    assert second.checksum == first.checksum  # the same documents
    assert 'id="export-repeat"' in page.text
    assert "повторная выгрузка" in client.get("/export/cash/").text
    third = run(client, session, start=START - dt.timedelta(days=1))
    assert logs(session)[-1].repeat_of_id is None, third


def test_xlsx_keeps_formula_like_text_as_text(session, login):
    from openpyxl import load_workbook

    from models.money import Transaction
    from models.vouchers import VoucherLine

    line_id = session.scalar(select(Transaction.voucher_line_id).where(
        Transaction.kind == "payment", Transaction.voucher_line_id.is_not(None)).limit(1))
    service = session.get(VoucherLine, line_id).service
    service.name = "=HYPERLINK(\"http://x\")"
    session.commit()
    client = login("accountant")
    run(client, session, fmt="xlsx")
    [entry] = logs(session)
    data = client.get(f"/export/cash/download/{entry.id}").data
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == service.name]
    assert cells and all(c.data_type == "s" for c in cells)


def test_the_closed_period_makes_an_export_final(session, login):
    from models.params import ModuleParameters
    from services.admin.params import network_of, parameters_for

    client = login("accountant")
    run(client, session)
    assert logs(session)[-1].final is False
    assert "период не закрыт" in client.get("/export/cash/").text
    branch = unit_id(session, "MSK-TVR")
    params = parameters_for(session, branch)
    if params is None:
        params = ModuleParameters(unit_id=network_of(session, branch))
        session.add(params)
    params.closed_through = END
    session.commit()
    run(client, session)
    assert logs(session)[-1].final is True


def test_the_file_is_stored_in_pieces(session, login, monkeypatch):
    from services.export import run as export_run

    monkeypatch.setattr(export_run, "CHUNK", 100)
    client = login("accountant")
    run(client, session)
    [entry] = logs(session)
    pieces = session.scalars(select(ExportChunk).where(ExportChunk.log_id == entry.id)).all()
    assert len(pieces) > 1 and sum(len(p.data) for p in pieces) == entry.size
    assert len(client.get(f"/export/cash/download/{entry.id}").data) == entry.size


def test_bad_period_is_refused_with_a_message(session, login):
    client = login("accountant")
    response = client.post("/export/cash/start",
                           data=form(session, start=END, end=START - dt.timedelta(days=1)))
    assert response.status_code == 400 and "Конец периода раньше его начала" in response.text
    response = client.post("/export/cash/start", data={**form(session), "start": "32.01.2026"})
    assert response.status_code == 400 and "ДД.ММ.ГГГГ" in response.text
    assert not logs(session)


def test_an_xlsx_too_long_for_a_sheet_is_refused_on_the_job_page(session, login, monkeypatch):
    from services.export import run as export_run

    monkeypatch.setattr(export_run, "XLSX_MAX_LINES", 0)
    client = login("accountant")
    page = client.get(run(client, session, fmt="xlsx"))
    assert "в лист Excel их не уместить" in page.text
    assert not logs(session)


def test_documents_changing_during_the_export_keep_nothing(session, login, monkeypatch):
    from services.export import rows as source

    real = source.totals
    monkeypatch.setattr(source, "totals", lambda *a: {k: v + 1 for k, v in real(*a).items()})
    client = login("accountant")
    page = client.get(run(client, session))
    assert "изменились во время выгрузки" in page.text
    assert not logs(session)
