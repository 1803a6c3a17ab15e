"""Issue 16 in the browser: every import besides counterparties and invoice payments
(tests/browser/test_imports.py, test_imports_payments.py), each as the demo user who
holds its right — the accountant for «Импорт счетов», the administrator for the rest
(no demo role holds those rights, security/presets.yaml).

Each scenario opens the import from the menu, downloads the template (an XLSX with the
Russian headers), chooses a small file built from the demo data (read from the served
app's SQLite database, as tests/browser/test_cashier.py does), sees the preview with
the count of rows to add, presses «Загрузить», watches the progress finish and finds
the result on the screen where people look for it. The service sets' scenario first
chooses a file with an unknown service and sees that row's Russian error; the
vouchers' file is an XLSX with real date cells, whose preview must show the dates as
ДД.ММ.ГГГГ, and the voucher's doctor, nurse, diagnosis and referring office (the
doctor then shows in the voucher list).

The served app's database is shared by every browser test of the run: rows are new
(numbers and codes carry a stamp of the run) and go to branches, programmes and
contracts that the other scenarios do not use (Казань, the SPb organisation's
programme, the Марьино DMS contract); prices start in 2099.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import _SERVER, login
from tests.browser.test_imports import summary
from tests.browser.ui import open_menu

TODAY = dt.date.today()
STAMP = f"{time.time_ns() // 1000 % 10**7:07d}"  # new codes and numbers for each run
FUTURE = dt.date(2099, 1, 1) + dt.timedelta(days=int(STAMP) % 3000)


def ru(day) -> str:
    """Return a date as a Russian file holds it: ДД.ММ.ГГГГ."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return f"{day:%d.%m.%Y}"


def query(sql: str, **params) -> list:
    """Return the rows of a query on the served app's database (skips when the tests
    run against an app whose database is not this run's, unless UCHET_BROWSER_DB names
    its SQLite file)."""
    path = os.environ.get("UCHET_BROWSER_DB")
    if not path:
        if os.environ.get("UCHET_BROWSER_URL") or not _SERVER:
            pytest.skip("the served app's database is not this run's")
        path = str(_SERVER["workdir"] / "uchet.sqlite3")
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    engine.dispose()
    assert rows, f"the demo data has no row for {sql}"
    return rows


@dataclass
class Scenario:
    """One import as a person runs it."""

    user: str
    menu: tuple[str, str]
    title: str
    header: list[str]
    rows: list[list]
    inserted: int
    result: str                      # the list's address where the result shows
    shown: list[str]                 # texts the result's row shows
    xlsx: bool = False
    hub: bool = False                # reached through «Все импорты» and its template link
    bad: list[list] | None = None    # a first file with one bad row…
    error: str = ""                  # …and that row's Russian error
    extra: dict = field(default_factory=dict)
    previewed: list[str] = field(default_factory=list)  # texts every preview row shows


def service_sets() -> Scenario:
    a, b = (r.code for r in query(
        "SELECT code FROM price_service WHERE composite = 0 AND active = 1 "
        "ORDER BY id LIMIT 2"))
    code, name = f"BR-SET-{STAMP}", f"Набор из браузера {STAMP}"
    rows = [[code, name, "1 990,00", a, "1"], [code, name, "1 990,00", b, ""]]
    return Scenario(
        "admin", ("Документы", "Импорт наборов услуг"), "Импорт наборов услуг",
        ["Код набора", "Наименование набора", "Цена набора", "Код услуги", "Количество"],
        rows, 2, f"/servicesetview/list/?_flt_0_code={code}", [code, name],
        bad=[rows[0], [code, name, "1 990,00", "НЕТ-ТАКОЙ", ""]],
        error="Нет услуги с кодом «НЕТ-ТАКОЙ»")


def composite_services() -> Scenario:
    composite, = query("SELECT id, code, name FROM price_service WHERE code = 'CMP-010'")
    part = query(
        "SELECT code, name FROM price_service s WHERE composite = 0 AND active = 1 "
        "AND NOT EXISTS (SELECT 1 FROM price_service_component c WHERE c.composite_id = "
        ":c AND c.component_id = s.id) ORDER BY id DESC LIMIT 1", c=composite.id)[0]
    return Scenario(
        "admin", ("Документы", "Импорт состава сложных услуг"),
        "Импорт состава сложных услуг",
        ["Код сложной услуги", "Код входящей услуги", "Количество"],
        [[composite.code, part.code, "2"]], 1,
        f"/servicecomponentview/list/?_flt_0_composite={composite.id}",
        [part.name, composite.name])


