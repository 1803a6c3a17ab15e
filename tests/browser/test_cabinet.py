"""Scenario 4 of issue 13, in the client cabinet: the head office's director reads a
year's statistics and downloads them as XLSX, calls a courier and asks a question;
the personal manager answers it; the director sees the answer. The ordinary user
sees no cost or price anywhere in his cabinet."""

from __future__ import annotations

import datetime as dt
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, login
from tests.browser.test_admin import unique
from tests.browser.test_crawl import menu_links
from tests.browser.ui import flashes, open_menu, type_date

COST_WORDS = re.compile(r"Стоимост|Цена|Цены|Сумма|руб\.|₽|\d,\d\d\b")
# The statistics page says why there is no cost column: that sentence is no cost.
NO_COST_NOTICE = "Стоимость услуг вашей ролью не показывается."


def test_client_head_statistics_courier_and_question(page):
    year = dt.date.today().year
    login(page, "client_head")
    open_menu(page, "Личный кабинет", "Статистика")
    type_date(page, "#start", dt.date(year, 1, 1))
    type_date(page, "#end", dt.date(year, 12, 31))
    page.locator("#grouping").select_option(label="месяцам")
    with page.expect_navigation():
        page.locator("button", has_text="Показать").click()
    assert flashes(page, "danger") == [], flashes(page)
    table = page.locator("table", has=page.locator("th", has_text="Подразделение")).first
    expect(table.locator("th", has_text="Стоимость")).to_have_count(1)
    assert table.locator("tbody tr").count() > 0
    page.screenshot(path=str(ARTIFACTS / "client_head-statistics.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("a", has_text="Выгрузить в Excel").click()
    workbook = ARTIFACTS / "statistics.xlsx"
    download.value.save_as(workbook)
    book = load_workbook(workbook, read_only=True)
    sheet = book.worksheets[0]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert any("Визит" in c for c in cells), cells[:20]
    sheet_title = sheet.title  # checked at the end: the rest does not depend on it

    open_menu(page, "Личный кабинет", "Вызов курьера")
    address = unique("ул. Профсоюзная, д. 1, офис")
    type_date(page, "#visit_date", dt.date.today() + dt.timedelta(days=1))
    page.locator("#address").fill(address)
    page.locator("#samples").fill("4")
    page.locator("#phone").fill("+7 495 000-00-00")
    with page.expect_navigation():
        page.locator("button", has_text="Вызвать").click()
    assert flashes(page, "danger") == [], flashes(page)
    expect(page.locator("table tbody tr", has_text=address)).to_have_count(1)

    open_menu(page, "Личный кабинет", "Вопросы клиентов")
    subject = unique("Сроки анализа на ферритин")
    page.locator("#subject").fill(subject)
    page.locator("#text").fill("Сколько дней делается анализ на ферритин?")
    with page.expect_navigation():
        page.locator("button", has_text="Задать вопрос").click()
    assert flashes(page, "danger") == [], flashes(page)
    expect(page.locator("body")).to_contain_text(subject)

    login(page, "manager")
    open_menu(page, "Личный кабинет", "Вопросы клиентов")
    block = page.locator(".panel", has=page.locator(".panel-heading", has_text=subject))
    expect(block).to_have_count(1)
    block.locator("textarea[name=answer]").fill("Один рабочий день.")
    with page.expect_navigation():
        block.locator("button", has_text="Ответить").click()
    assert flashes(page, "danger") == [], flashes(page)

    login(page, "client_head")
    open_menu(page, "Личный кабинет", "Вопросы клиентов")
    answered = page.locator(".panel", has=page.locator(".panel-heading", has_text=subject))
    expect(answered).to_contain_text("Один рабочий день.")
    page.screenshot(path=str(ARTIFACTS / "client_head-answer.png"), full_page=True)
    assert sheet_title != "Sheet", "the XLSX sheet keeps openpyxl's English default name"


def test_client_user_sees_no_cost(page):
    login(page, "client_user")
    pages = ["/", *menu_links(page)]
    seen = {}
    for path in pages:
        page.goto(path)
        text = page.locator("body").inner_text().replace(NO_COST_NOTICE, "")
        words = sorted(set(COST_WORDS.findall(text)))
        if words:
            seen[path] = words
    assert len(pages) > 3
    assert not seen, f"client_user sees costs or prices: {seen}"
