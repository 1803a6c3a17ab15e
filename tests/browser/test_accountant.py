"""Scenario 2 of issue 13, as an accountant does it in the browser: a DMS contract,
a programme with a cost limit and a service with a count limit, and a guarantee
letter, each added from the contract's (or programme's) card."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, login
from tests.browser.test_admin import unique
from tests.browser.ui import choose, chosen, flashes, form_errors, open_menu, save, type_date

SERVICE = "Приём врача-терапевта первичный"


def saved(page, what: str) -> None:
    """Assert that the last save went through."""
    assert flashes(page, "danger") == [] and page.locator("#model_form").count() == 0, \
        f"{what} not saved: {flashes(page)} {form_errors(page)}"
    assert flashes(page, "success"), f"{what}: no word that it was saved"


def open_tab_add(page, tab: str, add_path: str) -> None:
    """On a card with tabs of related rows, open the tab and press its «+»."""
    page.locator("a[data-toggle=tab]", has_text=tab).first.click()
    with page.expect_navigation():
        page.locator(f".tab-pane.active a[href*='{add_path}']").first.click()


def press(page, label: str) -> None:
    """Press an action of a document's card by its label."""
    with page.expect_navigation():
        page.locator(".uchet-doc-actions a, .uchet-doc-actions button", has_text=label
                     ).first.click()


def open_row(page, text: str, show_path: str) -> None:
    """Open the card of the row showing `text` in the active list or tab."""
    row = page.locator("table tbody tr", has_text=text).first
    with page.expect_navigation():
        row.locator(f"a[href*='{show_path}']").first.click()


def test_accountant_makes_a_dms_contract(page):
    number, year = unique("ДМС-Т").replace(" ", "-"), dt.date.today().year
    login(page, "accountant")
    open_menu(page, "Организации и договоры", "Договоры")
    with page.expect_navigation():
        page.locator("a[href*='/contractview/add']").first.click()
    page.locator("#number").fill(number)
    type_date(page, "#signed_on", dt.date(year, 1, 10))
    choose(page, "kind", "ДМС")
    if chosen(page, "branch") in ("", "__None"):
        choose(page, "branch", "Филиал «Тверской»", typed="Тверской")
    choose(page, "insurer", "Ингосстрах")
    type_date(page, "#valid_from", dt.date(year, 1, 1))
    type_date(page, "#valid_to", dt.date(year, 12, 31))
    page.locator("#amount").fill("1500000")
    save(page)
    saved(page, "the contract")
    if "/contractview/show/" not in page.url:
        open_row(page, number, "/contractview/show/")
    contract = page.url

    expect(page.locator("h2")).to_contain_text(f"Договор № {number} от 10.01.{year}")
    press(page, "Добавить медпрограмму")
    page.locator("#name").fill("Поликлиника и диагностика")
    page.locator("#code").fill(f"{number}-1")
    choose(page, "price_type", "ДМС", typed="ДМС")
    page.locator("#period_months").fill("12")
    page.locator("#max_cost").fill("50000")
    save(page)
    saved(page, "the programme")
    page.goto(contract)
    programme = page.locator("#contract-programmes tbody tr", has_text="Поликлиника")
    expect(programme).to_contain_text("50 000,00")
    with page.expect_navigation():
        programme.locator("a[href*='/programmeview/show/']").first.click()
    expect(page.locator("body")).to_contain_text("50 000,00")

    open_tab_add(page, "Услуги медицинских программ", "/programmeserviceview/add")
    choose(page, "service", SERVICE)
    page.locator("#max_count").fill("3")
    save(page)
    saved(page, "the programme's service")

    page.goto(contract)
    press(page, "Добавить гарантийное письмо")
    page.locator("#number").fill(f"ГП-{number}")
    type_date(page, "#issued_on", dt.date(year, 1, 15))
    type_date(page, "#valid_from", dt.date(year, 1, 15))
    type_date(page, "#valid_to", dt.date(year, 6, 30))
    page.locator("#amount").fill("20000")
    choose(page, "programmes", "Поликлиника и диагностика", typed="Поликлиника")
    save(page)
    saved(page, "the guarantee letter")

    page.goto(contract)
    letter = page.locator("#contract-guarantees tbody tr", has_text=f"ГП-{number}")
    expect(letter).to_contain_text("20 000,00")
    expect(letter).to_contain_text(f"15.01.{year}")
    page.screenshot(path=str(ARTIFACTS / "accountant-contract-card.png"), full_page=True)
