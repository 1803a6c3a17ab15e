"""Scenario 3 of issue 13, as an administrator does it in the browser: a role from a
preset, two of its rights changed in the matrix, a new user with that role; the user
sees the change; the access check explains one voucher he sees and one he does not."""

from __future__ import annotations

import itertools
import time

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, login
from tests.browser.ui import choose, flashes, open_menu, save

# Two yes/no and access rights of «Документы / Талоны» the registrar's preset grants.
OTHER_VOUCHERS = "Редактирование остальных талонов"
FROM_PATIENT = "Создание талонов для выбранного пациента из меню Пациент"
_run = itertools.count()


def unique(stem: str) -> str:
    """Return a name not used before in this app (tests may share a running one)."""
    return f"{stem} {int(time.time()) % 100000}{next(_run)}"


def matrix_cell(page, role: str, right: str):
    """Return the matrix's drop-down for a role (column) and a right (row)."""
    headers = [" ".join(t.split()) for t in page.locator(
        "table.rights-matrix thead th").all_inner_texts()]
    column = headers.index(role)
    row = page.locator("table.rights-matrix tbody tr", has=page.locator(
        "th strong", has_text=right))
    return row.locator("th, td").nth(column).locator("select")


def explain(page, username: str, pk: str) -> tuple[str, list[str]]:
    """Ask the access check whether `username` may open voucher `pk`; return the
    verdict and the explanation's lines."""
    open_menu(page, "Администрирование", "Роли и права доступа")
    with page.expect_navigation():
        page.locator("a", has_text="Проверка доступа").first.click()
    page.locator("select[name=user]").select_option(username)
    page.locator("select[name=view]").select_option("VoucherView")
    page.locator("select[name=permission]").select_option(label="просмотр")
    page.locator("input[name=record_q]").fill(pk)
    with page.expect_navigation():
        page.locator("button", has_text="Проверить").click()
    page.locator("#explain-pk").select_option(pk)
    with page.expect_navigation():
        page.locator("button", has_text="Проверить").click()
    verdict = page.locator(".alert strong").first.inner_text().strip()
    lines = [" ".join(t.split()) for t in page.locator("ol li").all_text_contents()]
    return verdict, [*lines, page.locator(".explain-sentence").inner_text()]


def first_voucher_id(page, branch: str) -> str:
    """Return the id (from its card's link) of a voucher of `branch` in the list."""
    open_menu(page, "Документы", "Талоны")
    row = page.locator("table.table tbody tr", has_text=branch).first
    href = row.locator("a[href*='/voucherview/show/']").get_attribute("href")
    return href.rstrip("/").rsplit("/", 1)[1]


def test_admin_makes_a_role_and_a_user_who_sees_it(page):
    role, username = unique("Регистратор без талонов"), unique("reg").replace(" ", "")
    login(page, "admin")
    open_menu(page, "Администрирование", "Роли и права доступа")
    form = page.locator("form[action$='/rights/role/new']")
    form.locator("input[name=name]").fill(role)
    form.locator("select[name=preset]").select_option(label="Регистратор")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert any(role in m for m in flashes(page, "success")), flashes(page)

    with page.expect_navigation():
        page.locator("a", has_text="Матрица прав").first.click()
    boxes = page.locator(".matrix-roles input[type=checkbox]")
    for i in range(boxes.count()):
        boxes.nth(i).set_checked(boxes.nth(i).locator("xpath=..").inner_text().strip() == role)
    with page.expect_navigation():
        page.locator(".matrix-filter button[type=submit]").click()
    with page.expect_navigation():
        page.locator(".nav-pills a", has_text="Документы / Талоны").click()
    expect(matrix_cell(page, role, OTHER_VOUCHERS)).to_have_value("create")
    matrix_cell(page, role, OTHER_VOUCHERS).select_option(label="просмотр")
    matrix_cell(page, role, FROM_PATIENT).select_option(label="нет")
    page.locator("#matrix-review").click()
    with page.expect_navigation():
        page.locator("#matrix-save").click()
    assert "Сохранено изменений: 2" in flashes(page, "success"), flashes(page)

    open_menu(page, "Администрирование", "Пользователи")
    with page.expect_navigation():
        page.locator("a[href*='/users/add']").first.click()
    page.locator("#first_name").fill("Пётр")
    page.locator("#last_name").fill("Новиков")
    page.locator("#username").fill(username)
    page.locator("#email").fill(f"{username}@example.org")
    choose(page, "roles", role, typed="без талонов")
    choose(page, "home_unit", "Филиал «Тверской»", typed="Тверской")
    page.locator("#password").fill("Pa55word-new")
    page.locator("#conf_password").fill("Pa55word-new")
    save(page)
    assert flashes(page, "danger") == [], flashes(page)
    visible = first_voucher_id(page, "Тверской")
    hidden = first_voucher_id(page, "Невский")

    login(page, username, "Pa55word-new")
    open_menu(page, "Документы", "Талоны")
    expect(page.locator("table.table tbody tr").first).to_be_visible()
    expect(page.locator("a[href*='/voucherview/add']")).to_have_count(0)
    open_menu(page, "Пациенты", "Пациенты")
    with page.expect_navigation():
        page.locator("table.table tbody tr a[href*='/patientview/show/']").first.click()
    expect(page.locator("a", has_text="Создать талон")).to_have_count(0)

    login(page, "admin")
    verdict, lines = explain(page, username, visible)
    assert verdict == "Доступ разрешён", lines
    assert any(role in line for line in lines), lines
    assert any("в области данных" in line for line in lines), lines
    verdict, lines = explain(page, username, hidden)
    assert verdict == "Доступ запрещён", lines
    assert any("вне области данных" in line for line in lines), lines
    page.screenshot(path=str(ARTIFACTS / "admin-access-check.png"), full_page=True)
