"""Two app instances on different ports sharing PostgreSQL and Redis: a rights
change and a logout done through one are in force on the other at the next request.

    .venv/bin/python -m bench.two_instances [--lines 100000] [--redis redis://…/9]

Starts two gunicorn instances (one worker each, ports 8191 and 8192) on the bench
data set's database and one Redis — two app machines behind a proxy
(docs/deploy.md) — and, over HTTP with CSRF as a browser sends it:

1. the registrar, signed in on B, opens the voucher list (200; his rights are now
   cached in Redis and in B's memory);
2. the administrator, signed in on A, takes «Редактирование остальных талонов» away
   from the registrar's role in the rights matrix; the registrar's next request on B
   is refused; the right is given back and his next request on B is served;
3. the registrar signs in on A, his session cookie is kept, he signs out on A; the
   kept cookie, sent to B, is refused (the session epoch in PostgreSQL).

Prints each step and exits non-zero when one does not hold. The instances are
stopped (by their process ids) at the end.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.data import ensure
from bench.load.run import _wait

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LIST = "/voucherview/list/"
RIGHT = "voucher.other_vouchers"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: cookies, no redirects followed, CSRF tokens sent."""

    def __init__(self, jar: http.cookiejar.CookieJar | None = None):
        self.jar = jar or http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def get(self, url: str) -> tuple[int, str]:
        """Return the status and body of a GET."""
        return self._open(urllib.request.Request(url))

    def post(self, url: str, data: dict, form_url: str | None = None) -> int:
        """POST `data` with the CSRF token of the form page; return the status."""
        token = CSRF.search(self.get(form_url or url)[1])
        if token:
            data = {**data, "csrf_token": token.group(1)}
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))[0]

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def login(self, host: str, username: str) -> None:
        status = self.post(f"{host}/login/", {"username": username, "password": "demo"})
        if status != 302:
            raise SystemExit(f"login as {username} on {host}: {status}")


def _start(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "1", "--timeout", "30",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "run:app"],
        cwd=ROOT, env=env)


def run(url: str, redis: str) -> list[str]:
    """Run the steps against two fresh instances; return the failures."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis,
           "UCHET_ENV": "development", "STATEMENT_TIMEOUT_MS": "25000",
           "SECRET_KEY": "two-instances-secret-key-that-is-long-enough-0"}
    a, b = "http://127.0.0.1:8191", "http://127.0.0.1:8192"
    engine = create_engine(url)
    with engine.connect() as conn:
        role = conn.scalar(text("SELECT id FROM ab_role WHERE name = 'Регистратор'"))
    engine.dispose()
    failures: list[str] = []

    def check(what: str, got: int, wanted: tuple[int, ...]) -> None:
        ok = got in wanted
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {got}")
        if not ok:
            failures.append(what)

    instances = [_start(8191, env), _start(8192, env)]
    try:
        _wait(f"{a}/login/")
        _wait(f"{b}/login/")
        admin, registrar = Browser(), Browser()
        admin.login(a, "admin")
        registrar.login(b, "registrar")
        matrix = f"{a}/rights/matrix?section=vouchers"
        check("registrar's list on B", registrar.get(f"{b}{LIST}")[0], (200,))
        check("admin takes the right away on A",
              admin.post(matrix, {f"v:{role}:{RIGHT}": "none"}), (302,))
        check("registrar's next request on B is refused",
              registrar.get(f"{b}{LIST}")[0], (302, 403))
        check("admin gives it back on A",
              admin.post(matrix, {f"v:{role}:{RIGHT}": "delete"}), (302,))
        check("registrar's next request on B is served", registrar.get(f"{b}{LIST}")[0],
              (200,))
        person = Browser()
        person.login(a, "registrar")
        kept = list(person.jar)
        check("the same session cookie on B", person.get(f"{b}{LIST}")[0], (200,))
        check("logout on A", person.get(f"{a}/logout/")[0], (302,))
        replay = http.cookiejar.CookieJar()
        for cookie in kept:
            replay.set_cookie(cookie)
        check("the kept cookie on B after the logout on A",
              Browser(replay).get(f"{b}{LIST}")[0], (302, 401, 403))
    finally:
        for process in instances:
            process.send_signal(signal.SIGTERM)
        for process in instances:
            process.wait(timeout=30)
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL",
                                                          "redis://127.0.0.1:6379/9"))
    args = parser.parse_args()
    url = ensure(args.lines)
    if url is None:
        return
    print("two instances (A :8191, B :8192) on one PostgreSQL and one Redis:")
    failures = run(url, args.redis)
    print("all steps held" if not failures else f"failed: {', '.join(failures)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
