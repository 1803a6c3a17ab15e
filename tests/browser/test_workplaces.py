"""Each role's home is its day's work (issue 17), and documents read like documents:
a registrar finds a patient and records his visit in at most three clicks from the
home; an accountant goes from the contracts ending soon to a contract's card; a
branch head reads his figures; a manager works his clients' queue; an administrator
fixes users and reaches every section in one click.

`make screens` runs these with UCHET_SCREENS=docs/screens: each scenario then leaves
the screenshots the README shows."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_crawl import ONE_ROW
from tests.browser.ui import choose, flashes, form_errors, russian, save

LAST_NAME, FIRST_NAME, BORN = "Ефимов", "Роман", dt.date(1986, 10, 29)
SERVICE = "Приём врача-терапевта первичный"


def screen(page, name: str) -> None:
    """Keep a screenshot for the README when `make screens` asks for them."""
    folder = os.environ.get("UCHET_SCREENS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


class Clicks:
    """Clicks a person makes, counted (typing and Enter are not clicks)."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, locator, navigates: bool = True) -> None:
        self.count += 1
        if navigates:
            with self.page.expect_navigation():
                locator.click()
        else:
            locator.click()


def test_registrar_records_a_visit_in_three_clicks_from_home(page):
    login(page, "registrar")
    panel = page.locator("#panel-patients")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-today_vouchers")).to_be_visible()
    expect(page.locator("#panel-referrals")).to_be_visible()
    page.locator("#home-patient-name").fill(f"{LAST_NAME} {FIRST_NAME}")
    page.locator("#home-patient-born").fill(russian(BORN))
    with page.expect_navigation():
        page.locator("#home-patient-born").press("Enter")
    found = panel.locator("tbody tr")
    expect(found).to_have_count(1)
    expect(found.first).to_contain_text(russian(BORN))

    click = Clicks(page)
    click(found.first.locator("a", has_text="Новый талон"))
    expect(page.locator("#service_date")).to_have_value(russian(dt.date.today()))
    click(page.locator("#model_form button[type=submit], #model_form input[type=submit]").first)
    if page.locator("#model_form input[name=confirm]").count():
        # The warnings are on the form; one button confirms them and saves.
        click(page.locator(".uchet-confirm-save"))
    assert flashes(page, "danger") == [] and page.locator("#model_form").count() == 0, \
        f"the voucher was not saved: {flashes(page)} {form_errors(page)}"
    assert "/voucherview/show/" in page.url, page.url
    assert click.count <= 3, f"{click.count} clicks from the home to a saved voucher"
    title = page.locator("h2.uchet-doc-title")
    expect(title).to_contain_text(f"от {russian(dt.date.today())}")
    number = title.inner_text().split("№")[1].split()[0]

    # The card: add a service, see it in the lines with the total under them.
    with page.expect_navigation():
        page.locator(".uchet-doc-actions a", has_text="Добавить услугу").click()
    choose(page, "service", SERVICE)
    save(page)
    if page.locator("#model_form input[name=confirm]").count():
        with page.expect_navigation():
            page.locator(".uchet-confirm-save").click()
    assert "/voucherview/show/" in page.url, f"{page.url}: {flashes(page)} {form_errors(page)}"
    lines = page.locator("#voucher-lines tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text(SERVICE)
    expect(page.locator("#voucher-total")).not_to_have_text("0,00")
    expect(page.locator("body")).not_to_contain_text("Версия")
    screen(page, "voucher-card")

    with page.expect_navigation():
        page.locator(".navbar-brand a, a.navbar-brand").first.click()
    today = page.locator("#panel-today_vouchers")
    expect(today.locator("a", has_text=f"№ {number}")).to_have_count(1)
    screen(page, "registrar-home")


def test_accountant_goes_from_contracts_ending_to_the_card(page):
    login(page, "accountant")
    ending = page.locator("#panel-contracts_ending")
    expect(ending).to_be_visible()
    expect(page.locator("#panel-limits")).to_be_visible()
    expect(page.locator("#panel-today_vouchers")).to_have_count(0)
    screen(page, "accountant-home")
    with page.expect_navigation():
        ending.locator("a[href*='/contractview/show/']", has_text="ДМС-2026/001").first.click()
    expect(page.locator("h2.uchet-doc-title")).to_contain_text("Договор № ДМС-2026/001 от")
    programmes = page.locator("#contract-programmes tbody tr")
    assert programmes.count() >= 1
    expect(programmes.first).to_contain_text(",00")
    expect(page.locator("#contract-guarantees tbody tr").first).to_contain_text("ГП-")
    actions = page.locator(".uchet-doc-actions")
    expect(actions).to_contain_text("Добавить гарантийное письмо")
    screen(page, "contract-card")


def test_branch_head_reads_the_day_and_month(page):
    login(page, "branch_head")
    figures = page.locator("#panel-figures")
    expect(figures).to_contain_text("С начала месяца")
    expect(figures).to_contain_text("Прошлый месяц")
    screen(page, "branch_head-home")


def test_manager_works_the_queue_oldest_first(page):
    login(page, "manager")
    queue = page.locator("#panel-queue")
    expect(queue).to_contain_text("Добромед")
    expect(queue).not_to_contain_text("Семейный доктор")
    badge = page.locator(".navbar .dropdown-toggle", has_text="Личный кабинет").locator(
        ".uchet-count")
    expect(badge).to_have_count(1)
    waiting = int(badge.inner_text())
    assert waiting == queue.locator("tbody tr").count()
    screen(page, "manager-home")
    with page.expect_navigation():
        queue.locator("a", has_text="Вопрос").first.click()
    assert "/cabinet/questions/" in page.url


def test_administrator_reaches_every_section_in_one_click(page):
    login(page, "admin")
    assert page.locator(".navbar").bounding_box()["height"] <= ONE_ROW
    expect(page.locator("#panel-users_to_fix")).to_be_visible()
    expect(page.locator("#panel-rights_changes")).to_be_visible()
    screen(page, "admin-home")
    with page.expect_navigation():
        page.locator("a", has_text="Все разделы").click()
    expect(page.locator(".uchet-tile", has_text="Роли и права доступа")).to_have_count(1)
    expect(page.locator(".uchet-tile", has_text="Талоны")).to_have_count(1)


def test_the_sign_in_page_names_the_product(page):
    page.goto("/logout/")
    page.goto("/login/")
    expect(page.locator(".uchet-login-brand h1")).to_have_text("Учёт")
    expect(page.locator(".uchet-login-form button[type=submit]")).to_have_text("Войти")
    screen(page, "login")


def test_client_director_reads_the_month_and_the_chart(page):
    login(page, "client_head")
    with page.expect_navigation():
        page.locator("a", has_text="Все разделы").click()
    with page.expect_navigation():
        page.locator(".uchet-tile", has_text="Статистика").click()
    dashboard = page.locator("#month-dashboard")
    expect(dashboard.locator("[data-figure=visits]")).to_be_visible()
    expect(dashboard.locator("[data-figure=cost]")).to_be_visible()
    days = (dt.date.today() - dt.date.today().replace(day=1)).days + 1
    expect(page.locator("#visits-chart .uchet-bar")).to_have_count(days)
    assert page.locator("#visits-chart .uchet-tick").count() == 5
    screen(page, "cabinet-statistics")
