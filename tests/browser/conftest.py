"""Browser tests: Debian's Chromium, driven by Playwright, against Uchet served on a
free port of 127.0.0.1 over its own freshly migrated SQLite database with the demo
data and CSRF on (tests/browser/server.py).

They run where Playwright and Chromium are installed and are skipped, with the
reason printed at the end of the run, where they are not; UCHET_REQUIRE_BROWSER=1
(CI) turns that skip into a failure, UCHET_SKIP_BROWSER=1 skips them on purpose
(CI's second pass). UCHET_CHROMIUM names another Chromium binary;
UCHET_BROWSER_URL points the tests at an app already running (while writing a
test: each run then changes that app's data).

One server and one browser serve the whole session; each test gets a fresh browser
context (cookies) and page. A page's JavaScript errors, console errors and answers
>= 500 fail the test; a failed test leaves a screenshot and the page's HTML under
tests/browser/artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("UCHET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SERVER_START_TIMEOUT = 600  # seconds: migrations and demo data on a busy CI machine
# Chromium asks for /favicon.ico by itself; the app has none (reported, not ours).
IGNORED_CONSOLE = (re.compile(r"/favicon\.ico$"),)


def _unavailable() -> str | None:
    """Return why the browser tests cannot run here, or None when they can."""
    if os.environ.get("UCHET_SKIP_BROWSER") == "1":
        return "UCHET_SKIP_BROWSER=1"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (requirements-dev.txt)"
    if not (shutil.which(CHROMIUM) or os.access(CHROMIUM, os.X_OK)):
        return (f"Chromium not found at {CHROMIUM} "
                "(Debian: apt-get install chromium chromium-driver)")
    return None


_SKIP_REASON = _unavailable()
_SERVER: dict = {}


def _browser_items(items) -> list:
    here = Path(__file__).resolve().parent
    return [i for i in items if here in Path(str(i.fspath)).resolve().parents]


def pytest_collection_modifyitems(config, items):
    """Skip (or, under UCHET_REQUIRE_BROWSER=1, fail) the browser tests where they
    cannot run; otherwise run them last, so that the server built in the background
    (started below) is ready by then."""
    mine = _browser_items(items)
    if not mine:
        return
    if _SKIP_REASON:
        if os.environ.get("UCHET_REQUIRE_BROWSER") == "1" and \
                os.environ.get("UCHET_SKIP_BROWSER") != "1":
            raise pytest.UsageError(
                f"browser tests required (UCHET_REQUIRE_BROWSER=1) but {_SKIP_REASON}")
        marker = pytest.mark.skip(reason=f"browser tests skipped: {_SKIP_REASON}")
        for item in mine:
            item.add_marker(marker)
        return
    others = [i for i in items if i not in set(mine)]
    items[:] = [*others, *mine]


def pytest_collection_finish(session):
    """Start building the served app as soon as browser tests are selected."""
    if _SKIP_REASON or session.config.option.collectonly:
        return
    if _browser_items(session.items) and not _SERVER and not os.environ.get("UCHET_BROWSER_URL"):
        _start_server()


def pytest_terminal_summary(terminalreporter):
    """Say plainly, at the end of the run, that the browser tests did not run."""
    if _SKIP_REASON and terminalreporter.stats.get("skipped"):
        skipped = [r for r in terminalreporter.stats["skipped"]
                   if "tests/browser/" in str(getattr(r, "nodeid", ""))]
        if skipped:
            terminalreporter.write_line(
                f"BROWSER TESTS SKIPPED ({len(skipped)}): {_SKIP_REASON}", yellow=True,
                bold=True)


def _start_server() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="uchet-browser-"))
    log = (workdir / "server.log").open("w")
    env = {**os.environ, "UCHET_ENV": "testing", "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.server", str(workdir / "uchet.sqlite3")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    _SERVER.update(process=process, workdir=workdir, log=workdir / "server.log")


def _server_log(lines: int = 60) -> str:
    """Return the end of the served app's log, without the static files' requests."""
    if not _SERVER:
        return "(not started by the tests)"
    text = _SERVER["log"].read_text(errors="replace")
    return "\n".join([line for line in text.splitlines() if "GET /static/" not in line][-lines:])


def pytest_unconfigure(config):
    process = _SERVER.get("process")
    if process is not None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(_SERVER["workdir"], ignore_errors=True)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _rollback_each_test():
    """The served app has its own database: no transaction of the test session's app."""
    yield


@pytest.fixture(scope="session")
def base_url() -> str:
    """Return the served app's address once it answers."""
    if os.environ.get("UCHET_BROWSER_URL"):
        return os.environ["UCHET_BROWSER_URL"].rstrip("/")
    if not _SERVER:
        _start_server()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        found = re.search(r"UCHET_READY (\d+)", _SERVER["log"].read_text(errors="replace"))
        if found:
            return f"http://127.0.0.1:{found.group(1)}"
        if _SERVER["process"].poll() is not None:
            pytest.fail("the served app did not start:\n" + _server_log())
        time.sleep(0.5)
    pytest.fail("the served app did not start in time:\n" + _server_log())


@pytest.fixture(scope="session")
def browser():
    """Return one headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class Problems:
    """What went wrong while pages were open: JavaScript errors, console errors,
    answers >= 500. `take()` returns and forgets them."""

    def __init__(self):
        self.items: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.items.append(
            f"JavaScript error on {page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("response", lambda response: response.status >= 500 and self.items.append(
            f"HTTP {response.status} {response.request.method} {response.url}"))

    def _console(self, page, message) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if any(p.search(where) for p in IGNORED_CONSOLE):
            return
        self.items.append(f"console error on {page.url}: {message.text} ({where})")

    def take(self) -> list[str]:
        found, self.items = self.items, []
        return found


def new_page(browser, base_url: str):
    """Return (context, page, problems): a fresh Russian-speaking browser window."""
    context = browser.new_context(base_url=base_url, locale="ru-RU",
                                  timezone_id="Europe/Moscow",
                                  viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems = Problems()
    problems.watch(page)
    return context, page, problems


def save_artifacts(page, name: str) -> Path:
    """Save a screenshot and the HTML of the page; return the screenshot's path."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", name)[:150]
    shot = ARTIFACTS / f"{stem}.png"
    try:
        page.screenshot(path=str(shot), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content())
    except Exception as exc:  # a crashed page must not hide the test's own failure
        (ARTIFACTS / f"{stem}.txt").write_text(f"no screenshot: {exc}")
    return shot


@pytest.fixture
def page(browser, base_url, request):
    """Return a fresh page; the test fails on its JavaScript errors and 5xx answers,
    and leaves a screenshot when it failed."""
    context, page, problems = new_page(browser, base_url)
    page.problems = problems
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        save_artifacts(page, request.node.nodeid)
    left = problems.take()
    context.close()
    log = "\n--- server log ---\n" + _server_log(40) if any(
        p.startswith("HTTP 5") for p in left) else ""
    assert not left, "errors in the browser:\n" + "\n".join(left) + log


def login(page, username: str, password: str = "demo") -> None:
    """Sign in through the login form, as a person types; asserts it succeeded."""
    page.goto("/logout/")
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form input[type=submit], form button[type=submit]")
    assert "/login" not in page.url, f"{username} could not sign in: {page.url}"


@pytest.fixture
def signed_in(page):
    """Return a function signing `page` in as a demo user (password «demo»)."""
    def _sign_in(username: str, password: str = "demo"):
        login(page, username, password)
        return page
    return _sign_in
