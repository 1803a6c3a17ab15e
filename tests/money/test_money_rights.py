"""Every right of «Документы / Оплата» and «Документы / Касса», allowing and
refusing, over HTTP as a user of «Тверской» holding a cashier's base rights and
the right in question (or not)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models.money import Account, Shift, Transaction
from models.refbooks import Discount, PaymentSection
from services.money.accounts import post
from tests.money.rows import (
    account_of,
    open_shift,
    pay_form,
    posted,
    refused,
    register,
    unpaid_line,
    user_with,
)
from tests.support import unit

DENIED = "Нет права"


def _cash_post(client, session, path, **form):
    return client.post(f"/money/cash/{path}?register={register(session).id}",
                       data={"key": f"k-{path}-{id(client)}", **form})


@pytest.mark.parametrize(("right", "path", "form", "ok"), [
    ("cash.x_report", "report/x", {}, 200),
    ("cash.section_report", "report/sections", {}, 200),
    ("cash.cash_in", "cash", {"kind": "cash_in", "amount": "100"}, 302),
    ("cash.cash_out", "cash", {"kind": "cash_out", "amount": "100"}, 302),
    ("cash.zero_receipt", "zero", {}, 302),
    ("cash.z_report", "z", {}, 302),
])
def test_cash_desk_operations_need_their_right(login, session, right, path, form, ok):
    allowed = login(user_with(session, **{right.replace(".", "__"): "yes"}))
    denied = login(user_with(session))
    assert DENIED in refused(_cash_post(denied, session, path, **form))
    assert open_shift(session) is not None  # nothing closed by a refusal
    assert _cash_post(allowed, session, path, **form).status_code == ok


def test_register_settings_need_their_right(login, session):
    assert login(user_with(session)).get("/money/registers/").status_code == 403
    client = login(user_with(session, cash__settings="yes"))
    assert client.get("/money/registers/").status_code == 200
    answer = client.post("/money/registers/save", data={
        "name": "Касса 2", "serial": "EMU-T2", "branch": unit(session, "MSK-TVR").id,
        "vat_rate": "-1", "enabled": "y"})
    assert answer.status_code == 302


@pytest.mark.parametrize(("right", "path"), [
    ("payment.patient_accounts", "/money/patients/list/"),
    ("payment.organisation_accounts", "/money/organisations/list/"),
])
def test_account_lists_need_view_of_their_kind(login, session, right, path):
    key = right.replace(".", "__")
    assert login(user_with(session, **{key: "none"})).get(path).status_code == 403
    assert login(user_with(session, **{key: "view"})).get(path).status_code == 200


def test_taking_a_payment_needs_more_than_view_on_patients_accounts(login, session):
    """Viewing does not take money; a patient's first payment opens his account,
    which needs «создание»."""
    line = unpaid_line(session)
    url, form = pay_form(session, line, "k-view-only")
    viewer = login(user_with(session, payment__patient_accounts="view"))
    assert DENIED in refused(viewer.post(url, data=form))
    assert posted(session, "k-view-only") == []
    editor = login(user_with(session, payment__patient_accounts="create"))
    assert editor.post(url, data=form).status_code == 302


def test_the_list_of_all_transactions_needs_its_right(login, session):
    assert login(user_with(session)).get("/money/transactions/").status_code == 403
    page = login(user_with(session, payment__all_transactions="yes")).get("/money/transactions/")
    assert page.status_code == 200 and "Оплата услуги" in page.get_data(as_text=True)


def test_changing_the_discount_at_payment_needs_its_right(login, session):
    discount = session.scalar(select(Discount).where(Discount.kind == "discount",
                                                     Discount.percent.is_not(None)))
    line = unpaid_line(session)
    url, form = pay_form(session, line, "k-disc", discount=str(discount.id))
    assert DENIED in refused(login(user_with(session)).post(url, data=form))
    client = login(user_with(session, payment__change_discount="yes"))
    assert client.post(url, data=form).status_code == 302
    payment = next(t for t in posted(session, "k-disc") if t.kind == "payment")
    assert payment.discount_amount > 0 and payment.amount + payment.discount_amount == line.amount


def test_changing_the_section_at_payment_needs_its_right(login, session):
    other = session.scalar(select(PaymentSection).where(
        PaymentSection.id != register(session).default_section_id))
    line = unpaid_line(session)
    url, form = pay_form(session, line, "k-sect", **{f"section_{line.id}": str(other.id)})
    assert DENIED in refused(login(user_with(session)).post(url, data=form))
    assert login(user_with(session, payment__change_section="yes")).post(
        url, data=form).status_code == 302
    assert {t.section_id for t in posted(session, "k-sect") if t.kind == "payment"} == {other.id}


def _patient_account(session) -> Account:
    return session.scalar(select(Account).where(
        Account.kind == "patient", Account.branch_id == unit(session, "MSK-TVR").id)
        .order_by(Account.id))


def test_deposit_needs_its_right(login, session):
    account = _patient_account(session)
    form = {"register": register(session).id, "amount": "500,00", "key": "k-dep"}
    url = f"/money/patients/deposit/{account.id}"
    assert DENIED in refused(login(user_with(session)).post(url, data=form))
    assert login(user_with(session, payment__deposit="yes")).post(url, data=form).status_code == 302
    session.expire_all()
    assert account.balance == Decimal("500.00")


def test_refund_from_the_balance_needs_its_right(login, session):
    account = _patient_account(session)
    depositor = login(user_with(session, payment__deposit="yes"))
    depositor.post(f"/money/patients/deposit/{account.id}",
                   data={"register": register(session).id, "amount": "300", "key": "k-d2"})
    form = {"register": register(session).id, "amount": "200", "key": "k-ref"}
    url = f"/money/patients/refund/{account.id}"
    assert DENIED in refused(login(user_with(session)).post(url, data=form))
    assert login(user_with(session, payment__refund="yes")).post(url, data=form).status_code == 302
    session.expire_all()
    assert account.balance == Decimal("100.00")
    # More than is left: refused, the balance never goes below zero.
    form["key"] = "k-ref-2"
    assert "недостаточно" in refused(login(user_with(session, payment__refund="yes")).post(
        url, data={**form, "amount": "150"}))


def test_transfer_needs_its_right(login, session):
    source = session.scalar(select(Account).where(Account.kind == "organisation"))
    target = _patient_account(session)
    form = {"source": source.id, "amount": "1000", "key": "k-tr"}
    url = f"/money/patients/transfer/{target.id}"
    base = {"payment__organisation_accounts": "edit"}
    assert DENIED in refused(login(user_with(session, **base)).post(url, data=form))
    client = login(user_with(session, payment__transfer="yes", **base))
    assert client.post(url, data=form).status_code == 302
    session.expire_all()
    assert target.balance == Decimal("1000.00") and source.balance == Decimal("149000.00")


def test_turning_off_the_register_for_an_account_needs_its_right(login, session):
    account = _patient_account(session)
    url, form = f"/money/patients/flags/{account.id}", {"no_cash_desk": "y"}
    assert DENIED in refused(login(user_with(session)).post(url, data=form))
    assert login(user_with(session, payment__disable_cash_register="yes")).post(
        url, data=form).status_code == 302
    session.expire_all()
    assert account.no_cash_desk


def _plain_transaction(session, source="desk", days_ago=0) -> Transaction:
    """A deposit without a receipt on a patient's account, `days_ago` days old."""
    account = _patient_account(session)
    tx = post(session, account, "deposit", Decimal("50"), Decimal("50"),
              key=f"k-plain-{source}-{days_ago}", user_id=None, source=source)
    if days_ago:
        session.execute(update(Transaction).where(Transaction.id == tx.id).values(
            posted_on=dt.date.today() - dt.timedelta(days=days_ago)))
    session.commit()
    return tx


