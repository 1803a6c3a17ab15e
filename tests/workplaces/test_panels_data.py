"""What the home panels show is the user's scope: patients, today's vouchers,
referrals, contracts, figures, the clients' queue and its counts in the menu."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import func, select

from models.cabinet import Question
from models.org import UnitClosure
from models.referrals import Referral
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import contract, page, patient
from tests.support import make_user, unit
from tests.voucher_rows import line, service, voucher


def panel(response, key: str) -> str:
    """Return the HTML of one panel of a home page ('' when it is not shown)."""
    html = page(response)
    found = re.search(rf'data-panel="{key}">(.*?)</div>\s*</div>\s*</div>', html, re.S)
    return found.group(1) if found else ""


def test_patient_search_finds_by_name_and_birth_date_in_scope(session, login):
    here = patient(session, "MSK-TVR", last_name="Поисков", birth_date=dt.date(1971, 3, 4))
    patient(session, "MSK-TVR", last_name="Поисков", birth_date=dt.date(1990, 1, 1))
    patient(session, "SPB-NEV", last_name="Поисков", birth_date=dt.date(1971, 3, 4))
    session.commit()
    registrar = login("registrar")
    found = panel(registrar.get("/?name=поисков&born=04.03.1971"), "patients")
    assert found.count("/patientview/show/") == 1 and f"/patientview/show/{here.id}" in found
    assert f"/voucherview/add?patient={here.id}" in found
    assert panel(registrar.get("/?name=Поисков"), "patients").count("/patientview/show/") == 2
    assert "ДД.ММ.ГГГГ" in panel(registrar.get("/?born=31.02.1971"), "patients")
    # Without «create» of vouchers there is no «Новый талон» beside the patient.
    assert "/voucherview/add" not in panel(login("doctor").get("/?name=Поисков"), "patients")


def test_todays_vouchers_are_the_branchs(session, login):
    today = dt.date.today()
    ours = voucher(session, patient(session, "MSK-TVR"), "MSK-TVR", today)
    theirs = voucher(session, patient(session, "SPB-NEV"), "SPB-NEV", today)
    line(session, ours, service(session), quantity=2)
    session.commit()
    shown = panel(login("registrar").get("/"), "today_vouchers")
    assert f"/voucherview/show/{ours.id}" in shown
    assert f"/voucherview/show/{theirs.id}" not in shown
    tverskoy = select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, "MSK-TVR").id)
    count = session.scalar(select(func.count(Voucher.id)).where(
        Voucher.service_date == today, Voucher.branch_id.in_(tverskoy)))
    assert f"Талонов: {count} на сумму" in shown


def test_referrals_waiting_are_the_branchs(session, login):
    tverskoy = select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, "MSK-TVR").id)
    waiting = session.scalar(select(func.count(Referral.id)).where(
        Referral.voucher_id.is_(None), Referral.branch_id.in_(tverskoy)))
    everywhere = session.scalar(select(func.count(Referral.id)).where(
        Referral.voucher_id.is_(None)))
    assert 0 < waiting < everywhere
    shown = panel(login("registrar").get("/"), "referrals")
    assert f"Ждут оформления: {waiting}," in shown


def test_contracts_ending_soon_are_the_accountants_region(session, login):
    soon = dt.date.today() + dt.timedelta(days=10)
    moscow = contract(session, "MSK-TVR", valid_to=soon)
    piter = contract(session, "SPB-NEV", valid_to=soon)
    later = contract(session, "MSK-TVR", valid_to=dt.date.today() + dt.timedelta(days=90))
    session.commit()
    shown = panel(login("accountant").get("/"), "contracts_ending")
    assert moscow.number in shown
    assert piter.number not in shown and later.number not in shown


def test_figures_of_the_day_and_month_are_the_branchs(session, login):
    today = dt.date.today()
    tverskoy = select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id == unit(session, "MSK-TVR").id)
    month = session.execute(select(func.count(Voucher.id), func.sum(Voucher.total)).where(
        Voucher.service_date >= today.replace(day=1), Voucher.service_date <= today,
        Voucher.branch_id.in_(tverskoy))).one()
    services = session.scalar(select(func.sum(VoucherLine.quantity)).join(Voucher).where(
        Voucher.service_date >= today.replace(day=1), Voucher.service_date <= today,
        Voucher.branch_id.in_(tverskoy), VoucherLine.state != "cancelled"))
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel(login("branch_head").get("/"),
                                                             "figures")))
    total = f"{Decimal(month[1] or 0):,.2f}".replace(",", "\u00a0").replace(".", ",")
    assert f"С начала месяца {month[0]} " in shown and f" {services or 0} " in shown
    assert total in shown or total.replace("\u00a0", " ") in shown


def test_the_queue_is_the_managers_clients_oldest_first(session, login):
    mine = Question(unit=unit(session, "CL1-B3"), addressee="manager", subject="Старейший",
                    text="?", created_on=dt.datetime(2020, 1, 1))
    other = Question(unit=unit(session, "CL3-B1"), addressee="manager",
                     subject="Чужой клиент", text="?")
    answered = Question(unit=unit(session, "CL1-B3"), addressee="manager", subject="Отвеченный",
                        text="?", answer="Да")
    session.add_all([mine, other, answered])
    session.commit()
    manager = login("manager")
    shown = panel(manager.get("/"), "queue")
    assert "Старейший" in shown and "Чужой клиент" not in shown and "Отвеченный" not in shown
    assert shown.index("Добромед") < shown.index("поликлиника № 12")  # the oldest item first
    assert "Чужой клиент" in panel(login("admin").get("/"), "queue")
    # The menu counts the open questions of his clients beside «Вопросы клиентов».
    open_mine = session.scalar(select(func.count(Question.id)).where(
        Question.answer.is_(None), Question.unit_id.in_(select(UnitClosure.descendant_id).where(
            UnitClosure.ancestor_id.in_([unit(session, "CL1").id, unit(session, "CL2").id])))))
    assert re.search(rf'Вопросы клиентов <span class="badge uchet-count">{open_mine}</span>',
                     page(manager.get("/sections/")))
    assert "uchet-count" not in page(login("client_head").get("/sections/"))


def test_users_without_unit_or_role_are_the_administrators(session, login):
    lost = make_user(session, "wp_nobody", first_name="Потерянный", last_name="Без-Роли",
                     home_unit=unit(session, "MSK-TVR"))
    shown = panel(login("admin").get("/"), "users_to_fix")
    assert f"/users/show/{lost.id}" in shown and "нет роли" in shown


def test_the_managers_cabinet_is_his_queue_per_client(session, login):
    oldest = Question(unit=unit(session, "CL2-B1"), addressee="manager", subject="Самый ранний",
                      text="?", created_on=dt.datetime(2019, 5, 5))
    session.add(oldest)
    session.commit()
    for username in ("manager", "assistant"):
        cabinet = page(login(username).get("/cabinet/clients/"))
        clients = re.findall(r'data-client="(\d+)"', cabinet)
        assert clients[0] == str(unit(session, "CL2").id), "the oldest request's client first"
        assert "Самый ранний" in cabinet and "Ждут ответа лаборатории" in cabinet


def test_the_administrators_home_names_the_roles_drifted_from_their_preset(session, login):
    from flask_appbuilder.security.sqla.models import Role

    from services.admin.drift import drift_counts

    counts = drift_counts(session)
    drifted = {session.get(Role, role_id).name: n for role_id, n in counts.items() if n}
    assert drifted, "the demo has a role changed after it was made from its preset"
    shown = panel(login("admin").get("/"), "roles_drift")
    for name, n in drifted.items():
        assert name in shown and f">{n}</a>" in shown
    assert panel(login("registrar").get("/"), "roles_drift") == ""
