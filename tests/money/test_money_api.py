"""The money REST API: reading accounts and transactions under their rights, and a
payment by a front desk program that is recognised, not repeated, when sent again."""

from __future__ import annotations

from tests.contract_rows import message
from tests.money.rows import posted, register, unpaid_line, user_with


def test_patient_accounts_are_read_with_the_right(login, session):
    assert login("cashier").get("/api/v1/money_patient_account/").status_code == 200
    denied = login(user_with(session, payment__patient_accounts="none"))
    assert denied.get("/api/v1/money_patient_account/").status_code == 403


def test_all_transactions_are_read_with_their_right(login, session):
    assert login("cashier").get("/api/v1/money_transaction/").status_code == 403
    answer = login("accountant").get("/api/v1/money_transaction/")
    assert answer.status_code == 200 and answer.get_json()["count"] > 0


def test_a_payment_through_the_api_is_taken_once_per_key(login, session):
    line = unpaid_line(session)
    body = {"key": "k-api", "register": register(session).id,
            "patient": line.voucher.patient_id, "lines": [{"line": line.id}]}
    client = login("cashier")
    first = client.post("/api/v1/money_cash/pay", json=body)
    assert first.status_code == 200, first.get_json()
    again = client.post("/api/v1/money_cash/pay", json=body)
    assert again.get_json()["receipt"] == first.get_json()["receipt"]
    assert len(posted(session, "k-api")) == 2
    other = client.post("/api/v1/money_cash/pay", json={**body, "key": "k-api-2"})
    assert other.status_code == 400 and "уже оплачена" in message(other)


def test_a_payment_through_the_api_needs_edit_on_patients_accounts(login, session):
    line = unpaid_line(session)
    body = {"key": "k-api-view", "register": register(session).id,
            "patient": line.voucher.patient_id, "lines": [{"line": line.id}]}
    viewer = login(user_with(session, payment__patient_accounts="view"))
    assert viewer.post("/api/v1/money_cash/pay", json=body).status_code == 403
    assert posted(session, "k-api-view") == []


def test_an_accounts_balance_is_read_with_the_right_and_in_scope(login, session):
    from sqlalchemy import select

    from models.money import Account
    from models.org import Unit, UnitKind
    from tests.support import unit

    own = session.scalar(select(Account).where(
        Account.kind == "patient", Account.branch_id == unit(session, "MSK-TVR").id))
    branch = session.scalar(select(Unit).where(Unit.kind == UnitKind.branch,
                                               Unit.code != "MSK-TVR"))
    other = Account(kind="patient", branch_id=branch.id, patient_id=own.patient_id)
    session.add(other)
    session.commit()
    client = login(user_with(session, payment__patient_accounts="view"))
    answer = client.get(f"/api/v1/money_cash/balance/{own.id}")
    assert answer.status_code == 200 and answer.get_json()["balance"] == str(own.balance)
    # Another branch's account reads as unknown.
    assert client.get(f"/api/v1/money_cash/balance/{other.id}").status_code == 404
    denied = login(user_with(session, payment__patient_accounts="none"))
    assert denied.get(f"/api/v1/money_cash/balance/{own.id}").status_code == 403


def _tx(session, account, key: str, delta: str, **extra):
    """Post a bare transaction onto `account` (and its balance), as the desk would."""
    import datetime as dt
    from decimal import Decimal

    from models.money import Transaction

    delta = Decimal(delta)
    session.add(Transaction(idem_key=key, branch_id=account.branch_id, account_id=account.id,
                            kind="deposit" if delta > 0 else "payment", source="desk",
                            amount=abs(delta), delta=delta, discount_amount=0,
                            posted_on=dt.date.today(), created_on=dt.datetime.now(), **extra))
    account.balance += delta
    session.commit()


def test_an_accounts_statement_is_read_with_the_right_and_in_scope(login, session):
    from decimal import Decimal

    from sqlalchemy import select

    from models.money import Account, Transaction
    from models.org import Unit, UnitKind
    from tests.support import unit

    own = session.scalar(select(Account).where(
        Account.kind == "patient", Account.branch_id == unit(session, "MSK-TVR").id))
    _tx(session, own, "st-1", "500.00", note="наличными")
    _tx(session, own, "st-2", "-120.50")
    branch = session.scalar(select(Unit).where(Unit.kind == UnitKind.branch,
                                               Unit.code != "MSK-TVR"))
    other = Account(kind="patient", branch_id=branch.id, patient_id=own.patient_id,
                    balance=0)
    session.add(other)
    session.commit()
    _tx(session, other, "st-3", "70.00")
    client = login(user_with(session, payment__patient_accounts="view"))
    answer = client.get(f"/api/v1/money_cash/statement/{own.id}")
    assert answer.status_code == 200
    rows = answer.get_json()["rows"]
    ids = session.scalars(select(Transaction.id).where(Transaction.account_id == own.id)
                          .order_by(Transaction.id.desc())).all()
    assert [r["id"] for r in rows] == ids[:200]
    newest, before = rows[0], rows[1]
    assert newest["delta"] == "-120.50" and newest["kind_label"] == "Оплата услуги"
    assert before["note"] == "наличными" and before["delta"] == "500.00"
    # The running balance: the account's after the newest, less each newer change.
    assert newest["balance"] == str(own.balance)
    assert before["balance"] == str(own.balance - Decimal("-120.50"))
    limited = client.get(f"/api/v1/money_cash/statement/{own.id}?limit=1").get_json()
    assert [r["id"] for r in limited["rows"]] == ids[:1]
    # Another branch's account (with a transaction) reads as unknown; without the
    # right, the statement is refused; an organisation's account is hidden from a
    # user who does not view them.
    assert client.get(f"/api/v1/money_cash/statement/{other.id}").status_code == 404
    denied = login(user_with(session, payment__patient_accounts="none"))
    assert denied.get(f"/api/v1/money_cash/statement/{own.id}").status_code == 403
    firm = session.scalar(select(Account).where(Account.kind == "organisation"))
    if firm is not None:
        blind = login(user_with(session, payment__patient_accounts="view",
                                payment__organisation_accounts="none"))
        assert blind.get(f"/api/v1/money_cash/statement/{firm.id}").status_code == 404


def test_the_account_card_shows_the_statement_with_the_running_balance(login, session):
    from sqlalchemy import select

    from models.money import Account
    from tests.support import unit

    own = session.scalar(select(Account).where(
        Account.kind == "patient", Account.branch_id == unit(session, "MSK-TVR").id))
    _tx(session, own, "st-card", "250.00", note="через кассу")
    page = login("cashier").get(f"/money/patients/show/{own.id}").get_data(as_text=True)
    table = page[page.index('id="statement"'):]
    assert "через кассу" in table and "Внесение на лицевой счёт" in table
    assert "Остаток" in table
