"""Issue 15 in the browser: a cashier closes yesterday's shift and opens a new one,
takes a payment for a patient's voucher through the emulated register, refunds part
of it, prints the X and the Z report; an accountant then reads the patient's
account statement."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import _SERVER, login
from tests.browser.ui import flashes, open_menu

#: A patient of «Тверской» with a line he pays himself that nobody has paid.
UNPAID = text("""
    SELECT p.last_name FROM vch_line l JOIN vch_voucher v ON v.id = l.voucher_id
    JOIN pat_patient p ON p.id = v.patient_id JOIN org_unit u ON u.id = v.branch_id
    WHERE u.code = 'MSK-TVR' AND l.payer_kind = 'patient' AND l.state = 'rendered'
      AND l.amount > 0 AND v.service_date >= date('now', '-60 day')
      AND NOT EXISTS (SELECT 1 FROM money_transaction t WHERE t.voucher_line_id = l.id)
      AND (SELECT count(*) FROM pat_patient q WHERE q.last_name = p.last_name) = 1
    ORDER BY l.id LIMIT 1""")


def _patient_name() -> str:
    if os.environ.get("UCHET_BROWSER_URL") or not _SERVER:
        pytest.skip("the served app's database is not this run's")
    engine = create_engine(f"sqlite:///{_SERVER['workdir'] / 'uchet.sqlite3'}")
    with engine.connect() as conn:
        name = conn.execute(UNPAID).scalar()
    engine.dispose()
    return name


def _press(page, text_: str) -> None:
    with page.expect_navigation():
        page.locator("button", has_text=text_).first.click()


def test_cashier_takes_a_payment_refunds_part_and_closes_the_day(page):
    page.on("dialog", lambda dialog: dialog.accept())  # «Снять Z-отчёт…?», «Вернуть…?»
    login(page, "cashier")
    last_name = _patient_name()
    open_menu(page, "Документы", "Касса")
    expect(page.locator("#shift-state")).to_contain_text("открыта")
    _press(page, "Z-отчёт (закрыть смену)")  # yesterday's shift of the demo
    assert flashes(page, "success"), flashes(page)
    expect(page.locator("#shift-state")).to_contain_text("Смена закрыта")
    _press(page, "Открыть смену")
    expect(page.locator("#shift-state")).to_contain_text("открыта")

    page.locator("#q").fill(last_name)
    _press(page, "Найти")
    with page.expect_navigation():
        page.locator("#patients a", has_text=last_name).first.click()
    row = page.locator("#lines tbody tr").filter(has=page.locator("input[type=checkbox]")).first
    line = row.get_attribute("data-line")
    row.locator("input[type=checkbox]").check()
    _press(page, "Принять оплату")
    assert any("Оплата принята" in f for f in flashes(page, "success")), flashes(page)
    paid_row = page.locator(f"#lines tr[data-line='{line}']")
    expect(paid_row).to_contain_text("Оплачена")
    expect(page.locator("#receipts")).to_contain_text("Приход")

    page.locator("#refund-line").select_option(line)
    page.locator("#refund-amount").fill("100")
    _press(page, "Вернуть")
    assert any("Возврат проведён" in f for f in flashes(page, "success")), flashes(page)
    expect(page.locator(f"#lines tr[data-line='{line}']")).to_contain_text("Оплачена частично")
    expect(page.locator("#receipts")).to_contain_text("Возврат прихода")

    _press(page, "X-отчёт")
    expect(page.locator("#report")).to_contain_text("Продажи")
    expect(page.locator("#shift-state")).to_contain_text("открыта")
    _press(page, "Z-отчёт (закрыть смену)")
    expect(page.locator("#reconciliation")).to_contain_text("совпадают")

    login(page, "accountant")
    open_menu(page, "Документы", "Лицевые счета пациентов")
    page.locator("#q").fill(last_name)
    _press(page, "Найти")
    with page.expect_navigation():
        page.locator("#accounts a").first.click()
    statement = page.locator("#statement")
    expect(statement).to_contain_text("Оплата услуги")
    expect(statement).to_contain_text("Возврат")
    expect(page.locator("#balance")).to_contain_text("0,00")
