"""Issue 14 in the browser: a registrar invoices a patient, confirms and prints; an
accountant invoices an insurer under a DMS contract for a period, confirms and
reverses the invoice (storno)."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, login
from tests.browser.ui import amount, flashes, open_menu, type_date

DMS_CONTRACT = "ДМС-2026/001"  # the demo DMS contract of «Тверской»


def test_registrar_invoices_a_patient_confirms_and_prints(page, base_url):
    login(page, "registrar")
    open_menu(page, "Документы", "Счета пациентам")
    with page.expect_navigation():
        page.locator("a[href*='/patientinvoiceview/add']").first.click()
    owing = page.locator("#found-patients a")
    assert owing.count() > 0, "no patient of «Тверской» owes services in the demo"
    name = owing.first.inner_text()
    with page.expect_navigation():
        owing.first.click()
    lines = page.locator("#owed-lines tbody input[type=checkbox]")
    assert lines.count() > 0
    expected = sum(amount(t) for t in page.locator("#owed-lines tbody tr td:last-child")
                   .all_inner_texts())
    with page.expect_navigation():
        page.locator("#make-invoice").click()
    assert "/patientinvoiceview/show/" in page.url, flashes(page)
    expect(page.locator("#invoice-state")).to_have_text("Черновик")
    assert amount(page.locator("#invoice-total").inner_text()) == expected
    assert name.split()[0] in page.locator("#invoice-payer").inner_text()

    with page.expect_navigation():
        page.locator("#invoice-confirm").click()
    expect(page.locator("#invoice-state")).to_have_text("Подтверждён")
    heading = page.locator("h2").first.inner_text()
    assert "Счёт №" in heading and dt.date.today().strftime("%d.%m.%Y") in heading
    href = page.locator("#invoice-print").get_attribute("href")
    printed = page.request.get(base_url + href)
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    page.screenshot(path=str(ARTIFACTS / "registrar-invoice-card.png"), full_page=True)
    open_menu(page, "Документы", "Счета пациентам")
    expect(page.locator("table.table tbody tr", has_text=name.split()[0]).first).to_be_visible()


def test_accountant_invoices_an_insurer_for_a_period_and_reverses(page):
    login(page, "accountant")
    open_menu(page, "Документы", "Счета организациям и страховым компаниям")
    with page.expect_navigation():
        page.locator("a[href*='/organisationinvoiceview/add']").first.click()
    option = page.locator("#contract option", has_text=DMS_CONTRACT).first
    page.locator("#contract").select_option(value=option.get_attribute("value"))
    today = dt.date.today()
    # Before the demo's own invoices (the last 14 days).
    type_date(page, "#period_from", today - dt.timedelta(days=60))
    type_date(page, "#period_to", today - dt.timedelta(days=15))
    with page.expect_navigation():
        page.locator("#make-invoice").click()
    assert "/organisationinvoiceview/show/" in page.url, flashes(page)
    total = amount(page.locator("#invoice-total").inner_text())
    assert total > 0
    expect(page.locator("#invoice-lines tbody tr").first).to_be_visible()

    with page.expect_navigation():
        page.locator("#invoice-confirm").click()
    expect(page.locator("#invoice-state")).to_have_text("Подтверждён")
    original = page.url

    page.locator("#reason").fill("Разделение оплат по договору")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#invoice-storno").click()
    assert page.url != original, flashes(page)
    expect(page.locator("#invoice-state")).to_have_text("Подтверждён")
    assert amount(page.locator("#invoice-total").inner_text()) == -total
    assert "Сторнирует счёт" in page.locator("table").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "accountant-storno.png"), full_page=True)
    page.goto(original)
    expect(page.locator("#invoice-state")).to_have_text("Сторнирован")