def _reverse(client, tx, key="k-rev"):
    return client.post(f"/money/patients/reverse/{tx.account_id}/{tx.id}", data={"key": key})


def test_reversing_a_transaction_needs_edit_transactions(login, session):
    tx = _plain_transaction(session)
    assert DENIED in refused(_reverse(login(user_with(session)), tx))
    client = login(user_with(session, payment__patient_accounts__edit_transactions="yes"))
    assert _reverse(client, tx).status_code == 302
    session.expire_all()
    assert tx.reversed and _patient_account(session).balance == Decimal("0.00")


@pytest.mark.parametrize(("days", "allowed"), [(1, False), (10, True), (0, True)])
def test_days_to_edit_transactions(login, session, days, allowed):
    tx = _plain_transaction(session, days_ago=5)
    client = login(user_with(session, payment__patient_accounts__edit_transactions="yes",
                             payment__patient_accounts__edit_days=str(days)))
    answer = _reverse(client, tx)
    if allowed:
        assert answer.status_code == 302
    else:
        assert "дн. после проведения" in refused(answer)


def test_reversing_a_pharmacy_transaction_needs_its_right(login, session):
    tx = _plain_transaction(session, source="pharmacy")
    base = {"payment__patient_accounts__edit_transactions": "yes"}
    assert DENIED in refused(_reverse(login(user_with(session, **base)), tx))
    client = login(user_with(session, payment__delete_pharmacy_transactions="yes", **base))
    assert _reverse(client, tx).status_code == 302


