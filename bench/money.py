"""Money on PostgreSQL: an account's balance and statement against the raw SQL
aggregate, and the Z report's reconciliation over a shift of 10,000 receipts.

    .venv/bin/python -m bench.money --accounts 10000 --transactions 100000 \
        --receipts 10000 --rounds 30 --calls 20

Builds a fresh PostgreSQL database (migrations), generates the rows with SQL, then
times each app function and the best hand-written SQL for the same rows, round by
round and alternately first (`bench.rounds`). The app runs as a cashier of the
branch (his scope and kinds from rights resolved once, as in a request) on the
session's connection; the baseline runs on the driver's connection held open. The
balance runs on the driver's cursor (`statements.balance`), below the statement
events the table counts: its "stmts" and "its SQL" read 0; so does the statement
(`statements.statement`, the same lean read). Asserts
nothing; prints figures and ratios. Payments by concurrent cashiers through
gunicorn: `bench.money_load`.
"""

from __future__ import annotations

import argparse
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

#: The best hand-written SQL for an account's balance: the sum of its transactions
#: over the (account_id, id) index.
RAW_BALANCE = "SELECT coalesce(sum(delta), 0) FROM money_transaction WHERE account_id = %s"
#: The best hand-written SQL for an account's statement: its last 200 transactions
#: with what the screen shows of each (service, invoice number, fiscal number,
#: cashier) and the account's balance (the running balance is that less the newer
#: changes: the client subtracts). Measured slower and left: the same as six joins
#: (more to plan) and a window summing in SQL.
RAW_STATEMENT = (
    "SELECT a.balance, t.id, t.posted_on, t.kind, t.reversed, t.amount, t.discount_amount, "
    "t.delta, t.note, (SELECT s.name FROM vch_line l JOIN price_service s "
    "ON s.id = l.service_id WHERE l.id = t.voucher_line_id), "
    "(SELECT i.number_seq || '/' || i.number_year FROM inv_invoice i WHERE i.id = t.invoice_id), "
    "(SELECT r.fiscal_number FROM money_receipt r WHERE r.id = t.receipt_id), "
    "(SELECT u.last_name FROM ab_user u WHERE u.id = t.created_by_id) "
    "FROM money_transaction t JOIN money_account a ON a.id = t.account_id "
    "WHERE t.account_id = %s ORDER BY t.id DESC LIMIT 200")
#: The shift's receipts and the transactions they posted: the same rows as the
#: app's two aggregates, in one statement.
RAW_Z = ("SELECT 'r', kind, sum(total), count(*), NULL FROM money_receipt WHERE shift_id = %s "
         "AND state = 'confirmed' GROUP BY kind UNION ALL "
         "SELECT 't', kind, sum(amount), count(*), sum(CASE WHEN delta < 0 THEN amount END) "
         "FROM money_transaction WHERE shift_id = %s AND receipt_id IS NOT NULL GROUP BY kind")


def _cashier_rights(branch_id: int):
    """Return the rights of a cashier of the branch, as a request resolves them."""
    from security.effective import EffectiveRights
    from security.scope import Scope

    units = frozenset({branch_id})
    return EffectiveRights(
        user_id=None, username="bench-cashier", roles=frozenset({"Кассир"}), is_admin=False,
        permissions=frozenset(), scope=Scope(all=False, exact=units, subtree=frozenset(),
                                             units=units, shared=units),
        values={"payment.patient_accounts": "create", "payment.organisation_accounts": "view",
                "scope.data": "own_subtree"}, own_units=units)


def _raw(conn, sql: str, arg, prepare=None):
    """Return the rows of `sql` for `arg`; `prepare=False`: planned for this very
    value at each call (psycopg prepares a statement run five times, and PostgreSQL
    may then keep a generic plan, poor for a value far from the average)."""
    cursor = conn.cursor()
    cursor.execute(sql, (arg,) * sql.count("%s"), prepare=prepare)
    rows = cursor.fetchall()
    cursor.close()
    return rows


