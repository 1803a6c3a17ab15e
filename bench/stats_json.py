"""Print the cabinet statistics JSON of client_head for the last year (a check that
the rollups give the figures the detail gave: run in two checkouts and diff)."""
import datetime as dt
import json
import sys

from bench.data import request_app
from bench.vouchers import login

with request_app(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000) as app:
    client = app.test_client()
    login(client, "client_head")
    end = dt.date.today()
    start = end - dt.timedelta(days=364)
    for grouping in ("month", "day"):
        r = client.get(f"/cabinet/statistics/data?start={start}&end={end}&grouping={grouping}")
        print(json.dumps(r.get_json(), sort_keys=True, ensure_ascii=False))
