"""Each import of the «Импорт» page behind its right (allowed / refused), with a template,
a preview of insert / update / unchanged, per-row Russian errors, all or nothing and an
idempotent re-run: service sets, composite services, counterparties, programme terms,
price lists of several categories."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.parties import Individual, Insurer, Organisation
from models.pricelist import (
    Price,
    Service,
    ServiceComponent,
    ServiceSet,
    ServiceSetItem,
)
from models.programmes import ProgrammeService
from models.refbooks import PriceCategory, PriceType
from tests.contract_rows import contract, count, programme, user_with
from tests.imports.import_rows import csv_bytes, run, text
from tests.support import unit

RIGHTS = {
    "service_sets": "import.service_sets",
    "composite_services": "import.composite_services",
    "counterparties": "import.counterparties",
    "programme_terms": "import.contracts",
    "price_lists": "import.price_lists",
    "attachments": "import.attachments",
    "contracts": "import.contracts",
    "invoices": "import.invoices",
    "invoice_payments": "import.invoice_payments",
}


@pytest.fixture
def services(session):
    made = [Service(code=f"CI-S{i}", name=f"Услуга {i}", insurance="none",
                    composite=i == 0) for i in range(4)]
    session.add_all(made)
    session.commit()
    return made


@pytest.mark.parametrize("code", sorted(RIGHTS))
def test_each_import_is_allowed_by_its_right_and_refused_without(session, login, code):
    allowed = user_with(session, login, {RIGHTS[code]: "yes"})
    page = allowed.get(f"/imports/{code}/")
    assert page.status_code == 200 and "Проверить файл" in text(page)
    template = allowed.get(f"/imports/{code}/template")
    assert template.status_code == 200
    header = [c.value for c in load_workbook(io.BytesIO(template.data)).active[1]]
    assert header and all(header)
    assert code in allowed.get("/").get_data(as_text=True) or code == "service_prices"
    other = next(c for c in RIGHTS if RIGHTS[c] != RIGHTS[code])
    refused = user_with(session, login, {RIGHTS[other]: "yes"})
    for response in (refused.get(f"/imports/{code}/"),
                     refused.get(f"/imports/{code}/template"),
                     refused.post(f"/imports/{code}/preview",
                                  data={"file": (io.BytesIO(b"x;y"), "a.csv")},
                                  content_type="multipart/form-data")):
        assert response.status_code in (302, 403)
        assert "/job/" not in response.headers.get("Location", "")
    assert f"/imports/{code}/" not in refused.get("/").get_data(as_text=True)


SET_HEADER = ["Код набора", "Наименование набора", "Цена набора", "Код услуги", "Количество"]


def test_service_sets(session, login, services):
    client = user_with(session, login, {"import.service_sets": "yes"})
    data = csv_bytes(SET_HEADER, ["CI-SET", "Чек-ап", "1500,00", "CI-S1", ""],
                     ["CI-SET", "Чек-ап", "1500,00", "CI-S2", "2"])
    preview, done = run(client, "service_sets", data)
    assert "Будет добавлено 2" in text(preview) and "Добавлено 2" in text(done)
    found = session.scalar(select(ServiceSet).where(ServiceSet.code == "CI-SET"))
    assert found.price == Decimal("1500.00")
    assert count(session, ServiceSetItem, ServiceSetItem.set_id == found.id) == 2
    again, _ = run(client, "service_sets", data, confirm=False)
    assert "Без изменений 2" in text(again)
    bad = csv_bytes(SET_HEADER, ["CI-SET2", "Другой", "0", "CI-S1", "1"],
                    ["CI-SET3", "Третий", "10", "НЕТ", "1"],
                    ["CI-SET4", "Четвёртый", "10", "CI-S1", "-1"])
    preview, _ = run(client, "service_sets", bad, confirm=False)
    page = text(preview)
    assert "2 Цена набора Сумма должна быть больше нуля" in page
    assert "3 Код услуги Нет услуги с кодом «НЕТ»" in page
    assert "4 Количество Ожидается целое число больше нуля: «-1»" in page
    assert count(session, ServiceSet, ServiceSet.code.in_(["CI-SET2", "CI-SET3"])) == 0


def test_composite_services(session, login, services):
    client = user_with(session, login, {"import.composite_services": "yes"})
    head = ["Код сложной услуги", "Код входящей услуги", "Количество"]
    data = csv_bytes(head, ["CI-S0", "CI-S1", "1"], ["CI-S0", "CI-S2", "3"])
    _, done = run(client, "composite_services", data)
    assert "Добавлено 2" in text(done)
    changed = csv_bytes(head, ["CI-S0", "CI-S1", "2"], ["CI-S0", "CI-S2", "3"])
    _, done = run(client, "composite_services", changed)
    assert "Изменено 1" in text(done) and "Без изменений 1" in text(done)
    bad = csv_bytes(head, ["CI-S1", "CI-S2", "1"], ["CI-S0", "CI-S0", "1"])
    preview, _ = run(client, "composite_services", bad, confirm=False)
    page = text(preview)
    assert "Услуга «Услуга 1» не отмечена как сложная" in page
    assert "Услуга не может входить в саму себя" in page
    assert count(session, ServiceComponent,
                 ServiceComponent.composite_id == services[0].id) == 2


CP_HEADER = ["Вид", "Код", "Наименование", "ИНН", "Фамилия", "Имя", "Отчество",
             "Дата рождения"]


def test_counterparties(session, login):
    client = user_with(session, login, {"import.counterparties": "yes"})
    data = csv_bytes(CP_HEADER,
                     ["Организация", "CI-ORG", "ООО «Ромашка»", "7707083893", "", "", "", ""],
                     ["Страховая компания", "CI-INS", "СК «Надёжная»", "", "", "", "", ""],
                     ["Физическое лицо", "", "", "", "Плательщиков", "Пётр", "", "01.02.1970"])
    preview, done = run(client, "counterparties", data)
    assert "Будет добавлено 3" in text(preview) and "Добавлено 3" in text(done)
    org = session.scalar(select(Organisation).where(Organisation.code == "CI-ORG"))
    assert org.unit_id == unit(session, "MSK-TVR").id
    assert count(session, Insurer, Insurer.code == "CI-INS") == 1
    assert count(session, Individual, Individual.last_name == "Плательщиков") == 1
    again, _ = run(client, "counterparties", data, confirm=False)
    assert "Без изменений 3" in text(again)
    bad = csv_bytes(CP_HEADER,
                    ["Банк", "CI-X", "Х", "", "", "", "", ""],
                    ["Организация", "CI-Y", "Игрек", "1234567890", "", "", "", ""],
                    ["Физическое лицо", "", "", "", "", "Имя", "", ""])
    page = text(run(client, "counterparties", bad, confirm=False)[0])
    assert "2 Вид Вид «Банк» не распознан" in page
    assert "3 ИНН ИНН «1234567890» неверен (контрольные цифры)" in page
    assert "4 Фамилия Не заполнено" in page


def test_programme_terms(session, login, services):
    client = user_with(session, login, {"import.contracts": "yes"})
    prog = programme(session, contract(session))
    session.commit()
    head = ["Код программы", "Код услуги", "Максимум услуг за период"]
    data = csv_bytes(head, [prog.code, "CI-S1", "5"], [prog.code, "CI-S2", ""])
    _, done = run(client, "programme_terms", data)
    assert "Добавлено 2" in text(done)
    assert count(session, ProgrammeService, ProgrammeService.programme_id == prog.id) == 2
    page = text(run(client, "programme_terms", csv_bytes(head, ["НЕТ", "CI-S1", "1"]),
                    confirm=False)[0])
    assert "Нет медицинской программы с кодом «НЕТ» среди доступных вам" in page


def test_price_lists_of_several_categories_in_one_file(session, login, services):
    kind = PriceType(code="CI-PT", name="Платные (импорт)", funding="paid")
    categories = [PriceCategory(code=f"CI-CAT{i}", name=f"Категория {i}", price_type=kind,
                                branches=[unit(session, code)])
                  for i, code in enumerate(("MSK-TVR", "SPB-NEV"))]
    session.add_all(categories)
    session.commit()
    client = user_with(session, login, {"import.price_lists": "yes"})
    head = ["Код услуги", "Категория цен", "Действует с", "Цена"]
    data = csv_bytes(head, ["CI-S1", "CI-CAT0", "01.01.2026", "100"],
                     ["CI-S1", "CI-CAT1", "01.01.2026", "120"])
    preview, done = run(client, "price_lists", data)
    assert "Будет добавлено 2" in text(preview) and "Добавлено 2" in text(done)
    stored = session.scalars(select(Price.amount).where(Price.service_id == services[1].id)
                             .order_by(Price.amount)).all()
    assert stored == [Decimal("100.00"), Decimal("120.00")]
    again, _ = run(client, "price_lists", data, confirm=False)
    assert "Без изменений 2" in text(again)


def test_the_price_list_import_runs_on_the_framework_and_is_logged(session, login, services):
    from models.imports import ImportLog

    kind = PriceType(code="CI-PT2", name="Платные (импорт 2)", funding="paid")
    mine = PriceCategory(code="CI-OWN", name="Своя", price_type=kind,
                         branches=[unit(session, "MSK-TVR")])
    theirs = PriceCategory(code="CI-THEIRS", name="Чужая", price_type=kind,
                           branches=[unit(session, "SPB-NEV")])
    session.add_all([mine, theirs])
    session.commit()
    client = user_with(session, login, {"import.service_prices": "own"})
    head = ["Код услуги", "Категория цен", "Действует с", "Цена"]
    refused = csv_bytes(head, ["CI-S1", "CI-THEIRS", "01.01.2026", "100"])
    page = text(run(client, "service_prices", refused, confirm=False)[0])
    assert "Категория цен «CI-THEIRS» другого филиала: импорт в неё вам запрещён" in page
    data = csv_bytes(head, ["CI-S1", "CI-OWN", "01.01.2026", "100"])
    _, done = run(client, "service_prices", data, close_open="1")
    assert "Добавлено 1" in text(done)
    log = session.scalars(select(ImportLog).where(ImportLog.kind == "service_prices")).one()
    assert (log.status, log.inserted, log.filename) == ("done", 1, "file.csv")
    # «нет доступа» (the catalogue's default) refuses the screen, the template and the upload.
    none = user_with(session, login, {"import.service_sets": "yes"})
    for response in (none.get("/imports/service_prices/"),
                     none.get("/imports/service_prices/template"),
                     none.post("/imports/service_prices/preview",
                               data={"file": (io.BytesIO(data), "a.csv")},
                               content_type="multipart/form-data")):
        assert response.status_code in (302, 403)
        assert "/job/" not in response.headers.get("Location", "")


def test_a_rule_refusing_with_forbidden_is_the_rows_error(session, login, services,
                                                          monkeypatch):
    """Row by row too (ModelImport): a rule's Forbidden is the row's Russian error at
    its field's column, the other rows are checked, nothing is written."""
    from core.errors import Forbidden
    from services.imports.pricelist_specs import ServiceSetImport

    original = ServiceSetImport.check

    def check(self, session, ctx, obj):
        if obj.quantity == 7:  # a set item
            raise Forbidden("Количество больше пяти — только с правом «Наборы»",
                            field="quantity")
        return original(self, session, ctx, obj)

    monkeypatch.setattr(ServiceSetImport, "check", check)
    client = user_with(session, login, {"import.service_sets": "yes"})
    data = csv_bytes(SET_HEADER, ["CI-OK", "Годный", "100", "CI-S1", "1"],
                     ["CI-NO", "Запретный", "100", "CI-S2", "7"])
    preview, _ = run(client, "service_sets", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 1" in page and "Сбой" not in page
    assert "3 Количество Количество больше пяти — только с правом «Наборы»" in page
    assert count(session, ServiceSetItem, ServiceSetItem.service_id.in_(
        [services[1].id, services[2].id])) == 0
