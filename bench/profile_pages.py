"""Where a page's Python time goes: cProfile over fresh requests of the voucher list
and card as the demo registrar, on the bench data set.

    .venv/bin/python -m bench.profile_pages [--lines 1000000] [--requests 20] [--top 25]
        [--pyinstrument]

Prints, per page, the mean milliseconds per request, the gettext calls of one
request, and the functions with the most own time (tottime) and the most calls —
or, with --pyinstrument, the call tree (where a request's time goes, by caller).
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
    parser.add_argument("--pyinstrument", action="store_true",
                        help="print pyinstrument's call tree instead of cProfile's tables")
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
            print(f"===== {name}: {_gettext_calls(get)} gettext calls per request")
            if args.pyinstrument:
                _tree(get, args.requests)
                continue
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


def _gettext_calls(get) -> int:
    """Return how many strings one request translates (flask_babel's Domain.gettext)."""
    import flask_babel

    original, calls = flask_babel.Domain.gettext, [0]

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    flask_babel.Domain.gettext = counting
    try:
        get()
    finally:
        flask_babel.Domain.gettext = original
    return calls[0]


def _tree(get, requests: int) -> None:
    """Print pyinstrument's call tree over `requests` requests."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    start = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        get()
    profiler.stop()
    print(f"{(time.perf_counter() - start) * 1000 / requests:.1f} ms per request (profiled)")
    print(profiler.output_text(unicode=True, color=False))


if __name__ == "__main__":
    main()