def _fiscal_payment(session, closed: bool) -> Transaction:
    shift = session.scalar(select(Shift).where(Shift.state == ("closed" if closed else "open"),
                                               Shift.register_id == register(session).id))
    return session.scalar(select(Transaction).where(
        Transaction.shift_id == shift.id, Transaction.kind == "payment",
        Transaction.reversed.is_(False)).order_by(Transaction.id.desc()))


def test_reversing_a_transaction_with_a_receipt_needs_its_right(login, session):
    tx = _fiscal_payment(session, closed=False)
    base = {"payment__patient_accounts__edit_transactions": "yes"}
    assert DENIED in refused(_reverse(login(user_with(session, **base)), tx))
    client = login(user_with(session, payment__delete_fiscal_transactions="yes", **base))
    assert _reverse(client, tx).status_code == 302
    session.expire_all()
    assert tx.voucher_line.state == "rendered"  # the line is unpaid again


def test_reversing_in_a_closed_shift_needs_its_right(login, session):
    tx = _fiscal_payment(session, closed=True)
    base = {"payment__patient_accounts__edit_transactions": "yes",
            "payment__delete_fiscal_transactions": "yes"}
    assert DENIED in refused(_reverse(login(user_with(session, **base)), tx))
    client = login(user_with(session, payment__delete_closed_shift="yes", **base))
    assert _reverse(client, tx).status_code == 302


def test_refund_of_a_line_paid_in_a_closed_shift_needs_its_right(login, session):
    from services.money.refunds import refundable

    tx = next(t for t in session.scalars(select(Transaction).where(
        Transaction.shift_id == session.scalar(select(Shift.id).where(Shift.state == "closed")),
        Transaction.kind == "payment")) if refundable(session, t.voucher_line_id)[0] > 0)
    patient = tx.account.patient_id
    url = f"/money/cash/refund?register={register(session).id}&patient={patient}"
    form = {"line": tx.voucher_line_id, "amount": "10", "key": "k-closed-ref"}
    base = {"payment__refund": "yes"}
    assert DENIED in refused(login(user_with(session, **base)).post(url, data=form))
    client = login(user_with(session, payment__refund_closed_shift="yes", **base))
    assert client.post(url, data=form).status_code == 302
    assert account_of(session, patient) is not None


def test_an_account_outside_the_scope_answers_404(login, session):
    account = _patient_account(session)
    other = login(user_with(session, scope__data="own_unit"))
    session.execute(update(Account).where(Account.id == account.id).values(
        branch_id=unit(session, "MSK-ARB").id))
    session.commit()
    assert other.get(f"/money/patients/show/{account.id}").status_code == 404


def test_organisation_accounts_are_found_by_a_lower_case_cyrillic_name(login, session):
    """The holder's name typed in lower case finds the account on SQLite too, whose
    own lower() folds ASCII only."""
    from tests.contract_rows import organisation

    holder = organisation(session, name="Ромашка-Строй")
    session.add(Account(kind="organisation", branch_id=unit(session, "MSK-TVR").id,
                        organisation_id=holder.id))
    session.commit()
    client = login(user_with(session, payment__organisation_accounts="view"))
    for typed in ("ромашка", "РОМАШКА-с", "Ромашка"):
        page = client.get("/money/organisations/list/", query_string={"q": typed})
        assert page.status_code == 200
        assert "Ромашка-Строй" in page.get_data(as_text=True), typed
    missing = client.get("/money/organisations/list/", query_string={"q": "лютик"})
    assert "Ромашка-Строй" not in missing.get_data(as_text=True)
