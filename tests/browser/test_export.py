"""An accountant exports a month's cash revenue to accounting in the browser:
«Документы» → «Экспорт в бухгалтерию: выручка по кассе», types the period, picks
«Тверской» and the 1C XML format, presses «Выгрузить», watches the progress finish,
sees the file and its row in the log; exports the same month again and sees
«повторная выгрузка»; then exports it as XLSX and downloads the workbook."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.ui import choose, flashes, open_menu, type_date

TODAY = dt.date.today()
MENU = "Экспорт в бухгалтерию: выручка по кассе"


def export(page, fmt: str) -> None:
    """Fill the form for this month of «Тверской» in `fmt`, press «Выгрузить» and wait
    for the job page to finish (it polls its status and reloads)."""
    type_date(page, "#start", TODAY.replace(day=1))
    type_date(page, "#end", TODAY)
    choose(page, "branch_id", "Тверской")
    choose(page, "fmt", fmt)
    with page.expect_navigation():
        page.locator("#export-start").click()
    # The job page polls its job and reloads once it is done.
    expect(page.locator("#export-done")).to_contain_text("Выгружено документов",
                                                         timeout=30_000)
    expect(page.locator("#import-state")).to_have_text("Готово")
    assert flashes(page, "danger") == [], flashes(page)


def test_accountant_exports_a_month_twice_and_downloads_xlsx(page, signed_in):
    signed_in("accountant")
    open_menu(page, "Документы", MENU)
    expect(page.locator("h2")).to_have_text(MENU)

    export(page, "EnterpriseData")
    expect(page.locator("#export-repeat")).to_have_count(0)
    with page.expect_download() as download:
        page.locator("#export-download").click()
    xml = ARTIFACTS / "export.xml"
    download.value.save_as(xml)
    text = xml.read_text(encoding="utf-8")
    assert "Документ.ОтчетОРозничныхПродажах" in text

    page.locator("a", has_text="К журналу выгрузок").click()
    rows = page.locator("#export-log tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Тверской")
    expect(rows.first).not_to_contain_text("повторная")

    export(page, "EnterpriseData")
    expect(page.locator("#export-repeat")).to_have_text("Это повторная выгрузка периода.")
    page.locator("a", has_text="К журналу выгрузок").click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("повторная выгрузка")

    export(page, "XLSX")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    workbook = ARTIFACTS / "export.xlsx"
    download.value.save_as(workbook)
    sheet = load_workbook(workbook, read_only=True).worksheets[0]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "Выручка по кассе" in cells and "Код экспорта" in cells, cells[:20]


def test_accountant_exports_the_months_invoices_to_counterparties(page, signed_in):
    """The other export: «… счета контрагентам» of «Тверской» this month holds the
    demo's confirmed invoice to an insurer, with the counterparty's ИНН."""
    menu = "Экспорт в бухгалтерию: счета контрагентам"
    signed_in("accountant")
    open_menu(page, "Документы", menu)
    expect(page.locator("h2")).to_have_text(menu)
    export(page, "EnterpriseData")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    xml = ARTIFACTS / "export-invoices.xml"
    download.value.save_as(xml)
    text = xml.read_text(encoding="utf-8")
    assert "Документ.РеализацияТоваровУслуг" in text
    assert "Справочник.Контрагенты" in text and "<ИНН>" in text