def service_prices(menu=("Прейскурант", "Импорт прейскуранта"),
                   title="Импорт прейскуранта услуг", categories=("VOLGA",)) -> Scenario:
    # A service no earlier run priced in 2099 or later (a later price would overlap).
    service = query("""
        SELECT code, name FROM price_service s WHERE composite = 0 AND active = 1
          AND NOT EXISTS (SELECT 1 FROM price_price p WHERE p.service_id = s.id
                          AND p.valid_from >= '2099-01-01')
        ORDER BY id DESC LIMIT 1 OFFSET :n""", n=len(categories))[0]
    rows = [[service.code, category, ru(FUTURE), "", f"{1000 + i},50", "RUB", ""]
            for i, category in enumerate(categories)]
    return Scenario(
        "admin", menu, title,
        ["Код услуги", "Категория цен", "Действует с", "Действует по", "Цена", "Валюта",
         "Налог"], rows, len(rows), "/priceview/list/?_oc_PriceView=valid_from&"
        "_od_PriceView=desc", [service.name, ru(FUTURE)])


def price_lists() -> Scenario:
    return service_prices(("Документы", "Импорт прейскурантов"), "Импорт прейскурантов",
                          ("SPB", "OMS"))


def contracts() -> Scenario:
    number = f"ИМП-{STAMP}"
    payer, = query("SELECT code, name FROM ctr_organisation WHERE code = 'LINGVA'")
    return Scenario(
        "admin", ("Документы", "Импорт договоров"), "Импорт договоров",
        ["Номер договора", "Дата договора", "Вид договора", "Способ оплаты", "Плательщик",
         "Филиал", "Действует с", "Действует по", "Сумма договора"],
        [[number, ru(TODAY), "С организацией", "По факту оказания услуг", payer.code,
          "MSK-ARB", ru(TODAY), ru(TODAY.replace(year=TODAY.year + 1)), "150 000,00"]], 1,
        f"/contractview/list/?_flt_0_number={number}", [number, payer.name])


#: the SPb organisation's programme: no other scenario renders its services.
PROGRAMME = "ORG-СПБ-ОРГ-2025/017-1"


def programme_terms() -> Scenario:
    programme, = query("SELECT id, name FROM ctr_programme WHERE code = :c", c=PROGRAMME)
    service = query(
        "SELECT code, name FROM price_service s WHERE composite = 0 AND active = 1 AND NOT "
        "EXISTS (SELECT 1 FROM ctr_programme_service p WHERE p.programme_id = :p AND "
        "p.service_id = s.id) ORDER BY id DESC LIMIT 1 OFFSET 7", p=programme.id)[0]
    return Scenario(
        "admin", ("Документы", "Импорт условий медпрограмм"), "Импорт условий медпрограмм",
        ["Код программы", "Код услуги", "Максимум услуг за период"],
        [[PROGRAMME, service.code, "3"]], 1,
        f"/programmeserviceview/list/?_flt_0_programme={programme.id}",
        [service.name, programme.name])


#: patients of «Казань-Центр» nobody else's scenario touches, by a unique name.
KAZAN_PATIENTS = """
    SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date FROM pat_patient p
    JOIN org_unit u ON u.id = p.home_branch_id WHERE u.code = 'KZN-CEN'
      AND NOT EXISTS (SELECT 1 FROM pat_attachment a WHERE a.patient_id = p.id)
      AND (SELECT count(*) FROM pat_patient q WHERE q.name_key = p.name_key
           AND q.birth_date = p.birth_date) = 1
    ORDER BY p.id"""


def attachments() -> Scenario:
    patient = query(KAZAN_PATIENTS + " LIMIT 1 OFFSET 1")[0]
    policy = f"ПОЛ-{STAMP}"
    return Scenario(
        "admin", ("Документы", "Импорт прикреплений"), "Импорт прикреплений",
        ["Фамилия", "Имя", "Отчество", "Дата рождения", "Код программы", "Прикреплён с",
         "Прикреплён по", "Номер полиса"],
        [[patient.last_name, patient.first_name, patient.middle_name or "",
          ru(patient.birth_date), PROGRAMME, ru(TODAY), "", policy]], 1,
        f"/attachmentview/list/?_flt_0_policy_number={policy}",
        [policy, patient.last_name, PROGRAMME, ru(TODAY)])


