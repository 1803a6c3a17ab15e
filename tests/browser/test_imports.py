"""An accountant imports counterparties in the browser: «Документы» → «Импорт контрагентов»,
chooses a CSV with a wrong INN through the file input, sees the preview with that
row's error and no «Загрузить» button, fixes the file, checks it again, confirms, and
watches the progress finish with «Файл загружен.»."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.ui import open_menu

HEADER = "Вид;Код;Наименование;ИНН"
BAD = "\n".join([HEADER, "Организация;BR-ORG1;ООО «Первая»;7707083893",
                 "Организация;BR-ORG2;ООО «Вторая»;1234567890"])
GOOD = BAD.replace("1234567890", "7736207543")


def check(page, tmp_path, name: str, content: str) -> None:
    """Choose the file through the form's file input and press «Проверить файл»; wait for
    the job page to finish (it polls its status and reloads)."""
    path = tmp_path / name
    path.write_bytes(content.encode("cp1251"))
    page.locator("#import-file").set_input_files(str(path))
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Проверить файл").click()
    expect(page.locator("#import-state")).to_have_text("Готово", timeout=20_000)


def summary(page, label: str):
    """Return the number cell of the summary row `label`."""
    return page.locator("#import-summary tr", has_text=label).locator("td")


def test_accountant_imports_counterparties(page, signed_in, tmp_path):
    signed_in("accountant")
    open_menu(page, "Документы", "Импорт контрагентов")
    expect(page.locator("h2")).to_have_text("Импорт контрагентов")

    check(page, tmp_path, "контрагенты.csv", BAD)
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("ИНН «1234567890» неверен (контрольные цифры)")
    expect(page.locator("#import-confirm")).to_have_count(0)

    with page.expect_navigation():
        page.locator("a", has_text="Исправить и загрузить снова").click()
    check(page, tmp_path, "контрагенты-исправлено.csv", GOOD)
    expect(summary(page, "Будет добавлено")).to_have_text("2")
    expect(page.locator("#import-preview tbody tr")).to_have_count(2)

    with page.expect_navigation():
        page.locator("#import-confirm").click()
    expect(page.locator("#import-done")).to_have_text("Файл загружен.", timeout=20_000)
    expect(summary(page, "Добавлено")).to_have_text("2")

    # Loading the same file again changes nothing.
    open_menu(page, "Документы", "Импорт контрагентов")
    check(page, tmp_path, "контрагенты-ещё-раз.csv", GOOD)
    expect(summary(page, "Без изменений")).to_have_text("2")
