"""`make load`: gunicorn + PostgreSQL + Redis under the locust scenario, reporting
p50 / p95 / errors per request and in total.

    .venv/bin/python -m bench.load.run [--lines 1000000] [--users 16] [--time 60s]
        [--workers 2] [--port 8097] [--redis redis://127.0.0.1:6379/7]

The data set is `bench.data`'s (built once, reused). Gunicorn runs `run:app` with
DATABASE_URL on that database, REDIS_URL (rate limits, the rights cache) and the
statement timeout below its own worker timeout; it is stopped (by its process id)
at the end. Nothing is asserted: the figures and the load average are printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.data import ensure, load_average

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer at {url}")


def _report(stats_csv: Path) -> None:
    rows = list(csv.DictReader(stats_csv.open()))
    print(f"{'request':<28}{'count':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
          f"{'rps':>7}")
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        print(f"{name[:27]:<28}{row['Request Count']:>7}{row['Failure Count']:>8}"
              f"{row['50%']:>9}{row['95%']:>9}{float(row['Max Response Time']):>9.0f}"
              f"{float(row['Requests/s']):>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--time", default="60s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL",
                                                          "redis://127.0.0.1:6379/7"))
    args = parser.parse_args()
    url = ensure(args.lines)
    if url is None:
        return
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": args.redis,
           "UCHET_ENV": "development", "STATEMENT_TIMEOUT_MS": "25000",
           "SECRET_KEY": "load-test-secret-key-that-is-long-enough-000"}
    host = f"http://127.0.0.1:{args.port}"
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(args.workers), "--timeout", "30",
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "run:app"],
        cwd=ROOT, env=env)
    try:
        _wait(f"{host}/login/")
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp) / "load"
            before = load_average()
            subprocess.run(
                [str(BIN / "locust"), "-f", str(ROOT / "bench/load/locustfile.py"),
                 "--headless", "--users", str(args.users), "--spawn-rate", "4",
                 "--run-time", args.time, "--host", host, "--csv", str(prefix),
                 "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(f"load: {args.users} users for {args.time} against gunicorn "
                  f"({args.workers} workers) + PostgreSQL ({url.rsplit('/', 1)[-1]}) + Redis")
            print(f"  before: {before}; after: {load_average()}")
            _report(Path(f"{prefix}_stats.csv"))
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)


if __name__ == "__main__":
    main()
