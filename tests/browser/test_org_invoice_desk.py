"""Issue 15 in the browser: an accountant of «Невский» opens the account of the
organisation that owes the demo's confirmed invoice under its contract
(«Лицевые счета организаций»), takes half of the invoice in cash and the rest by
card through the emulated register («Оплатить счёт через кассу»), and finds the
invoice «Оплачен» with the fiscal document numbers of both receipts in the
account's statement.

The demo's accountant works in Moscow; the organisation's contract is of
«Невский» (St Petersburg), so the scenario adds an accountant of that branch (the
same preset role) to the served app's database, as an administrator would."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import _SERVER, login
from tests.browser.ui import amount, flashes, open_menu

#: The organisation owing a confirmed invoice under its contract, its account
#: working through the desk, the invoice, and the register of the account's branch.
DESK_INVOICE = text("""
    SELECT o.name, a.id, i.id, i.number_seq || '/' || i.number_year, i.total, r.name
    FROM inv_invoice i
    JOIN ctr_contract c ON c.id = i.contract_id JOIN ctr_organisation o ON o.id = c.organisation_id
    JOIN money_account a ON a.organisation_id = o.id AND a.no_cash_desk = 0
    JOIN money_register r ON r.branch_id = a.branch_id
    WHERE i.state = 'confirmed' ORDER BY i.id LIMIT 1""")
USER = "accountant_spb"


def _arrange() -> tuple:
    """Return the scenario's rows, adding the accountant of «Невский» once."""
    if os.environ.get("UCHET_BROWSER_URL") or not _SERVER:
        pytest.skip("the served app's database is not this run's")
    engine = create_engine(f"sqlite:///{_SERVER['workdir'] / 'uchet.sqlite3'}")
    with engine.begin() as conn:
        found = conn.execute(DESK_INVOICE).one()
        if conn.execute(text("SELECT id FROM ab_user WHERE username = :u"),
                        {"u": USER}).scalar() is None:
            columns = [row[1] for row in conn.execute(text("PRAGMA table_info(ab_user)"))
                       if row[1] not in ("id", "username", "email", "home_unit_id",
                                         "last_login", "login_count", "fail_login_count")]
            listed = ", ".join(columns)
            conn.execute(text(
                f"INSERT INTO ab_user (username, email, home_unit_id, {listed}) "
                f"SELECT :u, :u || '@demo.uchet.local', "
                f"(SELECT id FROM org_unit WHERE code = 'SPB-NEV'), {listed} "
                f"FROM ab_user WHERE username = 'accountant'"), {"u": USER})
            conn.execute(text(
                "INSERT INTO ab_user_role (user_id, role_id) SELECT "
                "(SELECT id FROM ab_user WHERE username = :u), role_id FROM ab_user_role "
                "WHERE user_id = (SELECT id FROM ab_user WHERE username = 'accountant')"),
                {"u": USER})
    engine.dispose()
    return found


def _pay(page, how: str, amount_: str = "") -> None:
    form = page.locator("#invoice-desk-form")
    form.locator("input[name=amount]").fill(amount_)
    form.locator("select[name=how]").select_option(how)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert any("Оплата счёта принята" in f for f in flashes(page, "success")), flashes(page)


def test_accountant_pays_an_organisations_invoice_at_the_desk(page):
    page.on("dialog", lambda dialog: dialog.accept())  # «Принять оплату счёта?»
    organisation, account, invoice, number, total, register = _arrange()
    half = (Decimal(str(total)) / 2).quantize(Decimal("0.01"))
    login(page, USER)
    open_menu(page, "Документы", "Лицевые счета организаций")
    expect(page.locator("#accounts tbody tr", has_text=organisation)).to_have_count(1)
    with page.expect_navigation():
        page.locator(f"#accounts a[href$='/show/{account}']").click()
    form = page.locator("#invoice-desk-form")
    expect(form).to_be_visible()
    form.locator("select[name=invoice]").select_option(str(invoice))
    form.locator("select[name=register]").select_option(label=register)
    _pay(page, "cash", str(half).replace(".", ","))
    # What is left is offered next, to be paid by card.
    option = page.locator(f"#invoice-desk option[value='{invoice}']")
    assert amount(option.inner_text().split(":")[-1]) == Decimal(str(total)) - half
    page.locator("#invoice-desk-form select[name=register]").select_option(label=register)
    _pay(page, "card")
    # Paid in full: no longer offered; both receipts are on the statement.
    expect(page.locator(f"#invoice-desk option[value='{invoice}']")).to_have_count(0)
    rows = page.locator("#statement tbody tr", has_text=f"Счёт № {number}")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("ФД №")
    expect(page.locator("#balance")).to_contain_text("0,00")

    page.goto(f"/organisationinvoiceview/show/{invoice}")
    expect(page.locator("#invoice-state")).to_have_text("Оплачен")
