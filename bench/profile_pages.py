"""Where a page's Python time goes: cProfile over fresh requests of the voucher list
and card as the demo registrar, on the bench data set.

    .venv/bin/python -m bench.profile_pages [--lines 1000000] [--requests 20] [--top 25]

Prints, per page, the mean milliseconds per request and the functions with the
most own time (tottime) and the most calls.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from sqlalchemy import text

from bench.data import load_average, request_app
from bench.vouchers import fetch, login


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with request_app(args.lines) as app:
        if app is None:
            return
        from app.extensions import db

        with app.app_context(), db.engine.connect() as conn:
            voucher_id = conn.scalar(text(
                "SELECT v.id FROM vch_voucher v JOIN org_unit u ON u.id = v.branch_id "
                "WHERE u.code = 'MSK-TVR' ORDER BY v.id DESC LIMIT 1"))
        client = app.test_client()
        login(client, "registrar")
        print(load_average())
        for name, url in (("list", "/voucherview/list/"),
                          ("card", f"/voucherview/show/{voucher_id}")):
            get = fetch(client, url)
            get()
            get()
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            for _ in range(args.requests):
                get()
            profile.disable()
            spent = (time.perf_counter() - start) * 1000 / args.requests
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("ncalls").print_stats(12)
            print(f"===== {name}: {spent:.1f} ms per request (profiled)")
            print("\n".join(line for line in out.getvalue().splitlines()
                            if (line.strip() and "/" in line) or "ncalls" in line))


if __name__ == "__main__":
    main()