def invoices() -> Scenario:
    line = query("""
        SELECT s.code, l.service_date, l.quantity, l.amount, p.last_name, p.first_name,
               p.middle_name, c.number, c.id AS contract_id FROM vch_line l
        JOIN ctr_contract c ON c.id = l.contract_id JOIN price_service s ON s.id = l.service_id
        JOIN vch_voucher v ON v.id = l.voucher_id JOIN pat_patient p ON p.id = v.patient_id
        WHERE c.number = 'ДМС-С-2026/002' AND l.state = 'rendered'
          AND NOT EXISTS (SELECT 1 FROM inv_line i WHERE i.voucher_line_id = l.id)
        ORDER BY l.service_date DESC, l.id DESC LIMIT 1""")[0]
    number = f"ВН-{STAMP}"
    patient = " ".join(filter(None, (line.last_name, line.first_name, line.middle_name)))
    amount = f"{line.amount:.2f}".replace(".", ",")
    return Scenario(
        "accountant", ("Документы", "Импорт счетов"), "Импорт счетов",
        ["Номер счёта", "Дата счёта", "Номер договора", "Код услуги", "Дата услуги",
         "Пациент", "Количество", "Сумма"],
        [[number, ru(TODAY), line.number, line.code, ru(line.service_date), patient,
          str(line.quantity), amount]], 1,
        f"/organisationinvoiceview/list/?_flt_0_contract={line.contract_id}",
        ["Черновик", line.number, ru(TODAY)], hub=True)


STAFF = """
    SELECT e.last_name, e.first_name, e.middle_name FROM staff_employee e
    JOIN org_unit u ON u.id = e.branch_id WHERE u.code = 'KZN-CEN' AND e.active = 1
      AND e.is_doctor = :doctor AND (SELECT count(*) FROM staff_employee f
           WHERE f.branch_id = e.branch_id AND f.last_name = e.last_name
             AND f.first_name = e.first_name) = 1
    ORDER BY e.id LIMIT 1"""


def vouchers() -> Scenario:
    patient = query(KAZAN_PATIENTS + " LIMIT 1")[0]
    services = query("""
        SELECT s.code, s.name FROM price_service s JOIN price_price p ON p.service_id = s.id
        JOIN ref_price_category c ON c.id = p.category_id
        WHERE c.code = 'VOLGA' AND s.composite = 0 AND s.active = 1
          AND p.valid_from <= :d AND (p.valid_to IS NULL OR p.valid_to >= :d)
        ORDER BY s.id LIMIT 2""", d=TODAY.isoformat())
    # The voucher's staff, diagnosis and referring office (a Kazan client's office).
    doctor, nurse = (" ".join(filter(None, query(STAFF, doctor=d)[0])) for d in (1, 0))
    number = f"Т-{STAMP}"
    born = dt.date.fromisoformat(str(patient.birth_date)[:10])
    rows = [[number, "KZN-CEN", TODAY, patient.last_name, patient.first_name,
             patient.middle_name or "", born, s.code, 1, None, None, "из браузера", doctor,
             nurse, "J06.9", "CL3-B1", ""]
            for s in services]
    short = doctor.split()[0]
    return Scenario(
        "admin", ("Документы", "Импорт талонов"), "Импорт талонов",
        ["Номер талона", "Код филиала", "Дата", "Фамилия", "Имя", "Отчество",
         "Дата рождения", "Код услуги", "Количество", "Цена", "Скидка, %", "Примечание",
         "Врач", "Медсестра", "Диагноз", "Направившее подразделение", "Плательщик"],
        rows, 2, "/voucherview/list/?_oc_VoucherView=id&_od_VoucherView=desc",
        [f"{patient.last_name} {patient.first_name}", "Казань-Центр", ru(TODAY), short],
        xlsx=True, hub=True, previewed=[doctor, nurse, "J06.9", "CL3-B1"])


SCENARIOS = {f.__name__: f for f in (service_prices, price_lists, service_sets,
                                     composite_services, contracts, programme_terms,
                                     attachments, invoices, vouchers)}


def write(tmp_path: Path, name: str, scenario: Scenario, rows: list[list]) -> Path:
    """Write the file a person would choose: XLSX (with date cells) or CSV in
    Windows-1251 with «;»."""
    if scenario.xlsx:
        path = tmp_path / f"{name}.xlsx"
        book = Workbook()
        sheet = book.active
        sheet.append(scenario.header)
        for row in rows:
            sheet.append(row)
        book.save(path)
        return path
    path = tmp_path / f"{name}.csv"
    lines = [";".join(scenario.header), *(";".join(str(c) for c in r) for r in rows)]
    path.write_bytes("\n".join(lines).encode("cp1251"))
    return path


