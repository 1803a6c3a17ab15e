"""Payments by concurrent cashiers through gunicorn and PostgreSQL: each cashier
is a separate client process signed in as a cashier of his own register (his own
desk), paying voucher lines through the cash desk API (`POST /api/v1/money_cash/pay`,
the emulated register behind it) one after another, each under a fresh
idempotency key (an answer 5xx is retried with the same key, as a cashier would).
Then the database is counted against what the clients were told:
every acknowledged payment has exactly one confirmed receipt with one deposit and
one payment per line (0 lost), and no line, receipt or key is posted twice
(0 doubled).

    .venv/bin/python -m bench.money_load [--cashiers 8] [--payments 40] [--workers 3]
        [--database uchet_money] [--redis redis://127.0.0.1:6379/12]

Builds the database `--database` afresh (dropped first if it exists: it is the
bench's own), migrates it, syncs permissions, loads the demo, adds the registers,
the cashiers and enough unpaid voucher lines; starts gunicorn on a free port (its
process id is stopped at the end). Prints payments/s, p50 / p95 latency and the
counts; exits 1 when anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.common import PG_SERVER

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BRANCH = "MSK-TVR"
RETRIES = 3
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

#: Copies of the payable lines of the branch's vouchers: each cashier needs his own.
CLONE_LINES = """
INSERT INTO vch_line ({cols})
SELECT {picked} FROM vch_line l JOIN vch_voucher v ON v.id = l.voucher_id
CROSS JOIN generate_series(1, :copies) g
WHERE v.branch_id = :branch AND l.payer_kind = 'patient' AND l.state = 'rendered'
  AND l.amount > 0 AND l.service_date >= current_date - 80
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(name: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_SERVER).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _prepare(url: str, cashiers: int, payments: int) -> list[dict]:
    """Build the data; return per cashier {"username", "register", "orders"}, an
    order being {"patient", "lines": [id]}: one line per payment."""
    from app.extensions import db
    from bench.data import make_app
    from demo.loader import load_demo
    from security.sync import sync_all

    app = make_app(url)
    with app.app_context():
        session = db.session
        sync_all(session, app.appbuilder)
        session.commit()
        load_demo(session)
        session.commit()
        return _desks(session, cashiers, payments)


