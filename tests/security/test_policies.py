"""The save-time policy mechanism: forbid refuses naming the right, warn needs a
confirmation, numbers and flags limit, and every decision is journaled.

The documents that call it (vouchers, invoices) come with their issues; here it
runs with the rights of real roles resolved from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.journal import JournalEntry
from security.effective import resolve
from security.policies import ConfirmationRequired, Policies, PolicyRefused
from services.boundary import transaction
from tests.support import make_role, make_user, unit


@pytest.fixture
def rights_of(session, app):
    def _make(values):
        role = make_role(session, f"Политики {len(values)} {sorted(values.items())}", values)
        user = make_user(session, f"pol{role.id}", roles=[role], home_unit=unit(session, "MSK-TVR"))
        return resolve(session, user)

    return _make


def _journal(session, pk):
    return session.scalars(select(JournalEntry).where(
        JournalEntry.action == "policy", JournalEntry.row_pk == str(pk))).all()


def test_forbid_refuses_naming_the_right_and_journals_the_refusal(session, rights_of):
    checks = Policies(rights=rights_of({"voucher.without_staff": "forbid"}))
    checks.policy("voucher.without_staff", True, "Талон без медперсонала")
    # The boundary rolls the save back and journals the refusal on its own.
    with pytest.raises(PolicyRefused) as refused, transaction(session):
        checks.settle(session, "voucher", 101)
    assert "Сохранение талона без медперсонала" in str(refused.value)
    assert [e.after["decision"] for e in _journal(session, 101)] == ["refused"]


def test_warn_needs_confirmation_then_journals_it(session, rights_of):
    rights = rights_of({"voucher.without_diagnosis": "warn"})
    unconfirmed = Policies(rights=rights)
    unconfirmed.policy("voucher.without_diagnosis", True, "Талон без диагноза")
    with pytest.raises(ConfirmationRequired) as asked:
        unconfirmed.settle(session, "voucher", 102)
    assert asked.value.warnings and "диагноз" in asked.value.warnings[0].lower()
    assert _journal(session, 102) == []

    confirmed = Policies(rights=rights, confirmed=True)
    confirmed.policy("voucher.without_diagnosis", True, "Талон без диагноза")
    decisions = confirmed.settle(session, "voucher", 102)
    session.commit()
    assert [d.outcome for d in decisions] == ["confirmed"]
    assert [e.after["decision"] for e in _journal(session, 102)] == ["confirmed"]


def test_allow_and_situations_that_do_not_happen_pass_silently(session, rights_of):
    checks = Policies(rights=rights_of({"voucher.without_attachment": "allow"}))
    checks.policy("voucher.without_attachment", True, "Услуги без прикрепления")
    checks.policy("voucher.without_staff", False, "Талон без медперсонала")
    assert checks.settle(session, "voucher", 103) == []


@pytest.mark.parametrize(("limit", "days", "refused"), [(0, 400, False), (3, 3, False),
                                                        (3, 4, True)])
def test_numeric_limits_with_zero_meaning_unlimited(session, rights_of, limit, days, refused):
    checks = Policies(rights=rights_of({"voucher.edit_days": str(limit)}))
    checks.limit("voucher.edit_days", days, "Талон вне допустимого срока")
    if refused:
        with pytest.raises(PolicyRefused):
            checks.settle(session, "voucher", 104)
    else:
        checks.settle(session, "voucher", 104)


def test_flags_refuse_when_the_right_is_no(session, rights_of):
    checks = Policies(rights=rights_of({"voucher.future_date": "no"}))
    checks.flag("voucher.future_date", True, "Дата талона в будущем")
    with pytest.raises(PolicyRefused):
        checks.settle(session, "voucher", 105)
    allowed = Policies(rights=rights_of({"voucher.future_date": "yes"}))
    allowed.flag("voucher.future_date", True, "Дата талона в будущем")
    assert allowed.settle(session, "voucher", 106) == []


def test_a_refusal_leaves_the_callers_changes_unsaved(session, rights_of):
    rights = rights_of({"voucher.without_staff": "forbid"})
    department = unit(session, "MSK-TVR-THR")
    department.name = "Изменено до отказа"
    checks = Policies(rights=rights)
    checks.policy("voucher.without_staff", True, "Талон без медперсонала")
    with pytest.raises(PolicyRefused), transaction(session):
        checks.settle(session, "org_unit", department.id)
    session.expire_all()
    assert unit(session, "MSK-TVR-THR").name != "Изменено до отказа"
