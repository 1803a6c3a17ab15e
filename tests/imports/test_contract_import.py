"""«Импорт договоров» over HTTP: contracts by number checked by the contract form's rule,
their payer by code, their branch in the user's write scope; insert, update, unchanged,
per-row Russian errors, nothing written while a row is wrong."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from models.contracts import Contract
from tests.contract_rows import individual, insurer, organisation, user_with
from tests.imports.import_rows import csv_bytes, run, text

HEADER = ["Номер договора", "Дата договора", "Вид договора", "Плательщик", "Филиал",
          "Действует с", "Действует по", "Сумма договора", "Дата рождения плательщика",
          "Способ оплаты"]


def stored(session, number):
    session.expire_all()
    return session.scalar(select(Contract).where(Contract.number == number))


def test_contracts_inserted_updated_and_left_alone(session, login):
    company, firm = insurer(session), organisation(session)
    person = individual(session, middle_name="Ильич", birth_date=dt.date(1980, 5, 17))
    session.commit()
    client = user_with(session, login, {"import.contracts": "yes"}, scope="own_unit")
    rows = [["ИМП-1/26", "10.01.2026", "ДМС", company.code, "MSK-TVR", "10.01.2026",
             "31.12.2026", ""],
            ["ИМП-2/26", "11.01.2026", "С организацией", firm.code, "", "11.01.2026", "", ""],
            ["ИМП-7/26", "12.01.2026", "Депозитный", f"{person.last_name} Пётр Ильич", "",
             "12.01.2026", "", "20000", "17.05.1980", "Предоплата"]]
    rows[0] += ["", ""]
    rows[1] += ["", ""]
    preview, done = run(client, "contracts", csv_bytes(HEADER, *rows, encoding="cp1251"))
    assert "Будет добавлено 3" in text(preview) and "Файл загружен" in text(done)
    deposit = stored(session, "ИМП-7/26")
    assert (deposit.individual_id, deposit.payment_scheme, str(deposit.amount)) == (
        person.id, "prepaid", "20000.00")
    first = stored(session, "ИМП-1/26")
    assert (first.kind, first.insurer_id, first.branch.code) == ("dms", company.id, "MSK-TVR")
    assert stored(session, "ИМП-2/26").organisation_id == firm.id
    rows[0][6] = "30.06.2026"
    preview, _ = run(client, "contracts", csv_bytes(HEADER, *rows, delimiter=","))
    page = text(preview)
    assert "Будет изменено 1" in page and "Без изменений 2" in page
    assert str(stored(session, "ИМП-1/26").valid_to) == "2026-06-30"


def test_contract_rows_refused_by_the_form_rule_and_the_scope(session, login):
    company = insurer(session)
    session.commit()
    client = user_with(session, login, {"import.contracts": "yes"}, scope="own_unit")
    rows = [["ИМП-3/26", "10.01.2026", "Депозитный", company.code, "", "10.01.2026", "", "",
             "", ""],
            ["ИМП-4/26", "10.01.2026", "ДМС", company.code, "SPB-NEV", "10.01.2026", "", "",
             "", ""],
            ["ИМП-5/26", "10.01.2026", "Бартер", company.code, "", "10.01.2026", "", "", "",
             ""],
            ["ИМП-6/26", "10.01.2026", "С организацией", company.code, "", "10.01.2026", "",
             "", "", ""]]
    page = text(run(client, "contracts", csv_bytes(HEADER, *rows), confirm=False)[0])
    assert "Для физического лица укажите ФИО и дату рождения" in page
    assert "Нет филиала с кодом «SPB-NEV» среди доступных вам для изменения" in page
    assert "«Бартер» не распознано" in page
    assert "укажите плательщика: организацию" in page
    assert "Строк с ошибками 4" in page
    assert stored(session, "ИМП-6/26") is None