def check_file(page, path: Path) -> None:
    """Choose the file, press «Проверить файл» and wait for the check to finish."""
    page.locator("#import-file").set_input_files(str(path))
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Проверить файл").click()
    expect(page.locator("#import-state")).to_have_text("Готово", timeout=30_000)


def no_raw_values(page) -> None:
    """The job's page shows no ISO date, no amount written the English way
    («1550.00»), no `None`."""
    content = page.locator("main, .container, body").first.inner_text()
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", content), content
    assert not re.search(r"(?<![\d.])\d+\.\d{2}(?![\d.])", content), content
    assert "None" not in content and "__None" not in content, content


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_import_from_the_browser(page, tmp_path, name):
    scenario = SCENARIOS[name]()
    login(page, scenario.user)
    open_menu(page, *scenario.menu)
    expect(page.locator("h2")).to_have_text(scenario.title)

    templates = page.locator("a", has_text="Шаблон XLSX")
    if scenario.hub:
        with page.expect_navigation():
            page.locator("a", has_text="Все импорты").click()
        expect(page.locator("h2")).to_have_text("Импорт")
        entry = page.locator("tbody tr", has_text=scenario.title)
        expect(entry).to_have_count(1)
        templates = entry.locator("a", has_text="Шаблон XLSX")
    with page.expect_download() as download:
        templates.first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    template = tmp_path / download.value.suggested_filename
    download.value.save_as(template)
    header = [c for c in next(load_workbook(template, read_only=True).worksheets[0]
                              .iter_rows(values_only=True)) if c]
    assert set(scenario.header) <= set(header), header
    if scenario.hub:
        with page.expect_navigation():
            entry.locator("a", has_text=scenario.title).click()
        expect(page.locator("h2")).to_have_text(scenario.title)

    if scenario.bad:
        check_file(page, write(tmp_path, f"{name}-с-ошибкой", scenario, scenario.bad))
        errors = page.locator("#import-errors tbody tr")
        expect(errors).to_have_count(1)
        expect(errors.first).to_contain_text(scenario.error)
        expect(page.locator("#import-confirm")).to_have_count(0)
        with page.expect_navigation():
            page.locator("a", has_text="Исправить и загрузить снова").click()

    check_file(page, write(tmp_path, name, scenario, scenario.rows))
    expect(summary(page, "Будет добавлено")).to_have_text(str(scenario.inserted))
    expect(summary(page, "Строк с ошибками")).to_have_text("0")
    preview = page.locator("#import-preview tbody tr")
    expect(preview).to_have_count(len(scenario.rows))
    for row in preview.all():
        expect(row).to_contain_text("добавится")
        for shown in scenario.previewed:
            expect(row).to_contain_text(shown)
    no_raw_values(page)

    with page.expect_navigation():
        page.locator("#import-confirm").click()
    expect(page.locator("#import-done")).to_have_text("Файл загружен.", timeout=30_000)
    expect(summary(page, "Добавлено")).to_have_text(str(scenario.inserted))
    no_raw_values(page)
    # What the progress bar's poll reads once the job is over.
    status = page.request.get(page.url.rstrip("/") + "/status").json()
    assert (status["finished"], status["percent"], status["label"]) == (True, 100, "Готово")

    page.goto(scenario.result)
    row = page.locator("tr", has=page.locator("a[href*='/show/']"),
                       has_text=scenario.shown[0]).first
    for shown in scenario.shown:
        expect(row).to_contain_text(shown)


def test_accountant_may_not_run_the_administrators_imports(page):
    """The accountant's «Импорт» lists her three imports only, and the others' screens
    refuse her (their rights are the administrator's in the demo)."""
    login(page, "accountant")
    open_menu(page, "Документы", "Импорт счетов")
    with page.expect_navigation():
        page.locator("a", has_text="Все импорты").click()
    titles = page.locator("tbody tr td:first-child a").all_inner_texts()
    assert sorted(titles) == ["Импорт контрагентов", "Импорт оплаты счетов",
                              "Импорт счетов"], titles
    for code in ("vouchers", "service_sets", "contracts", "attachments", "price_lists"):
        assert page.request.get(f"/imports/{code}/").status == 403, code
        assert page.request.get(f"/imports/{code}/template").status == 403, code
