"""The cashier's home in the browser: today's patient who still owes is listed under
«Касса»; «Оплатить» opens the cash desk on him, the payment goes through the emulated
register, and back home he no longer waits."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.ui import flashes


def test_cashier_pays_todays_patient_from_his_home(page):
    login(page, "cashier")
    cash = page.locator("[data-panel=cash_desk]")
    expect(cash).to_contain_text("открыта")
    waiting = cash.locator("tr", has=page.locator("a", has_text="Оплатить")).first
    name = waiting.locator("td").first.inner_text().split("(")[0].strip()
    with page.expect_navigation():
        waiting.locator("a", has_text="Оплатить").click()
    assert "/money/cash/" in page.url
    boxes = page.locator("#lines input[type=checkbox]")
    assert boxes.count() > 0
    for i in range(boxes.count()):
        boxes.nth(i).check()
    with page.expect_navigation():
        page.locator("button", has_text="Принять оплату").first.click()
    assert any("Оплата принята" in f for f in flashes(page, "success")), flashes(page)

    page.goto("/")
    expect(page.locator("[data-panel=cash_desk]")).not_to_contain_text(name)
