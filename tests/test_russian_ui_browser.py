"""What only a browser shows (issue 13, defects 2, 4 and 10), in Debian's headless
Chromium against the test app served on a free port: the main menu in one row at
1366 px, a Russian calendar that keeps a typed ДД.ММ.ГГГГ date, no «__None» and no
English from FAB's scripts. Skipped, with the reason, where Chromium or Playwright
is absent."""

from __future__ import annotations

import shutil
import threading

import pytest

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
    # Served from another thread: the per-test transaction cannot be shared with it.
    # The pages below only read (and log in).
    pytest.mark.no_db_isolation,
]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def served(app):
    """Return the base URL of the test app served on a free port."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _page(browser, served, user: str, width: int = 1366):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="ru-RU")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served + "/login/")
    page.fill("#username", user)
    page.fill("#password", "demo")
    page.click("[type=submit]")
    page.wait_for_load_state()
    page.js_errors = errors
    return page


MENU_ROWS = """() => new Set([...document.querySelectorAll(
    '.navbar-nav > li, .navbar-brand')].map(e => Math.round(e.getBoundingClientRect().top))).size"""


@pytest.mark.parametrize("user", ["admin", "branch_head"])
def test_the_main_menu_fits_one_row_at_1366_px(browser, served, user):
    page = _page(browser, served, user)
    assert page.evaluate(MENU_ROWS) == 1
    assert page.evaluate("document.querySelector('.navbar').offsetHeight") < 60
    page.close()


def test_a_date_is_typed_and_picked_the_russian_way(browser, served):
    page = _page(browser, served, "admin")
    page.goto(served + "/contractview/add")
    page.click("#signed_on")
    page.keyboard.type("01.12.2026")
    page.keyboard.press("Tab")
    assert page.input_value("#signed_on") == "01.12.2026"
    page.click("#valid_from")
    calendar = page.locator(".datepicker-days").first
    assert calendar.is_visible()
    heading = calendar.locator("th.datepicker-switch").inner_text()
    assert heading.split()[0] in ("Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль",
                                  "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь")
    assert calendar.locator("th.dow").first.inner_text() == "Пн"
    calendar.locator("td.day:not(.old):not(.new)", has_text="15").first.click()
    value = page.input_value("#valid_from")
    assert value.startswith("15.") and len(value) == 10
    assert not page.js_errors
    page.close()


def test_no_none_and_no_english_from_fab_scripts(browser, served):
    page = _page(browser, served, "admin")
    page.goto(served + "/contractview/add")
    shown = page.locator(".select2-selection__rendered").all_inner_texts()
    assert shown and not any("__None" in text for text in shown)
    assert "— не выбрано —" in shown
    titles = page.eval_on_selector_all("[title]", "els => els.map(e => e.title)")
    assert "Remove all items" not in titles
    page.goto(served + "/contractview/list/")
    page.evaluate("document.querySelectorAll('input.action_check').forEach(c => c.checked = false)")
    # A bulk action with no row ticked: FAB's script says so in a dialog.
    page.evaluate("new AdminActions().execute_multiple('muldelete', '')")
    page.wait_for_selector("#modal-alert .modal-text", state="visible")
    assert page.inner_text("#modal-alert .modal-text") == "Не выбрано ни одной строки"
    assert not page.js_errors
    page.close()
