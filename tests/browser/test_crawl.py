"""Scenario 5 of issue 13: every demo user opens every link of his menu, and on each
list the first row's card and its edit form. No answer may be >= 500, no page may
show English interface text in the Russian UI (the detector of
tests/test_translations.py, run on the page as the browser built it, drop-downs
and tooltips included) and no page may raise a JavaScript error. The navbar fits one
row in a 1366 px wide window.

Each user's figures are written to tests/browser/artifacts/crawl-<user>.txt.
"""

from __future__ import annotations

import re
import time
from functools import cache
from urllib.parse import urlsplit

import pytest

from demo import pricelist_data as demo_pricelist_data
from demo.loader import USERS
from tests.browser.conftest import ARTIFACTS, login
from tests.test_translations import KNOWN_LEAKS, english_leaks

SKIPPED_LINKS = ("/logout", "/lang/")  # signing out and switching to English end the walk
ONE_ROW = 60  # px: the navbar's height when its menus fit one row (1366 px wide window)


@cache
def data_words() -> frozenset[str]:
    """Return the Latin words of the demo price list's names (organisms such as
    «Alternaria alternata», «PCR»): data on the page, not interface text."""
    texts = [value for name, value in vars(demo_pricelist_data).items()
             if isinstance(value, str) and not name.startswith("__")]
    texts.append(repr(demo_pricelist_data.LISTS))
    return frozenset(word for text in texts for word in re.findall(r"[A-Za-z]+", text))


def english_on(html: str) -> set[str]:
    """Return the English interface strings of a page (data names left out)."""
    return {leak for leak in english_leaks(html)
            if leak.split(": ", 1)[1] not in KNOWN_LEAKS
            and not (leak.startswith("Latin words: ")
                     and set(leak.split(": ", 1)[1].split()) <= data_words())}


def menu_links(page) -> list[str]:
    """Return the paths the navbar links to, in menu order, without repeats."""
    hrefs = page.eval_on_selector_all(
        ".navbar a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if not href or href.startswith(("#", "javascript:")) or parts.netloc:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(SKIPPED_LINKS) and path not in paths:
            paths.append(path)
    return paths


def first_row_links(page) -> list[str]:
    """Return the first row's card and edit form of a list page (those present)."""
    found = []
    for kind in ("show", "edit"):
        link = page.locator(f"table tbody tr a[href*='/{kind}/']").first
        if link.count():
            found.append(link.get_attribute("href"))
    return found


class Walk:
    """What one user's walk saw: pages, answers >= 500, English, JavaScript errors."""

    def __init__(self, page):
        self.page = page
        self.visited: list[tuple[str, int]] = []
        self.server_errors: list[str] = []
        self.english: dict[str, set[str]] = {}
        self.js_errors: list[str] = []

    def visit(self, path: str) -> bool:
        """Open a page and check it; return whether it answered 200."""
        response = self.page.goto(path, wait_until="load")
        status = response.status if response else 0
        self.visited.append((path, status))
        for problem in self.page.problems.take():
            (self.server_errors if problem.startswith("HTTP 5") else self.js_errors).append(
                problem)
        if status >= 500 and not any(path in e for e in self.server_errors):
            self.server_errors.append(f"HTTP {status} GET {path}")
        if "text/html" in (response.headers.get("content-type", "") if response else ""):
            leaks = english_on(self.page.content())
            if leaks:
                self.english[path] = leaks
        return status == 200

    def report(self) -> str:
        lines = [f"pages {len(self.visited)}, answers >= 500: {len(self.server_errors)}, "
                 f"pages with English: {len(self.english)}, "
                 f"JavaScript errors: {len(self.js_errors)}"]
        lines += self.server_errors + self.js_errors
        lines += [f"English on {path}: {sorted(found)}" for path, found in self.english.items()]
        return "\n".join(lines)


@pytest.mark.parametrize("username", [user[0] for user in USERS])
def test_every_menu_page_of_a_demo_user_works(page, username):
    started = time.monotonic()
    login(page, username)
    walk = Walk(page)
    walk.visit("/")
    navbar = page.locator(".navbar").first.bounding_box()["height"]
    links = menu_links(page)
    assert links, f"{username} has no menu"
    for path in links:
        if walk.visit(path) and "/list/" in path:
            for row_path in first_row_links(page):
                walk.visit(row_path)
    report = walk.report()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"crawl-{username}.txt").write_text(
        f"{username}: {report}\nnavbar {navbar:.0f} px, {time.monotonic() - started:.0f} s\n"
        + "\n".join(f"{status} {path}" for path, status in walk.visited) + "\n")
    wrong = [report] if walk.server_errors or walk.js_errors or walk.english else []
    if navbar > ONE_ROW:
        wrong.append(f"the navbar wraps: {navbar:.0f} px high at 1366 px")
    assert not wrong, f"{username}: " + "\n".join(wrong)
