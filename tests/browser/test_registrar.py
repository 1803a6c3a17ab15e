"""Scenario 1 of issue 13, as a registrar does it in the browser: find a patient by
last name and birth date, create a voucher from his card, add two services (one of
them paid by the patient, which asks for «Подтверждаю»), see the total on the
voucher's card and the voucher in the list."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.ui import (
    add_filter,
    amount,
    choose,
    chosen,
    column,
    flashes,
    form_errors,
    open_menu,
    russian,
    save,
    type_date,
)

# A demo patient of «Тверской» with namesakes: only the birth date tells him apart.
LAST_NAME, FIRST_NAME, BORN = "Ефимов", "Роман", dt.date(1986, 10, 29)
COVERED = "Приём врача-терапевта первичный"  # in his DMS programme
PAID = "Приём врача-кардиолога повторный"  # not in it: the patient pays


def confirm_if_asked(page) -> list[str]:
    """When a save came back to its form with warnings, tick «Подтверждаю» on it and
    save again, as a person does; return the messages the first save showed."""
    box = page.locator("#model_form input[name=confirm]")
    if not box.count():
        return []
    said = flashes(page) + form_errors(page)
    box.check()
    save(page)
    return said


def add_line(page, service: str, quantity: int) -> list[str]:
    """Add a service to the open voucher card by its «Добавить услугу»; return the
    warnings the save asked to confirm."""
    with page.expect_navigation():
        page.locator(".uchet-doc-actions a", has_text="Добавить услугу").first.click()
    choose(page, "service", service)
    page.locator("#quantity").fill(str(quantity))
    save(page)
    warned = confirm_if_asked(page)
    assert flashes(page, "danger") == [] and page.locator("#model_form").count() == 0, \
        f"{service}: not saved: {flashes(page)} {form_errors(page)}"
    return warned


def test_registrar_creates_a_voucher_for_a_patient(page, signed_in):
    signed_in("registrar")
    open_menu(page, "Пациенты", "Пациенты")
    add_filter(page, "Фамилия")
    page.locator("input.filter_val[name$=_last_name]").fill(LAST_NAME)
    add_filter(page, "Дата рождения")
    type_date(page, "input.filter_val[name$=_birth_date]", BORN)
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Поиск").click()
    rows = page.locator("table.table tbody tr", has_text=LAST_NAME)
    assert rows.count() == 1, \
        f"{LAST_NAME} born {russian(BORN)}: {rows.count()} rows found by {page.url}"
    expect(rows.first).to_contain_text(FIRST_NAME)

    with page.expect_navigation():
        rows.first.locator("a[href*='/patientview/show/']").click()
    with page.expect_navigation():
        page.locator("a", has_text="Создать талон").click()
    assert LAST_NAME in chosen(page, "patient")
    today = dt.date.today()
    type_date(page, "#service_date", today)
    if chosen(page, "branch") in ("", "__None", "Выберите значение"):
        choose(page, "branch", "Тверской")
    save(page)
    confirm_if_asked(page)
    assert flashes(page, "danger") == [] and page.locator("#model_form").count() == 0, \
        f"the voucher was not saved: {flashes(page)} {form_errors(page)}"
    assert flashes(page, "success"), "no word that the voucher was saved"
    if "/voucherview/show/" not in page.url:
        open_menu(page, "Документы", "Талоны")
        with page.expect_navigation():
            mine = page.locator("table.table tbody tr", has_text=LAST_NAME).filter(
                has_text=russian(today))
            mine.first.locator("a[href*='/voucherview/show/']").click()
    card = page.url

    add_line(page, COVERED, 1)
    page.goto(card)
    warned = add_line(page, PAID, 2)
    assert any("платная" in w for w in warned), \
        f"the paid service's warning did not come back on its form with «Подтверждаю»: {warned}"
    page.goto(card)
    lines = page.locator("#voucher-lines")
    expect(lines.locator("tbody tr", has_text=COVERED)).to_have_count(1)
    expect(lines.locator("tbody tr", has_text=PAID)).to_have_count(1)
    amounts = column(lines, "Сумма")
    assert amount(page.locator("#voucher-total").inner_text()) == sum(amounts) > 0
    page.screenshot(path=str(ARTIFACTS / "registrar-voucher-card.png"), full_page=True)

    open_menu(page, "Документы", "Талоны")
    expect(page.locator("table.table tbody tr", has_text=LAST_NAME).first).to_be_visible()


    # The search panel's drop-downs are kept between pages (views.search_choices): the
    # branch filter still finds the voucher, the page it leads to shows the chosen
    # branch in its filter, and there the doctor filter offers the branch's doctors.
    add_filter(page, "Филиал")
    choose(page, "branch", "Тверской")
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text="Поиск").click()
    assert "_flt_0_branch=" in page.url, page.url
    expect(page.locator("table.table tbody tr", has_text=LAST_NAME).first).to_be_visible()
    branch = page.locator("select[name=_flt_0_branch] option:checked")
    expect(branch).to_contain_text("Тверской")
    add_filter(page, "Врач")
    doctors = page.locator("select[name$=_doctor] option[data-parent]")
    assert doctors.count() > 0, "no doctor offered by the doctor filter"
