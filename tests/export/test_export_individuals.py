"""«Счета контрагентам» exports the invoices to individuals under a contract too: in
the EnterpriseData XML the counterparty is a «ФизическоеЛицо» (no КПП), in the XLSX
the line names him, with the service's export code as for organisations' invoices;
a user who may not see invoices to individuals does not export them."""

from __future__ import annotations

import datetime as dt
import io
from xml.etree import ElementTree

from openpyxl import load_workbook
from sqlalchemy import select

from models.refbooks import ExportCode
from models.user import AppUser
from security.effective import resolve
from services.invoices.imported import invoice_from_lines
from tests.contract_rows import individual, n, user_with
from tests.export.test_export_http import TODAY, logs, run
from tests.invoices.rows import owed_contract

NS = "{http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.11}"


def person_invoice(session):
    """Return a confirmed invoice dated today to a new individual under a prepaid
    contract in MSK-TVR, for a service with its own export code."""
    payer = individual(session, middle_name="Ильич", inn="770123456789")
    deal, lines = owed_contract(session, count=2, kind="prepaid", individual=payer,
                                payment_scheme="prepaid")
    code = ExportCode(code=f"ЭК-{n()}", name="Услуги физлицам", account="90.01.1")
    session.add(code)
    lines[0].service.export_code = code
    admin = resolve(session, session.scalar(select(AppUser).filter_by(username="admin")))
    invoice = invoice_from_lines(session, admin, contract_id=deal.id, invoice_date=TODAY,
                                 line_ids=[r.id for r in lines],
                                 external_number=f"FL-{deal.id}", confirm=True)
    session.commit()
    return invoice, payer, code


def test_xml_names_the_individual_as_a_person_with_the_export_code(session, login):
    invoice, payer, code = person_invoice(session)
    client = login("accountant")
    run(client, session, "invoices", start=TODAY - dt.timedelta(days=40))
    [entry] = logs(session, "invoices")
    root = ElementTree.fromstring(client.get(f"/export/invoices/download/{entry.id}").data)
    [doc] = [d for d in root.iter(NS + "Документ.РеализацияТоваровУслуг")
             if d.find(f"{NS}КлючевыеСвойства/{NS}Номер").text == invoice.number]
    party = doc.find(NS + "Контрагент")
    assert payer.full_name == f"{payer.last_name} Пётр Ильич"
    assert party.find(NS + "Наименование").text == payer.full_name
    assert party.find(NS + "ИНН").text == "770123456789" and party.find(NS + "КПП") is None
    lines = doc.findall(f"{NS}Услуги/{NS}Строка")
    assert len(lines) == 2 and sum(float(x.find(NS + "Сумма").text) for x in lines) \
        == float(invoice.total)
    assert {x.find(f"{NS}Номенклатура/{NS}КодВПрограмме").text for x in lines} == {code.code}
    assert {x.find(NS + "СчетДоходов").text for x in lines} == {"90.01.1"}
    ref = party.find(NS + "Ссылка").text
    [card] = [c for c in root.iter(NS + "Справочник.Контрагенты")
              if c.find(f"{NS}КлючевыеСвойства/{NS}Ссылка").text == ref]
    assert card.find(NS + "ЮридическоеФизическоеЛицо").text == "ФизическоеЛицо"
    assert card.find(f"{NS}КлючевыеСвойства/{NS}Наименование").text == payer.full_name
    # The organisations' and insurers' invoices stay legal entities.
    kinds = {c.find(NS + "ЮридическоеФизическоеЛицо").text
             for c in root.iter(NS + "Справочник.Контрагенты")}
    assert kinds == {"ФизическоеЛицо", "ЮридическоеЛицо"}


def test_xlsx_has_the_individuals_invoice_lines(session, login):
    invoice, payer, code = person_invoice(session)
    client = login("accountant")
    run(client, session, "invoices", fmt="xlsx")
    [entry] = logs(session, "invoices")
    sheet = load_workbook(io.BytesIO(
        client.get(f"/export/invoices/download/{entry.id}").data)).active
    header = [c.value for c in sheet[2]]
    rows = [dict(zip(header, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=3)]
    mine = [r for r in rows if r["Счёт"] == invoice.number]
    assert len(mine) == 2
    assert {(r["Контрагент"], r["Вид контрагента"], r["ИНН"], r["Код экспорта"],
             r["Счёт учёта"]) for r in mine} == {
        (payer.full_name, "Физическое лицо", "770123456789", code.code, "90.01.1")}
    assert sum(r["Сумма"] for r in mine) == float(invoice.total)
    assert mine[0]["Дата счёта"].date() == TODAY


def test_without_the_right_to_individuals_invoices_they_are_not_exported(session, login):
    _invoice, payer, _code = person_invoice(session)
    client = user_with(session, login, {"export.counterparty_invoices": "create",
                                        "invoice.organisations": "view"})
    run(client, session, "invoices", start=TODAY - dt.timedelta(days=40))
    [entry] = logs(session, "invoices")
    xml = client.get(f"/export/invoices/download/{entry.id}").data.decode("utf-8")
    assert "<Документ.РеализацияТоваровУслуг>" in xml  # the organisations' are there
    assert payer.full_name not in xml
    assert ">ФизическоеЛицо<" not in xml and ">ЮридическоеЛицо<" in xml
    assert user_with(session, login, {"invoice.individuals": "view"}) \
        .get("/export/invoices/").status_code == 403
