"""«Открыть лицевой счёт» in the browser: the demo accountant (her home unit is the
Moscow region, above its branches), on «Лицевые счета организаций», opens the
account of an insurer that has none in a Moscow branch — she chooses the kind,
finds the insurer by typing the start of its name, chooses the branch — and lands
on the new account's card with nothing on it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import _SERVER, login
from tests.browser.ui import choose, chosen, flashes, open_menu

#: A branch under the accountant's unit, and an insurer she sees (owned by her unit or
#: one above it) with no account there yet.
SCENARIO = text("""
    SELECT b.name, i.name FROM ab_user u
    JOIN org_unit_closure c ON c.ancestor_id = u.home_unit_id
    JOIN org_unit b ON b.id = c.descendant_id AND b.kind = 'branch'
    JOIN ctr_insurer i ON i.unit_id IN (
        SELECT ancestor_id FROM org_unit_closure WHERE descendant_id = u.home_unit_id)
    WHERE u.username = 'accountant' AND NOT EXISTS (
        SELECT 1 FROM money_account a WHERE a.insurer_id = i.id AND a.branch_id = b.id)
    ORDER BY b.name, i.id LIMIT 1""")


def _arrange() -> tuple[str, str]:
    """Return the branch and the insurer to open an account for."""
    if os.environ.get("UCHET_BROWSER_URL") or not _SERVER:
        pytest.skip("the served app's database is not this run's")
    engine = create_engine(f"sqlite:///{_SERVER['workdir'] / 'uchet.sqlite3'}")
    with engine.begin() as conn:
        found = conn.execute(SCENARIO).first()
    engine.dispose()
    if found is None:
        pytest.skip("every insurer the accountant sees has an account in his branch")
    return found[0], found[1]


def test_accountant_opens_an_insurers_account(page):
    branch, insurer = _arrange()
    login(page, "accountant")
    open_menu(page, "Документы", "Лицевые счета организаций")
    with page.expect_navigation():
        page.locator("#open-account").click()
    expect(page.locator("h2")).to_have_text("Открыть лицевой счёт")
    # Her unit is above the branches: none is chosen for her.
    assert chosen(page, "branch") == "Выберите филиал"
    expect(page.locator("#holder_insurer")).to_be_hidden()
    page.locator("select#kind").select_option(label="Страховая компания")
    expect(page.locator(".uchet-holder[data-kind=insurer]")).to_be_visible()
    choose(page, "holder_insurer", insurer, typed=insurer[:6])
    page.locator("select#branch").select_option(label=branch)
    with page.expect_navigation():
        page.locator("#model_form button[type=submit]").click()
    assert "Лицевой счёт открыт" in " ".join(flashes(page, "success")), flashes(page)
    expect(page.locator("h2")).to_contain_text(insurer)
    expect(page.locator("h2")).to_contain_text("Лицевой счёт №")
    expect(page.locator("#balance")).to_have_text("0,00")
    assert f"Филиал: {branch}" in page.locator("p").first.inner_text()
