"""«Импорт счетов» and «Импорт оплаты счетов» over HTTP: each behind its right, the
invoice rules of the screens (rights of the invoice kind, the user's branch, lines
rendered and not yet invoiced), per-row Russian errors, all or nothing, an idempotent
re-run, an import_log row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from models.imports import ImportLog
from models.invoices import Invoice
from models.money import Transaction
from models.user import AppUser
from security.effective import resolve
from services.invoices.imported import invoice_from_lines
from tests.imports.import_rows import csv_bytes, run, text, xlsx_bytes
from tests.invoices.rows import ORGS, inv_user, owed_contract, states
from tests.voucher_rows import ago

INVOICE_HEADER = ["Номер счёта", "Дата счёта", "Номер договора", "Код услуги", "Дата услуги",
                  "Сумма", "Подтвердить"]
PAYMENT_HEADER = ["Номер платежа", "Дата платежа", "Номер счёта", "Дата счёта", "Сумма"]


def day(value: dt.date) -> str:
    return f"{value:%d.%m.%Y}"


def invoice_rows(deal, lines, number="EXT-1", confirm=""):
    return [[number, day(dt.date.today()), deal.number, lines[0].service.code,
             day(r.service_date), str(r.amount).replace(".", ","), confirm] for r in lines]


def stored(session, number):
    session.expire_all()
    return session.scalars(select(Invoice).where(Invoice.external_number == number)).all()


def test_invoices_imported_as_a_draft_then_left_alone(session, login):
    deal, lines = owed_contract(session, count=3)
    client = inv_user(session, login, {"import.invoices": "yes", **ORGS})
    data = csv_bytes(INVOICE_HEADER, *invoice_rows(deal, lines[:2]), encoding="cp1251")
    preview, done = run(client, "invoices", data)
    assert "Будет добавлено 2" in text(preview)
    assert "Файл загружен" in text(done)
    [invoice] = stored(session, "EXT-1")
    assert invoice.state == "draft" and invoice.contract_id == deal.id
    assert invoice.total == lines[0].amount * 2 and len(invoice.lines) == 2
    assert states(session, lines) == ["invoiced", "invoiced", "rendered"]
    log = session.scalar(select(ImportLog).where(ImportLog.kind == "invoices")
                         .order_by(ImportLog.id.desc()))
    assert (log.status, log.inserted) == ("done", 2)
    again, _ = run(client, "invoices", data, confirm=False)
    assert "Без изменений 2" in text(again)
    assert len(stored(session, "EXT-1")) == 1


def test_an_invoice_confirmed_on_import_and_a_bad_line_refuses_the_file(session, login):
    deal, lines = owed_contract(session, count=2)
    client = inv_user(session, login, {"import.invoices": "yes", **ORGS})
    rows = invoice_rows(deal, lines, "EXT-2", "да")
    rows[1][5] = "999,00"
    preview, done = run(client, "invoices", csv_bytes(INVOICE_HEADER, *rows, delimiter=","))
    page = text(preview)
    assert "Нет оказанной по договору и не выставленной в счёт услуги" in page
    assert "Счёт не загружается из-за ошибки в строке 3" in page
    assert stored(session, "EXT-2") == [] and states(session, lines) == ["rendered"] * 2
    _, done = run(client, "invoices", csv_bytes(INVOICE_HEADER,
                                                *invoice_rows(deal, lines, "EXT-2", "да")))
    assert "Файл загружен" in text(done)
    [invoice] = stored(session, "EXT-2")
    assert invoice.state == "confirmed" and invoice.number_seq


def test_invoice_rules_of_the_screen_apply(session, login):
    deal, lines = owed_contract(session, count=1)
    data = csv_bytes(INVOICE_HEADER, *invoice_rows(deal, lines, "EXT-3"))
    # The import right without the invoice kind's right: the row is refused by the rule.
    no_kind = inv_user(session, login, {"import.invoices": "yes"})
    page = text(run(no_kind, "invoices", data, confirm=False)[0])
    assert "Будет добавлено 0" in page and "Строк с ошибками 1" in page
    # Another branch's user does not see the contract.
    elsewhere = inv_user(session, login, {"import.invoices": "yes", **ORGS}, home="SPB-NEV",
                         scope="own_unit")
    page = text(run(elsewhere, "invoices", data, confirm=False)[0])
    assert f"Нет договора № «{deal.number}» среди доступных вам" in page
    assert stored(session, "EXT-3") == []


def confirmed_invoice(session, kind="organisation", count=2):
    deal, lines = owed_contract(session, count=count, kind=kind)
    admin = resolve(session, session.scalar(select(AppUser).filter_by(username="admin")))
    invoice = invoice_from_lines(session, admin, contract_id=deal.id,
                                 invoice_date=dt.date.today(), line_ids=[r.id for r in lines],
                                 external_number=f"PAY-{deal.id}", confirm=True)
    session.commit()
    return invoice, lines


#: The payments import, «изменение» of the organisations' accounts (the payer's account is
#: opened by the import when he has none yet) and the invoices it pays (seen).
PAYER = {"import.invoice_payments": "yes", "payment.organisation_accounts": "edit",
         "invoice.organisations": "view"}


def test_payments_pay_the_invoice_and_a_rerun_changes_nothing(session, login):
    invoice, lines = confirmed_invoice(session)
    half = (invoice.total / 2).quantize(Decimal("0.01"))
    rows = [["ПП-1", day(ago(1)), invoice.number, day(invoice.invoice_date), str(half)],
            ["ПП-2", day(ago(0)), invoice.external_number, day(invoice.invoice_date),
             str(invoice.total - half)]]
    data = csv_bytes(PAYMENT_HEADER, *rows, encoding="cp1251")
    client = inv_user(session, login, PAYER)
    preview, done = run(client, "invoice_payments", data)
    assert "Будет добавлено 2" in text(preview)
    assert "Файл загружен" in text(done)
    session.expire_all()
    invoice = session.get(Invoice, invoice.id)
    assert invoice.state == "paid" and invoice.paid_amount == invoice.total
    assert set(states(session, lines)) == {"paid"}
    again, _ = run(client, "invoice_payments", data, confirm=False)
    assert "Без изменений 2" in text(again)
    # The same statement as an XLSX workbook (dates and amounts as typed cells).
    book = xlsx_bytes([PAYMENT_HEADER, *[[r[0], ago(1), r[2], invoice.invoice_date,
                                          float(r[4])] for r in rows[:1]]])
    assert "Без изменений 1" in text(run(client, "invoice_payments", book, "выписка.xlsx",
                                         confirm=False)[0])
    changed = csv_bytes(PAYMENT_HEADER, [*rows[0][:4], "1,00"])
    page = text(run(client, "invoice_payments", changed, confirm=False)[0])
    assert "Платёж № ПП-1 уже загружен с другим счётом или суммой" in page


def test_a_payment_beyond_the_invoice_refuses_the_whole_file(session, login):
    invoice, _lines = confirmed_invoice(session)
    rows = [["ПП-3", day(ago(0)), invoice.number, day(invoice.invoice_date), "1,00"],
            ["ПП-4", day(ago(0)), invoice.number, day(invoice.invoice_date),
             str(invoice.total)]]
    client = inv_user(session, login, PAYER)
    preview, _ = run(client, "invoice_payments", csv_bytes(PAYMENT_HEADER, *rows))
    assert "К оплате по счёту осталось" in text(preview)
    session.expire_all()
    assert session.get(Invoice, invoice.id).paid_amount == 0
    assert session.scalar(select(Transaction).where(
        Transaction.idem_key.like("bank:ПП-3%"))) is None


def test_payments_stay_in_the_users_branch_and_need_the_account_right(session, login):
    invoice, _lines = confirmed_invoice(session)
    data = csv_bytes(PAYMENT_HEADER, ["ПП-5", day(ago(0)), invoice.number,
                                      day(invoice.invoice_date), "1,00"])
    elsewhere = inv_user(session, login, PAYER, home="SPB-NEV", scope="own_unit")
    page = text(run(elsewhere, "invoice_payments", data, confirm=False)[0])
    assert "не найден среди счетов вашего филиала" in page
    viewer = inv_user(session, login, {**PAYER, "payment.organisation_accounts": "view"})
    page = text(run(viewer, "invoice_payments", data, confirm=False)[0])
    assert "Будет добавлено 0" in page and "Строк с ошибками 1" in page
