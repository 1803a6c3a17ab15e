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
