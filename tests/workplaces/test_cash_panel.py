"""The cashier's home: his branch's registers with their shifts, and today's patients
who still have services to pay, each a click from the cash desk."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.contract_rows import patient
from tests.money.rows import open_shift, pay_form, register
from tests.voucher_rows import line, service, voucher
from tests.workplaces.test_panels_data import panel


def test_the_cashier_sees_his_register_and_todays_patients_who_owe(session, login):
    today = dt.date.today()
    ours = patient(session, "MSK-TVR", last_name="Касспанелев")
    theirs = patient(session, "SPB-NEV", last_name="Касспанелев")
    owed = line(session, voucher(session, ours, "MSK-TVR", today), service(session))
    line(session, voucher(session, theirs, "SPB-NEV", today), service(session))
    session.commit()
    cashier = login("cashier")
    shown = panel(cashier.get("/"), "cash_desk")
    reg, shift = register(session), open_shift(session)
    assert reg.name in shown
    assert f"№ {shift.number} открыта" in shown
    assert f"/money/cash/?register={reg.id}&amp;patient={ours.id}" in shown
    assert f"patient={theirs.id}" not in shown

    url, form = pay_form(session, owed, f"panel-{uuid.uuid4().hex}")
    assert cashier.post(url, data=form).status_code == 302
    assert f"patient={ours.id}" not in panel(cashier.get("/"), "cash_desk")


def test_who_may_not_take_payments_has_no_cash_panel(login):
    assert panel(login("registrar").get("/"), "cash_desk") == ""
    assert panel(login("doctor").get("/"), "cash_desk") == ""
