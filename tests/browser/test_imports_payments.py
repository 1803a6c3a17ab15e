"""An accountant imports a bank statement of invoice payments in the browser: she
invoices a patient and confirms the invoice, then «Документы» → «Импорт оплаты счетов»,
chooses a CSV (Windows-1251) whose second payment is more than the invoice still owes,
sees that row's Russian error and no «Загрузить» button, fixes the file, checks it
again, confirms, watches the progress finish, and finds the invoice paid."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from tests.browser.test_imports import check, summary
from tests.browser.ui import amount, flashes, open_menu

HEADER = "Номер платежа;Дата платежа;Номер счёта;Дата счёта;Филиал;Сумма"


def confirmed_patient_invoice(page) -> tuple[str, str, str, str]:
    """Invoice the first patient owing services and confirm it; return the card's
    address, the invoice number («12/2026»), its branch (numbers run per branch) and
    its total as typed in a file."""
    open_menu(page, "Документы", "Счета пациентам")
    with page.expect_navigation():
        page.locator("a[href*='/patientinvoiceview/add']").first.click()
    owing = page.locator("#found-patients a")
    assert owing.count() > 0, "no patient of the accountant's branches owes services"
    with page.expect_navigation():
        owing.first.click()
    with page.expect_navigation():
        page.locator("#make-invoice").click()
    assert "/patientinvoiceview/show/" in page.url, flashes(page)
    with page.expect_navigation():
        page.locator("#invoice-confirm").click()
    expect(page.locator("#invoice-state")).to_have_text("Подтверждён")
    number = re.search(r"№\s*(\d+/\d{4})", page.locator("h2").first.inner_text()).group(1)
    total = amount(page.locator("#invoice-total").inner_text())
    branch = page.locator("tr", has_text="Филиал").locator("td").first.inner_text()
    return page.url, number, branch.strip(), f"{total:.2f}".replace(".", ",")


def test_accountant_imports_invoice_payments(page, signed_in, tmp_path):
    signed_in("accountant")
    card, number, branch, total = confirmed_patient_invoice(page)
    today = f"{dt.date.today():%d.%m.%Y}"
    bad = "\n".join([HEADER, f"ПП-Б-1;{today};{number};{today};{branch};0,01",
                     f"ПП-Б-2;{today};{number};{today};{branch};{total}"])
    good = "\n".join([HEADER, f"ПП-Б-1;{today};{number};{today};{branch};{total}"])

    open_menu(page, "Документы", "Импорт оплаты счетов")
    expect(page.locator("h2")).to_have_text("Импорт оплаты счетов")
    check(page, tmp_path, "выписка.csv", bad)
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("К оплате по счёту осталось")
    expect(page.locator("#import-confirm")).to_have_count(0)

    with page.expect_navigation():
        page.locator("a", has_text="Исправить и загрузить снова").click()
    check(page, tmp_path, "выписка-исправлено.csv", good)
    expect(summary(page, "Будет добавлено")).to_have_text("1")
    with page.expect_navigation():
        page.locator("#import-confirm").click()
    expect(page.locator("#import-done")).to_have_text("Файл загружен.", timeout=20_000)
    expect(summary(page, "Добавлено")).to_have_text("1")

    page.goto(card)
    expect(page.locator("#invoice-state")).to_have_text("Оплачен")


def test_accountant_imports_an_insurers_payment(page, signed_in, tmp_path):
    """The demo DMS invoice of the last two weeks (an insurer's, «Ингосстрах») is part
    paid by a bank payment in the file; its card lists the payment, and the insurer's
    personal account (opened by the import) shows it on «Лицевые счета организаций»."""
    signed_in("accountant")
    since = f"{dt.date.today() - dt.timedelta(days=14):%d.%m.%Y}"
    open_menu(page, "Документы", "Счета организациям и страховым компаниям")
    row = page.locator("table tbody tr", has_text="ДМС-2026/001").filter(
        has_text=since).filter(has_text="Подтверждён").first
    with page.expect_navigation():
        row.locator("a[href*='/organisationinvoiceview/show/']").first.click()
    card = page.url
    expect(page.locator("#invoice-payer")).to_contain_text("Ингосстрах")
    number = re.search(r"№\s*(\d+/\d{4})", page.locator("h2").first.inner_text()).group(1)
    dated = re.search(r"от (\d\d\.\d\d\.\d{4})", page.locator("h2").first.inner_text()).group(1)
    branch = page.locator("tr", has_text="Филиал").locator("td").first.inner_text().strip()
    today = f"{dt.date.today():%d.%m.%Y}"

    open_menu(page, "Документы", "Импорт оплаты счетов")
    check(page, tmp_path, "выписка-дмс.csv",
          "\n".join([HEADER, f"ДМС-Б-1;{today};{number};{dated};{branch};1000,00"]))
    expect(summary(page, "Будет добавлено")).to_have_text("1")
    expect(summary(page, "Строк с ошибками")).to_have_text("0")
    with page.expect_navigation():
        page.locator("#import-confirm").click()
    expect(page.locator("#import-done")).to_have_text("Файл загружен.", timeout=20_000)

    page.goto(card)
    expect(page.locator("#invoice-state")).to_have_text("Оплачен частично")
    payments = page.locator("#invoice-payments tbody tr")
    expect(payments).to_have_count(1)
    expect(payments.first).to_contain_text("Платёж № ДМС-Б-1")
    expect(payments.first).to_contain_text("1 000,00")

    open_menu(page, "Документы", "Лицевые счета организаций")
    account = page.locator("#accounts tbody tr", has_text="Ингосстрах")
    expect(account).to_contain_text("Страховая компания")
    with page.expect_navigation():
        account.locator("a").first.click()
    expect(page.locator("body")).to_contain_text(f"Счёт № {number}")
