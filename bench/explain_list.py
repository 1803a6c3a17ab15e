"""EXPLAIN (ANALYZE, BUFFERS) of the voucher list's page and count queries as the app
sends them for the demo registrar (his scope as values), on the bench data set.

    .venv/bin/python -m bench.explain_list [lines]
"""
import sys

from sqlalchemy import event

from bench.data import request_app
from bench.vouchers import login

lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
with request_app(lines) as app:
    from app.extensions import db
    with app.app_context():
        engine = db.engine
    captured = []
    def before(conn, cursor, statement, params, context, executemany):
        if "FROM vch_voucher" in statement and ("LIMIT" in statement or "count(*)" in statement):
            captured.append((statement, params))
    client = app.test_client()
    login(client, "registrar")
    event.listen(engine, "before_cursor_execute", before)
    client.get("/voucherview/list/")
    event.remove(engine, "before_cursor_execute", before)
    raw = engine.raw_connection()
    cur = raw.cursor()
    for statement, params in captured:
        print("=" * 20, " ".join(statement.split())[:400])
        print("params:", dict(params.items()) if isinstance(params, dict) else params)
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        for (row,) in cur.fetchall():
            print(row)
    raw.close()