def run(args) -> None:
    from app.extensions import db
    from bench.rounds import Pair, measure, table
    from models.money import Account, Shift
    from services.money import shifts, statements

    with postgres_database(PG_SERVER) as url:
        if url is None:
            return
        with migrated_app(url):
            start = time.perf_counter()
            for sql in SETUP:
                db.session.execute(text(sql), {"accounts": args.accounts,
                                               "transactions": args.transactions,
                                               "receipts": args.receipts})
            db.session.commit()
            print(f"PostgreSQL: {args.accounts} accounts, {args.transactions} transactions, "
                  f"a shift of {args.receipts} receipts ({args.receipts} more transactions); "
                  f"generated in {time.perf_counter() - start:.1f} s")
            engine, session = db.engine, db.session
            account = session.query(Account).order_by(Account.id.desc()).first()
            account_id, shift_id = account.id, session.query(Shift.id).scalar()
            rights = _cashier_rights(account.branch_id)
            count = session.execute(text("SELECT count(*) FROM money_transaction WHERE "
                                         "account_id = :a"), {"a": account_id}).scalar()
            # The account the shift's receipts went to: ten thousand transactions.
            busy = session.query(Account.id).order_by(Account.id).limit(1).scalar()
            many = session.execute(text("SELECT count(*) FROM money_transaction WHERE "
                                        "account_id = :a"), {"a": busy}).scalar()
            pooled = engine.raw_connection()
            raw = pooled.dbapi_connection  # the driver's own connection: no pool proxy
            try:
                assert statements.balance(session, rights, account_id) == \
                    _raw(raw, RAW_BALANCE, account_id)[0][0]
                assert statements.balance(session, _cashier_rights(-1), account_id) is None
                for which in (account_id, busy):
                    lean = statements.statement(session, rights, which)
                    rows = _raw(raw, RAW_STATEMENT, which)
                    assert [r.id for r in lean] == [r[1] for r in rows]
                    assert lean[0].balance == rows[0][0]
                assert statements.statement(session, _cashier_rights(-1), account_id) is None
                # Each timing is `--calls` calls in a row: one call is a fraction of a
                # millisecond, where a busy machine's scheduling noise is as large.
                n = args.calls

                def times(fn, *a):
                    return lambda: [fn(*a) for _ in range(n)]

                pairs = [
                    Pair(f"balance {count} tx x{n}",
                         times(statements.balance, session, rights, account_id),
                         times(_raw, raw, RAW_BALANCE, account_id)),
                    Pair(f"balance {many} tx x{n}",
                         times(statements.balance, session, rights, busy),
                         times(_raw, raw, RAW_BALANCE, busy)),
                    Pair(f"ORM sum {count} tx x{n}",
                         times(statements.balance_from_transactions, session, account_id),
                         times(_raw, raw, RAW_BALANCE, account_id)),
                    Pair(f"statement {min(count, 200)} x{n}",
                         times(statements.statement, session, rights, account_id),
                         times(_raw, raw, RAW_STATEMENT, account_id)),
                    # The hand-written SQL prepared: its generic plan sorts all of the
                    # busy account's rows (PostgreSQL estimates 10 an account); planned
                    # for the account, it reads the last 200 by the index.
                    Pair(f"statement 200 of {many} x{n}",
                         times(statements.statement, session, rights, busy),
                         times(_raw, raw, RAW_STATEMENT, busy, False)),
                    Pair(f"Z over {args.receipts}",
                         lambda: shifts.book_totals(session, shift_id),
                         lambda: _raw(raw, RAW_Z, shift_id)),
                ]
                measure(engine, pairs, args.rounds)
            finally:
                pooled.close()
            table(pairs, show_statements=args.statements)
            session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--receipts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=20, help="calls per timing")
    parser.add_argument("--statements", action="store_true",
                        help="print each request's slowest statements")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
