"""Invoices by contract and period (organisations, insurers, individuals) over HTTP:
the register of a DMS contract, network contracts, editing and cancelling confirmed
invoices, storno, removing services from confirmed invoices, the XLSX register."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from models.invoices import Invoice
from tests.contract_rows import contract, individual
from tests.invoices.rows import ORGS, inv_user, invoice, line_count, owed_contract, states
from tests.voucher_rows import ago, line, patient, service, text, voucher

API = "/api/v1/organisationinvoice/"
SCREEN = "/organisationinvoiceview"


def period(days_back=30):
    return {"period_from": ago(days_back).strftime("%d.%m.%Y"),
            "period_to": ago(0).strftime("%d.%m.%Y"), "invoice_date": ""}


def make(client, deal) -> int:
    answer = client.post(f"{SCREEN}/add", data={"contract": str(deal.id), **period()})
    assert answer.status_code == 302, answer.get_data(as_text=True)[-1500:]
    return int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def confirmed(session, login, rights=None, count=3):
    deal, rows = owed_contract(session, count=count)
    client = inv_user(session, login, {**ORGS, **(rights or {})})
    pk = make(client, deal)
    assert client.post(f"{SCREEN}/confirm/{pk}").status_code == 302
    assert invoice(session, pk).state == "confirmed"
    return client, pk, rows


def test_the_register_of_a_contract_for_a_period(session, login):
    deal, rows = owed_contract(session)
    outside = line(session, voucher(session, patient(session), day=ago(60)), service(session),
                   payer_kind="contract", contract=deal)
    session.commit()
    client = inv_user(session, login, ORGS)
    pk = make(client, deal)
    stored = invoice(session, pk)
    assert (stored.kind, stored.total, stored.contract_id) == (
        "organisation", Decimal("3600.00"), deal.id)
    assert states(session, [*rows, outside]) == ["invoiced"] * 3 + ["rendered"]
    card = text(client.get(f"{SCREEN}/show/{pk}"))
    assert "3 600,00" in card and "Реестр услуг" in card


def test_create_level_is_needed_on_screen_and_api(session, login):
    deal, rows = owed_contract(session)
    client = inv_user(session, login, {"invoice.organisations": "edit"})
    assert client.post(f"{SCREEN}/add", data={"contract": str(deal.id), **period()}
                       ).status_code in (302, 403)
    api = client.post(API + "make", json={"contract": deal.id,
                                          "period_from": ago(30).isoformat(),
                                          "period_to": ago(0).isoformat()})
    assert api.status_code == 403
    assert states(session, rows) == ["rendered"] * 3


def test_api_makes_and_confirms(session, login):
    deal, _ = owed_contract(session)
    client = inv_user(session, login, ORGS)
    made = client.post(API + "make", json={"contract": deal.id,
                                           "period_from": ago(30).isoformat(),
                                           "period_to": ago(0).isoformat()})
    assert made.status_code == 200, made.get_json()
    pk = made.get_json()["result"]["id"]
    done = client.post(API + f"{pk}/confirm", json={})
    assert done.status_code == 200 and done.get_json()["result"]["state"] == "confirmed"
    listed = client.get(API).get_json()
    assert pk in listed["ids"]


def test_a_network_contract_needs_its_right(session, login):
    deal, rows = owed_contract(session, served=("MSK-TVR",))
    plain = inv_user(session, login, ORGS)
    answer = plain.post(f"{SCREEN}/add", data={"contract": str(deal.id), **period()})
    assert answer.status_code == 400 and "сетевым договорам" in answer.get_data(as_text=True)
    assert states(session, rows) == ["rendered"] * 3
    allowed = inv_user(session, login, {**ORGS, "invoice.organisations.network": "yes"})
    assert make(allowed, deal)


def test_an_individuals_contract_goes_to_its_own_section(session, login):
    deal, rows = owed_contract(session, kind="prepaid", individual=individual(session))
    orgs = inv_user(session, login, ORGS)
    answer = orgs.post(f"{SCREEN}/add", data={"contract": str(deal.id), **period()})
    assert answer.status_code == 400 and states(session, rows) == ["rendered"] * 3
    no_right = inv_user(session, login, {"invoice.individuals": "edit"})
    refused = no_right.post("/api/v1/individualinvoice/make", json={
        "contract": deal.id, "period_from": ago(30).isoformat(), "period_to": ago(0).isoformat()})
    assert refused.status_code == 403
    people = inv_user(session, login, {"invoice.individuals": "create"})
    made = people.post("/individualinvoiceview/add", data={"contract": str(deal.id), **period()})
    assert made.status_code == 302
    pk = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert invoice(session, pk).kind == "individual"
    # Invoices to individuals are not in the organisations' section, nor seen without the right.
    assert orgs.get(f"{SCREEN}/show/{pk}").status_code == 404
    assert orgs.get(f"/individualinvoiceview/show/{pk}").status_code in (302, 403)


def test_cancelling_a_confirmed_invoice_needs_edit_confirmed(session, login):
    client, pk, rows = confirmed(session, login)
    assert client.post(API + f"{pk}/cancel", json={"reason": "ошибка"}).status_code == 403
    editor = inv_user(session, login, {**ORGS, "invoice.organisations.edit_confirmed": "yes"})
    assert editor.post(API + f"{pk}/cancel", json={"reason": "ошибка"}).status_code == 200
    assert invoice(session, pk).state == "cancelled"
    assert states(session, rows) == ["rendered"] * 3


def test_editing_a_confirmed_invoice_changes_the_note_only_with_the_right(session, login):
    client, pk, _ = confirmed(session, login)
    client.post(f"{SCREEN}/edit/{pk}", data={"note": "новое"})
    assert invoice(session, pk).note is None
    editor = inv_user(session, login, {**ORGS, "invoice.organisations.edit_confirmed": "yes"})
    editor.post(f"{SCREEN}/edit/{pk}", data={"note": "новое"})
    assert invoice(session, pk).note == "новое"
    answer = editor.post(f"{SCREEN}/edit/{pk}", data={"invoice_date": ago(2).strftime(
        "%d.%m.%Y")})
    assert answer.status_code == 302 and invoice(session, pk).invoice_date == ago(0)


def test_storno_reverses_with_a_document_and_frees_the_lines(session, login):
    client, pk, rows = confirmed(session, login)
    refused = client.post(f"{SCREEN}/storno/{pk}", data={"reason": "разделение оплат"})
    assert refused.status_code == 302 and invoice(session, pk).state == "confirmed"
    assert client.post(API + f"{pk}/storno", json={"reason": "x"}).status_code == 403
    reverser = inv_user(session, login, {**ORGS, "invoice.storno": "yes"})
    no_reason = reverser.post(API + f"{pk}/storno", json={})
    assert no_reason.status_code == 400
    done = reverser.post(f"{SCREEN}/storno/{pk}", data={"reason": "разделение оплат"})
    assert done.status_code == 302
    original = invoice(session, pk)
    reverse = session.query(Invoice).filter(Invoice.storno_of_id == pk).one()
    assert original.state == "reversed" and original.total == Decimal("3600.00")
    assert (reverse.state, reverse.total) == ("confirmed", Decimal("-3600.00"))
    assert reverse.number_seq == original.number_seq + 1
    assert line_count(session, reverse.id) == 3
    assert states(session, rows) == ["rendered"] * 3
    assert f"/show/{reverse.id}" in done.headers["Location"]
    # A reversed invoice is not reversed twice; the reversing one is not cancelled.
    assert reverser.post(API + f"{pk}/storno", json={"reason": "x"}).status_code == 400
    assert reverser.post(API + f"{reverse.id}/storno", json={"reason": "x"}).status_code == 400


def test_a_confirmed_invoice_is_never_edited_through_the_generic_api(session, login):
    client, pk, _ = confirmed(session, login, {"invoice.organisations.edit_confirmed": "yes"})
    assert client.put(API + str(pk), json={"total": "1.00"}).status_code in (404, 405)
    assert client.delete(API + str(pk)).status_code in (404, 405)
    assert client.post(API, json={"kind": "organisation"}).status_code in (404, 405)
    assert client.post(f"{SCREEN}/delete/{pk}").status_code in (404, 405)
    assert invoice(session, pk).total == Decimal("3600.00")


def test_removing_a_service_from_a_confirmed_invoice_needs_its_right(session, login):
    client, pk, rows = confirmed(session, login)
    first = invoice(session, pk).lines[0]
    assert client.post(API + f"{pk}/lines/{first.id}/remove", json={"reason": "x"}
                       ).status_code == 403
    remover = inv_user(session, login, {**ORGS, "invoice.delete_confirmed_services": "yes"})
    answer = remover.post(f"{SCREEN}/remove-line/{pk}/{first.id}", data={"reason": "не оказана"})
    assert answer.status_code == 302
    stored = invoice(session, pk)
    assert (stored.total, len(stored.lines), stored.reason) == (
        Decimal("2400.00"), 2, "не оказана")
    assert sorted(states(session, rows)) == ["invoiced", "invoiced", "rendered"]


def test_the_xlsx_register_neutralises_formulas(session, login):
    from openpyxl import load_workbook

    deal = contract(session)
    person = patient(session, last_name="=HYPERLINK(\"x\")")
    item = service(session)
    line(session, voucher(session, person), item, payer_kind="contract", contract=deal)
    session.commit()
    client = inv_user(session, login, ORGS)
    pk = make(client, deal)
    answer = client.get(f"{SCREEN}/register/{pk}")
    assert answer.status_code == 200
    sheet = load_workbook(BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][0].startswith("=HYPERLINK") and rows[2][4] == item.code
    cell = sheet.cell(row=3, column=1)
    assert cell.data_type == "s"
    stranger = inv_user(session, login, {"invoice.organisations": "none",
                                         "invoice.patients": "view"})
    assert stranger.get(f"{SCREEN}/register/{pk}").status_code in (302, 403)


def test_every_change_is_journaled_with_who_and_why(session, login):
    from sqlalchemy import select

    from models.journal import JournalEntry

    _client, pk, _ = confirmed(session, login)
    reverser = inv_user(session, login, {**ORGS, "invoice.storno": "yes"})
    reverser.post(API + f"{pk}/storno", json={"reason": "разделение оплат"})
    session.expire_all()
    rows = session.scalars(select(JournalEntry).where(
        JournalEntry.table_name == "inv_invoice", JournalEntry.row_pk == str(pk))
        .order_by(JournalEntry.id)).all()
    assert [r.action for r in rows][:1] == ["insert"]
    last = rows[-1]
    assert last.after.get("state") == "reversed" and last.after.get("reason") == \
        "разделение оплат"
    assert last.username.startswith("inv_user")
    freed = session.scalars(select(JournalEntry).where(
        JournalEntry.table_name == "vch_line", JournalEntry.row_pk == f"invoice:{pk}")).all()
    assert [r.after["state"] for r in freed] == ["invoiced", "rendered"]


def test_confirming_an_organisations_invoice_needs_its_right(session, login):
    deal, _ = owed_contract(session)
    client = inv_user(session, login, {"invoice.organisations": "delete"})
    pk = make(client, deal)
    assert client.post(API + f"{pk}/confirm", json={}).status_code == 403
    assert client.post(f"{SCREEN}/confirm/{pk}").status_code == 302
    assert invoice(session, pk).state == "draft"


def test_a_network_contract_through_the_api(session, login):
    deal, rows = owed_contract(session, served=("MSK-TVR",))
    body = {"contract": deal.id, "period_from": ago(30).isoformat(),
            "period_to": ago(0).isoformat()}
    assert inv_user(session, login, ORGS).post(API + "make", json=body).status_code == 403
    allowed = inv_user(session, login, {**ORGS, "invoice.organisations.network": "yes"})
    assert allowed.post(API + "make", json=body).status_code == 200
    assert states(session, rows) == ["invoiced"] * 3


def test_editing_a_confirmed_invoice_through_the_api(session, login):
    _client, pk, _ = confirmed(session, login)
    plain = inv_user(session, login, ORGS)
    assert plain.post(API + f"{pk}/edit", json={"note": "x"}).status_code == 403
    editor = inv_user(session, login, {**ORGS, "invoice.organisations.edit_confirmed": "yes"})
    assert editor.post(API + f"{pk}/edit", json={"note": "по письму"}).status_code == 200
    moved = editor.post(API + f"{pk}/edit", json={"invoice_date": ago(1).isoformat()})
    assert moved.status_code == 400
    stored = invoice(session, pk)
    assert (stored.note, stored.invoice_date, stored.total) == ("по письму", ago(0),
                                                                Decimal("3600.00"))
