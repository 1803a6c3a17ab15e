"""Issue 18 as an administrator does it in the browser: the matrix of one chosen
role, a dependency pulled up as he chooses, the summary and its confirmation; the
what-if preview for the registrar before saving; the drift badge and putting a
right back to the preset; rollback from the history; the access check by name,
label, word and a searched record. Screenshots of the four screens go to
docs/screens/ (referenced by the README)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.ui import flashes, open_menu

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
ROLE = "Регистратор"


def shoot(page, name: str) -> None:
    """Save the visible window (1366 px wide) as docs/screens/<name>.png."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def go(page, link_text: str) -> None:
    with page.expect_navigation():
        page.locator("main a:visible, .container a:visible", has_text=link_text).first.click()


def cell(page, right: str):
    """Return the matrix control of the one role shown, on the row of `right`."""
    row = page.locator("table.rights-matrix tbody tr", has=page.locator(
        "th strong", has_text=right))
    return row.locator(".matrix-cell").first


def choose_role(page, role: str) -> None:
    """Show only `role` in the matrix."""
    boxes = page.locator(".matrix-roles input[type=checkbox]")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        label = box.locator("xpath=..").inner_text().strip()
        box.set_checked(label == role)
    with page.expect_navigation():
        page.locator(".matrix-filter button[type=submit]").click()


def role_row(page, role: str):
    """Return the role list's row of `role` (by its name, not its description)."""
    return page.locator("table tbody tr").filter(
        has=page.locator("td > strong", has_text=re.compile(f"^{re.escape(role)}$")))


def answer_confirm(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


def test_rights_administration_as_a_person_uses_it(page):
    login(page, "admin")
    open_menu(page, "Администрирование", "Роли и права доступа")
    go(page, "Матрица прав")
    choose_role(page, ROLE)
    expect(page.locator("th.matrix-role")).to_have_text([ROLE])

    # A dependency is enforced as he chooses: editing rates pulls currencies up.
    with page.expect_navigation():
        page.locator(".matrix-sections a", has_text="Справочники").click()
    page.locator("#matrix-search").fill("валют")
    expect(page.locator("table.rights-matrix tbody tr:visible")).to_have_count(3)
    cell(page, "Курсы валют").select_option(label="изменение")
    expect(cell(page, "Валюты")).to_have_value("edit")
    summary = page.locator("#matrix-summary")
    expect(summary).to_contain_text("2 права изменятся")
    expect(summary).to_contain_text("по зависимости")
    page.locator("#matrix-review").click()
    expect(page.locator("#matrix-confirm")).to_be_visible()
    shoot(page, "matrix")
    with page.expect_navigation():
        page.locator("#matrix-save").click()
    assert "Сохранено изменений: 2" in flashes(page, "success"), flashes(page)

    # What-if before saving: the org structure for the registrar.
    with page.expect_navigation():
        page.locator(".matrix-sections a", has_text="Администрирование").click()
    cell(page, "Организационная структура").select_option(label="просмотр")
    page.locator("#matrix-review").click()
    with page.expect_navigation():
        page.locator("#matrix-whatif").click()
    page.locator("#whatif-user").select_option(label="Петрова Ирина (Медицинский регистратор)")
    with page.expect_navigation():
        page.locator("button", has_text="Показать").click()
    result = page.locator(".whatif-result")
    expect(result).to_contain_text("Откроются экраны")
    expect(result).to_contain_text("Организация → Подразделения")
    expect(page.locator(".whatif-rows")).to_contain_text("Подразделения")
    shoot(page, "whatif")
    answer_confirm(page)
    with page.expect_navigation():
        page.locator("button", has_text="Сохранить эти изменения").click()
    assert "Сохранено изменений: 1" in flashes(page, "success"), flashes(page)

    # Drift: the role list counts three rights away from the preset; one goes back.
    go(page, "Роли")  # the tab beside «Матрица прав»
    row = role_row(page, ROLE)
    expect(row.locator(".drift-count .badge")).to_have_text("3")
    with page.expect_navigation():
        row.locator(".drift-count").click()
    expect(page.locator(".drift-table tbody tr")).to_have_count(3)
    shoot(page, "drift")
    line = page.locator(".drift-table tbody tr", has_text="Организационная структура")
    answer_confirm(page)
    with page.expect_navigation():
        line.locator("button", has_text="Вернуть к шаблону").click()
    assert "Возвращено к шаблону прав: 1" in flashes(page, "success"), flashes(page)
    expect(page.locator(".drift-table tbody tr")).to_have_count(2)

    # Rollback: undo that reset from the history.
    go(page, "История прав роли")
    newest = page.locator("table.role-changes tbody tr").first
    expect(newest).to_contain_text("Возврат к шаблону")
    expect(newest).to_contain_text("«Организационная структура»: просмотр → нет доступа")
    answer_confirm(page)
    with page.expect_navigation():
        newest.locator("button", has_text="Вернуть как было до него").click()
    assert any("Права роли восстановлены" in m for m in flashes(page, "success")), flashes(page)
    expect(page.locator("table.role-changes tbody tr").first).to_contain_text("Откат")

    # Access check in people's terms.
    go(page, "Проверка доступа")
    page.locator("input[data-for=explain-user]").fill("Петрова")
    page.locator("#explain-user").select_option(label="Петрова Ирина (Медицинский регистратор)")
    page.locator("input[data-for=explain-view]").fill("Подраздел")
    page.locator("#explain-view").select_option(label="Организация → Подразделения")
    page.locator("#explain-action").select_option(label="просмотр")
    page.locator("#explain-record").fill("Тверской")
    with page.expect_navigation():
        page.locator("button", has_text="Проверить").click()
    page.locator("#explain-pk").select_option(label="Филиал «Тверской»")
    with page.expect_navigation():
        page.locator("button", has_text="Проверить").click()
    sentence = page.locator(".explain-sentence")
    expect(sentence).to_contain_text("Регистратор Петрова Ирина видит «Филиал «Тверской»»")
    expect(sentence).to_contain_text("право «Организационная структура» = просмотр")
    expect(sentence).to_contain_text("Московский регион → Филиал «Тверской»")
    shoot(page, "check")

    # Leave the role as the preset has it, for the other scenarios.
    open_menu(page, "Администрирование", "Роли и права доступа")
    row = role_row(page, ROLE)
    with page.expect_navigation():
        row.locator(".drift-count").click()
    answer_confirm(page)
    with page.expect_navigation():
        page.locator("button", has_text="Вернуть все к шаблону").click()
    expect(page.locator(".alert-success", has_text="совпадают")).to_contain_text(
        "Права роли совпадают с шаблоном")