def _desks(session, cashiers: int, payments: int) -> list[dict]:
    from sqlalchemy import select

    from models.money import Register
    from models.org import Unit
    from models.user import AppUser

    branch = session.scalar(select(Unit).where(Unit.code == BRANCH))
    demo = session.scalar(select(Register).where(Register.branch_id == branch.id))
    template = session.scalar(select(AppUser).where(AppUser.username == "cashier"))
    cols = list(session.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'vch_line' "
        "AND column_name <> 'id' ORDER BY ordinal_position")).scalars())
    have = _payable(session, branch.id)
    # Twice what is needed: the lines go to the desks by patient, not evenly.
    copies = max(0, -(-2 * cashiers * payments // max(len(have), 1)) - 1)
    if copies:
        session.execute(text(CLONE_LINES.format(cols=", ".join(cols),
                                                picked=", ".join(f"l.{c}" for c in cols))),
                        {"copies": copies, "branch": branch.id})
    lines = _payable(session, branch.id)
    desks = []
    for i in range(cashiers):
        register = Register(branch_id=branch.id, name=f"Касса нагрузки {i + 1}",
                            serial=f"EMU-LOAD-{i + 1}", enabled=True, vat_rate=-1,
                            default_section_id=demo.default_section_id)
        session.add(register)
        user = AppUser(username=f"loadcashier{i + 1}", first_name="Кассир",
                       last_name=f"Нагрузка{i + 1}", email=f"load{i + 1}@bench.local",
                       active=True, password=template.password, roles=list(template.roles),
                       home_unit_id=branch.id)
        session.add(user)
        session.flush()
        desks.append({"username": user.username, "register": register.id, "orders": []})
    # A patient's lines go to one cashier: two desks never pay the same line.
    by_patient: dict[int, list[int]] = {}
    for line_id, patient_id in lines:
        by_patient.setdefault(patient_id, []).append(line_id)
    for turn, (patient_id, ids) in enumerate(by_patient.items()):
        desk = desks[turn % cashiers]
        for line_id in ids:
            if len(desk["orders"]) < payments:
                desk["orders"].append({"patient": patient_id, "lines": [line_id]})
    session.commit()
    return desks


def _payable(session, branch_id: int) -> list[tuple[int, int]]:
    return session.execute(text(
        "SELECT l.id, v.patient_id FROM vch_line l JOIN vch_voucher v ON v.id = l.voucher_id "
        "WHERE v.branch_id = :b AND l.payer_kind = 'patient' AND l.state = 'rendered' "
        "AND l.amount > 0 AND l.service_date >= current_date - 80 AND NOT EXISTS ("
        "SELECT 1 FROM money_transaction t WHERE t.voucher_line_id = l.id) ORDER BY l.id"),
        {"b": branch_id}).all()


def _cashier(host: str, desk: dict, start, out) -> None:
    """One client process: sign in, open the shift, wait for the others, pay."""
    import requests

    web = requests.Session()
    token = CSRF.search(web.get(f"{host}/login/").text).group(1)
    web.post(f"{host}/login/", data={"username": desk["username"], "password": "demo",
                                     "csrf_token": token}, allow_redirects=False)
    page = web.get(f"{host}/money/cash/", params={"register": desk["register"]})
    token = CSRF.search(page.text).group(1)
    opened = web.post(f"{host}/money/cash/open", params={"register": desk["register"]},
                      data={"csrf_token": token, "key": uuid.uuid4().hex},
                      allow_redirects=False)
    assert opened.status_code == 302, (desk["username"], opened.status_code, opened.text[:300])
    start.wait()
    done, failed, times, retried = [], [], [], 0
    for order in desk["orders"]:
        key = uuid.uuid4().hex
        body = {"key": key, "register": desk["register"], "patient": order["patient"],
                "lines": [{"line": line} for line in order["lines"]]}
        began = time.perf_counter()
        for _attempt in range(RETRIES + 1):
            # A 5xx (a timeout, an error after the register printed) is retried with
            # the same key, as the cash desk tells a cashier: recognised, not repeated.
            answer = web.post(f"{host}/api/v1/money_cash/pay", json=body,
                              headers={"X-CSRFToken": token}, timeout=60)
            if answer.status_code < 500:
                break
            retried += 1
        times.append((time.perf_counter() - began) * 1000)
        if answer.status_code == 200 and (answer.json().get("receipt") or {}).get(
                "state") == "confirmed":
            done.append((key, order["lines"]))
        else:
            failed.append((key, answer.status_code, answer.text[:200]))
    out.put({"done": done, "failed": failed, "times": times, "retried": retried})


def _count(url: str, acknowledged: list[tuple[str, list[int]]]) -> dict:
    """Return what the database holds against the acknowledged payments."""
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = [k for k, _lines in acknowledged]
        receipts = dict(conn.execute(text(
            "SELECT idem_key, count(*) FROM money_receipt WHERE state = 'confirmed' "
            "AND idem_key = ANY(:k) GROUP BY idem_key"), {"k": keys}).all())
        tx = dict(conn.execute(text(
            "SELECT split_part(idem_key, ':', 1), count(*) FROM money_transaction "
            "WHERE split_part(idem_key, ':', 1) = ANY(:k) GROUP BY 1"), {"k": keys}).all())
        doubled_lines = conn.execute(text(
            "SELECT count(*) FROM (SELECT voucher_line_id FROM money_transaction "
            "WHERE kind = 'payment' AND voucher_line_id IS NOT NULL AND NOT reversed "
            "GROUP BY voucher_line_id HAVING count(*) > 1) d")).scalar()
        doubled_receipts = conn.execute(text(
            "SELECT count(*) FROM (SELECT receipt_id FROM money_transaction WHERE "
            "kind = 'deposit' AND receipt_id IS NOT NULL GROUP BY receipt_id "
            "HAVING count(*) > 1) d")).scalar()
        confirmed = conn.execute(text(
            "SELECT count(*) FROM money_receipt r JOIN money_register g ON g.id = r.register_id "
            "WHERE g.serial LIKE 'EMU-LOAD-%' AND r.kind = 'sale' AND r.state = 'confirmed'"
        )).scalar()
        paid_lines = conn.execute(text(
            "SELECT count(*) FROM vch_line WHERE state = 'paid' AND id = ANY(:ids)"),
            {"ids": [i for _k, lines in acknowledged for i in lines]}).scalar()
    engine.dispose()
    want_tx = {k: 1 + len(lines) for k, lines in acknowledged}  # a deposit, a payment a line
    lost = sum(1 for k in keys if receipts.get(k) != 1 or tx.get(k) != want_tx[k])
    lost += len(acknowledged) - paid_lines
    return {"lost": lost, "doubled": doubled_lines + doubled_receipts
            + max(0, confirmed - len(acknowledged)), "confirmed": confirmed}


def _serve(url: str, port: int, workers: int, redis: str):
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis, "UCHET_ENV": "development",
           "STATEMENT_TIMEOUT_MS": "25000",
           "SECRET_KEY": "money-load-secret-key-that-is-long-enough-0"}
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--timeout", "60",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "run:app"],
        cwd=ROOT, env=env)


