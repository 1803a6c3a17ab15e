"""What a person does on Uchet's screens, as Playwright steps: choose in a
drop-down, type a date, search a list, read the messages. Nothing here posts
directly: every step is a click or typing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from playwright.sync_api import Page, expect


def russian(day: dt.date) -> str:
    """Return a date as a Russian user types and reads it: ДД.ММ.ГГГГ."""
    return day.strftime("%d.%m.%Y")


def type_date(page: Page, selector: str, day: dt.date) -> None:
    """Type a date (ДД.ММ.ГГГГ) into a date field and leave it, as a person does.
    A native date field (type=date, which Chromium shows as ДД.ММ.ГГГГ in Russian)
    takes the date as Playwright sets such fields."""
    field = page.locator(selector)
    if field.get_attribute("type") == "date":
        field.fill(day.isoformat())
        return
    field.click()
    field.fill(russian(day))
    field.press("Tab")


def choose(page: Page, field_id: str, text: str, typed: str | None = None) -> None:
    """Open the drop-down of the form field `field_id` (select2 or a plain select),
    type `typed` (default: `text`) where it searches, and pick the option showing `text`."""
    select = page.locator(f"select#{field_id}")
    container = page.locator(f"select#{field_id} + .select2")
    if container.count() == 0:
        label = select.locator("option", has_text=text).first.inner_text().strip()
        select.select_option(label=label)
        return
    container.locator(".select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    if search.count():
        search.fill(typed if typed is not None else text)
    option = page.locator(".select2-container--open .select2-results__option",
                          has_text=text).first
    option.click()
    expect(page.locator(".select2-container--open")).to_have_count(0)


def chosen(page: Page, field_id: str) -> str:
    """Return the text of the option a drop-down shows as chosen ('' when none)."""
    return page.locator(f"select#{field_id}").evaluate(
        "el => el.selectedIndex < 0 ? '' : el.options[el.selectedIndex].text.trim()")


def save(page: Page) -> None:
    """Press the form's «Сохранить» and wait for the next page."""
    with page.expect_navigation():
        page.locator("#model_form button[type=submit], #model_form input[type=submit]"
                     ).first.click()


def flashes(page: Page, kind: str | None = None) -> list[str]:
    """Return the messages the page shows (of one kind: danger, warning, success…)."""
    selector = f".alert-{kind}" if kind else ".alert"
    return [" ".join(t.replace("×", "").split())
            for t in page.locator(selector).all_inner_texts()]


def form_errors(page: Page) -> list[str]:
    """Return the error texts shown at a form's fields."""
    return [" ".join(t.split()) for t in page.locator(
        "#model_form .help-block, #model_form .text-danger, #model_form .has-error .help-block"
    ).all_inner_texts() if t.strip()]


def open_menu(page: Page, category: str, item: str) -> None:
    """Open a screen through the navbar: the category, then its item."""
    page.locator(".navbar .dropdown-toggle", has_text=category).first.click()
    with page.expect_navigation():
        page.locator(".navbar .dropdown-menu a", has_text=item).first.click()


def add_filter(page: Page, column_label: str) -> None:
    """Add a filter of a FAB list's «Поиск» panel for the column shown as `column_label`."""
    panel = page.locator(".list-search-container, #filter_form").first
    if not page.locator("text=Добавить фильтр").first.is_visible():
        page.locator("a", has_text=re.compile(r"^\s*Поиск")).first.click()
    page.locator("button", has_text="Добавить фильтр").first.click()
    page.locator("a.filter", has_text=column_label).first.click()
    expect(panel.locator("a.remove-filter", has_text=column_label)).to_have_count(1)


def amount(text: str) -> Decimal:
    """Return the value of an amount shown in Russian («4 100,00»)."""
    return Decimal(re.sub(r"\s", "", text).replace(",", "."))


def column(table, header: str) -> list[Decimal]:
    """Return the amounts of a table's column, found by its header text."""
    headers = [" ".join(t.split()) for t in table.locator("thead th").all_inner_texts()]
    index = headers.index(header)
    return [amount(row.locator("td").nth(index).inner_text())
            for row in table.locator("tbody tr").all()]
