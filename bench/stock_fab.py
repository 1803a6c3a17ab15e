"""Uchet's voucher list and card against stock Flask-AppBuilder over the same tables,
in the same process and the same rounds.

    .venv/bin/python -m bench.stock_fab [--lines 1000000] [--rounds 20]

The stock side is a plain `flask_appbuilder.ModelView` on `SQLAInterface(Voucher)`
(and one on the lines, as the card's tab), registered in the same app: FAB's query
building, its default related-field loading (each row's branch, patient, doctor and
lines loaded lazily), its search form (the same filter columns as Uchet's list, each
related one with every row of its table as choices), its templates, no Uchet
formatters, no scope layer. What a stock developer writes to show a registrar his
branch is a base filter: `branch_id = <his branch>` (the same rows Uchet's scope
shows). Its permission check reuses VoucherView's permissions through Uchet's
security manager, whose rights are cached: stock FAB's own manager would query the
roles and permissions on every request, so the stock side is, if anything, flattered.
Both sides share the page chrome (layout, menu). Each request is a fresh one through
the test client as the demo registrar, the two sides alternately first round by
round (bench.rounds). Printed: medians, Uchet ÷ stock, the statements per request of
each side and the load average. Nothing is asserted.
"""

from __future__ import annotations

import argparse

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import text

from bench.data import ensure, load_average, make_app
from bench.rounds import Pair, Recorder, measure
from bench.vouchers import fetch, login


def add_stock_views(app, branch: int) -> None:
    """Register the stock views (before the app's first request) on `branch`'s rows."""
    from models.vouchers import Voucher, VoucherLine

    appbuilder = app.appbuilder
    uchet = next(v for v in appbuilder.baseviews if type(v).__name__ == "VoucherView")

    class StockVoucherLineView(ModelView):
        datamodel = SQLAInterface(VoucherLine)
        class_permission_name = "VoucherLineView"
        list_columns = ["service", "quantity", "price", "discount", "amount", "payer_kind",
                        "state"]

    class StockVoucherView(ModelView):
        datamodel = SQLAInterface(Voucher)
        class_permission_name = "VoucherView"
        base_filters = [["branch_id", FilterEqual, branch]]
        base_order = ("service_date", "desc")
        page_size = 25
        list_columns = list(uchet.list_columns)
        show_columns = list(uchet.show_columns)
        search_columns = [c for c in uchet.search_columns if c in
                          ("id", "service_date", "branch", "department", "doctor", "kind",
                           "source", "total")]
        related_views = [StockVoucherLineView]

    with app.app_context():
        appbuilder.add_view_no_menu(StockVoucherLineView())
        appbuilder.add_view_no_menu(StockVoucherView())


def statements(engine, get) -> int:
    """Return how many statements one request runs."""
    with Recorder(engine) as recorder:
        get()
    return len(recorder.statements)


def run(lines: int, rounds: int) -> None:
    """Print the figures for the data set of `lines` lines."""
    url = ensure(lines)
    if url is None:
        return
    app = make_app(url)
    from app.extensions import db

    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            branch = conn.scalar(text("SELECT id FROM org_unit WHERE code = 'MSK-TVR'"))
            voucher = conn.scalar(text(
                "SELECT id FROM vch_voucher WHERE branch_id = :b "
                "ORDER BY service_date DESC, id DESC OFFSET 100 LIMIT 1"), {"b": branch})
            total = conn.scalar(text("SELECT count(*) FROM vch_line"))
    add_stock_views(app, branch)
    client = app.test_client()
    login(client, "registrar")
    pairs = [
        Pair("list, newest first", fetch(client, "/voucherview/list/"),
             fetch(client, "/stockvoucherview/list/")),
        Pair("card", fetch(client, f"/voucherview/show/{voucher}"),
             fetch(client, f"/stockvoucherview/show/{voucher}")),
    ]
    before = load_average()
    measure(engine, pairs, rounds)
    print(f"stock FAB: {total:,} lines; registrar, branch MSK-TVR; {rounds} rounds")
    print(f"  before: {before}; after: {load_average()}")
    print(f"{'request':<22}{'Uchet ms':>10}{'stock ms':>10}{'Uchet/stock':>13}"
          f"{'stmts':>7}{'stock stmts':>13}")
    import statistics

    for p in pairs:
        mine, stock = statistics.median(p.page_ms), statistics.median(p.raw_ms)
        print(f"{p.name:<22}{mine:>10.2f}{stock:>10.2f}{mine / stock:>13.2f}"
              f"{p.statements:>7}{statements(engine, p.baseline):>13}")
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    run(args.lines, args.rounds)


if __name__ == "__main__":
    main()