def _wait(host: str, seconds: float = 90) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(f"{host}/login/", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer at {host}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cashiers", type=int, default=8)
    parser.add_argument("--payments", type=int, default=40, help="per cashier")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database", default="uchet_money")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    url = _database(args.database)
    started = time.perf_counter()
    desks = _prepare(url, args.cashiers, args.payments)
    orders = sum(len(d["orders"]) for d in desks)
    print(f"PostgreSQL {args.database}: demo + {args.cashiers} registers and cashiers, "
          f"{orders} lines to pay; built in {time.perf_counter() - started:.0f} s", flush=True)
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    server = _serve(url, port, args.workers, args.redis)
    try:
        _wait(host)
        ctx = multiprocessing.get_context("spawn")
        start, out = ctx.Event(), ctx.Queue()
        clients = [ctx.Process(target=_cashier, args=(host, desk, start, out)) for desk in desks]
        for c in clients:
            c.start()
        time.sleep(3)  # each signs in and opens his shift
        began = time.perf_counter()
        start.set()
        results = [out.get(timeout=600) for _ in clients]
        spent = time.perf_counter() - began
        for c in clients:
            c.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    done = [d for r in results for d in r["done"]]
    failed = [f for r in results for f in r["failed"]]
    times = sorted(t for r in results for t in r["times"])
    p95 = times[int(len(times) * 0.95) - 1] if times else 0.0
    counts = _count(url, done)
    retried = sum(r["retried"] for r in results)
    print(f"{'cashiers':>8}{'workers':>8}{'paid':>7}{'refused':>8}{'retried':>8}{'pay/s':>8}"
          f"{'p50 ms':>9}{'p95 ms':>9}{'lost':>6}{'doubled':>9}")
    print(f"{args.cashiers:>8}{args.workers:>8}{len(done):>7}{len(failed):>8}{retried:>8}"
          f"{len(done) / spent:>8.1f}{statistics.median(times):>9.1f}{p95:>9.1f}"
          f"{counts['lost']:>6}{counts['doubled']:>9}")
    for item in failed[:5]:
        print("  refused:", item)
    print(f"lost: {counts['lost']} (acknowledged {len(done)}, confirmed sale receipts of the "
          f"load registers {counts['confirmed']}); doubled: {counts['doubled']}")
    if counts["lost"] or counts["doubled"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
