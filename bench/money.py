"""Money on PostgreSQL: an account's balance and statement against the raw SQL
aggregate, the Z report's reconciliation over a shift of 10,000 receipts, and
payments through the emulated register (one cashier, then several at once).

    .venv/bin/python -m bench.money --accounts 10000 --transactions 100000 \
        --receipts 10000 --payments 200 --cashiers 8

Builds a fresh PostgreSQL database (migrations), generates the rows with SQL, then
times each case and its hand-written SQL interleaved (median of --repeat runs).
Asserts nothing; prints figures and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from sqlalchemy import text

from bench.common import PG_SERVER, migrated_app, postgres_database

SETUP = [
    "INSERT INTO org_unit (id, kind, code, name, active) VALUES "
    "(900001, 'network', 'BN', 'Сеть', true), (900002, 'branch', 'BB', 'Филиал', true)",
    "UPDATE org_unit SET parent_id = 900001 WHERE id = 900002",
    "INSERT INTO pat_patient (last_name, first_name, birth_date, sex, home_branch_id, name_key,"
    " possible_duplicate) SELECT 'Пациент' || g, 'Тест', date '1980-01-01' + g % 9000, "
    "CASE WHEN g % 2 = 0 THEN 'm' ELSE 'f' END, 900002, 'пациент' || g || ' тест', false "
    "FROM generate_series(1, :accounts) g",
    "INSERT INTO money_account (kind, branch_id, patient_id, balance, advance, allow_negative,"
    " no_cash_desk, created_on) SELECT 'patient', 900002, id, 0, 0, false, false, now() "
    "FROM pat_patient",
    "INSERT INTO money_transaction (idem_key, branch_id, account_id, kind, source, amount,"
    " delta, discount_amount, reversed, posted_on, created_on) "
    "SELECT 'b' || g, 900002, a.min + g % :accounts, "
    "CASE WHEN g % 3 = 0 THEN 'payment' ELSE 'deposit' END, 'desk', 100 + g % 50, "
    "CASE WHEN g % 3 = 0 THEN -(100 + g % 50) ELSE 100 + g % 50 END, 0, false, "
    "current_date - (g % 300), now() "
    "FROM generate_series(1, :transactions) g, (SELECT min(id) AS min FROM money_account) a",
    "UPDATE money_account a SET balance = s.total FROM (SELECT account_id, sum(delta) AS total "
    "FROM money_transaction GROUP BY account_id) s WHERE s.account_id = a.id",
    "INSERT INTO money_register (branch_id, name, serial, enabled, vat_rate) "
    "VALUES (900002, 'Касса', 'EMU-BENCH', true, -1)",
    "INSERT INTO money_shift (register_id, branch_id, number, state, opened_on, sales, refunds,"
    " cash_in, cash_out, receipts) SELECT id, 900002, 1, 'open', now(), 0, 0, 0, 0, 0 "
    "FROM money_register",
    "INSERT INTO money_receipt (idem_key, branch_id, register_id, shift_id, kind, state, total,"
    " intent, fiscal_number, shift_receipt, created_on) SELECT 'r' || g, 900002, s.register_id,"
    " s.id, CASE WHEN g % 10 = 0 THEN 'refund' ELSE 'sale' END, 'confirmed', 100 + g % 50, '{}',"
    " g, g, now() FROM generate_series(1, :receipts) g, money_shift s",
    "INSERT INTO money_transaction (idem_key, branch_id, account_id, kind, source, amount,"
    " delta, discount_amount, reversed, posted_on, created_on, receipt_id, shift_id) "
    "SELECT 'z' || r.id, 900002, (SELECT min(id) FROM money_account), "
    "CASE WHEN r.kind = 'sale' THEN 'deposit' ELSE 'refund' END, 'desk', r.total, "
    "CASE WHEN r.kind = 'sale' THEN r.total ELSE -r.total END, 0, false, current_date, now(), "
    "r.id, r.shift_id FROM money_receipt r",
    "ANALYZE",
]

RAW_BALANCE = "SELECT coalesce(sum(delta), 0) FROM money_transaction WHERE account_id = %s"
RAW_STATEMENT = ("SELECT id, kind, amount, delta, posted_on FROM money_transaction "
                 "WHERE account_id = %s ORDER BY id DESC LIMIT 200")
RAW_Z = ("SELECT kind, sum(total), count(*) FROM money_receipt WHERE shift_id = %s "
         "AND state = 'confirmed' GROUP BY kind")


def _median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _raw(engine, sql: str, arg):
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        cursor.execute(sql, (arg,))
        return cursor.fetchall()
    finally:
        conn.close()


def _pair(name: str, ours, raw, repeat: int) -> None:
    a, b = [], []
    for _ in range(3):  # interleaved: the same load on both
        a.append(_median_ms(ours, repeat))
        b.append(_median_ms(raw, repeat))
    mine, best = statistics.median(a), statistics.median(b)
    print(f"{name:<44} {mine:8.2f} ms   raw SQL {best:8.2f} ms   ratio {mine / best:5.2f}")


def _payments(app, n: int, cashiers: int) -> None:
    """Open a shift and pay `n` small voucher-less deposits through the emulator by
    `cashiers` threads; count receipts and transactions for lost or doubled ones."""
    from app.extensions import db
    from models.money import Account, Register
    from security.effective import EffectiveRights
    from security.scope import Scope
    from services.money import payments, shifts
    from services.money.accounts import new_key

    admin = EffectiveRights(user_id=None, username="bench", roles=frozenset(), is_admin=True,
                            permissions=frozenset(), values={}, scope=Scope.everything())
    register = db.session.query(Register).one()
    db.session.execute(text("UPDATE money_shift SET state = 'closed', number = 0"))
    section = db.session.execute(text(
        "INSERT INTO ref_payment_section (code, name, active, register_section) "
        "VALUES ('B1', 'Услуги', true, 1) RETURNING id")).scalar()
    db.session.execute(text("UPDATE money_register SET default_section_id = :s"), {"s": section})
    db.session.commit()
    shifts.open_shift(db.session, admin, register.id, key=new_key())
    accounts = [a for (a,) in db.session.query(Account.id).limit(cashiers).all()]
    register_id = register.id
    db.session.remove()
    errors: list[str] = []

    def cashier(account_id: int, count: int) -> None:
        with app.app_context():
            for _ in range(count):
                try:
                    payments.deposit(db.session, admin, key=new_key(), register_id=register_id,
                                     account_id=account_id, amount=payments.Decimal("10.00"))
                except Exception as exc:  # counted, the run goes on
                    errors.append(type(exc).__name__)
                    db.session.rollback()
            db.session.remove()

    for threads in (1, cashiers):
        before = db.session.execute(text("SELECT count(*) FROM money_receipt WHERE "
                                         "state = 'confirmed'")).scalar()
        db.session.remove()
        workers = [threading.Thread(target=cashier, args=(accounts[i % len(accounts)],
                                                          n // threads))
                   for i in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        spent = time.perf_counter() - start
        done = db.session.execute(text("SELECT count(*) FROM money_receipt WHERE "
                                       "state = 'confirmed'")).scalar() - before
        wanted = n // threads * threads
        print(f"payments through the emulator, {threads} cashier(s): {done} of {wanted} in "
              f"{spent:.1f} s = {done / spent:.1f}/s; errors {len(errors)}; "
              f"lost {wanted - done - len(errors)}")
        errors.clear()
    doubled = db.session.execute(text(
        "SELECT count(*) FROM (SELECT receipt_id FROM money_transaction WHERE receipt_id IS NOT "
        "NULL GROUP BY receipt_id HAVING count(*) > 1) d")).scalar()
    print(f"receipts with more than one deposit (doubled): {doubled}")
    db.session.remove()


def run(args) -> None:
    from app.extensions import db
    from models.money import Account, Shift
    from services.money import shifts, statements

    with postgres_database(PG_SERVER) as url:
        if url is None:
            return
        with migrated_app(url) as app:
            start = time.perf_counter()
            for sql in SETUP:
                db.session.execute(text(sql), {"accounts": args.accounts,
                                               "transactions": args.transactions,
                                               "receipts": args.receipts})
            db.session.commit()
            print(f"PostgreSQL: {args.accounts} accounts, {args.transactions} transactions, "
                  f"a shift of {args.receipts} receipts ({args.receipts} more transactions); "
                  f"generated in {time.perf_counter() - start:.1f} s")
            engine = db.engine
            account = db.session.query(Account).order_by(Account.id.desc()).first()
            shift = db.session.query(Shift).one()
            assert statements.balance_from_transactions(db.session, account.id) == \
                account.balance
            _pair("balance: sum of the account's transactions",
                  lambda: statements.balance_from_transactions(db.session, account.id),
                  lambda: _raw(engine, RAW_BALANCE, account.id), args.repeat)
            _pair("balance: the account's running balance",
                  lambda: db.session.get(Account, account.id, populate_existing=True).balance,
                  lambda: _raw(engine, RAW_BALANCE, account.id), args.repeat)
            _pair("statement: last 200 transactions (ORM)",
                  lambda: statements.statement(db.session, account),
                  lambda: _raw(engine, RAW_STATEMENT, account.id), args.repeat)
            _pair(f"Z reconciliation over {args.receipts} receipts",
                  lambda: shifts.book_totals(db.session, shift.id),
                  lambda: _raw(engine, RAW_Z, shift.id), args.repeat)
            db.session.remove()
            if args.payments:
                _payments(app, args.payments, args.cashiers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--cashiers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
