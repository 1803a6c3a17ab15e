"""Every hand-written page that reads rows through `scoped()` (cabinet pages, the
manager's cabinet, statistics, documents, the instalment schedule, the voucher
form's patient, the doctor chooser, search lookups) refuses a row outside the
user's scope over HTTP: 404 for a row named in the address, a Russian refusal for
one posted in a form, nothing offered in a lookup."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import select

from models.cabinet import CourierCall
from models.contracts import Contract
from models.staff import Employee
from models.user import AppUser
from models.vouchers import Voucher
from tests.contract_rows import flashes, n, patient
from tests.support import make_role, make_user, unit

TODAY = dt.date.today()
PERIOD = {"start": (TODAY - dt.timedelta(days=60)).isoformat(), "end": TODAY.isoformat()}


def _foreign_visit(session, office: str) -> Voucher:
    """A recent visit referred by `office` whose patient no other office referred."""
    other = select(Voucher.patient_id).where(Voucher.referring_unit_id != unit(session, office).id)
    visit = session.scalars(select(Voucher).where(
        Voucher.referring_unit_id == unit(session, office).id,
        Voucher.service_date >= TODAY - dt.timedelta(days=30),
        Voucher.patient_id.not_in(other))).first()
    assert visit is not None, f"the demo has recent visits referred by {office}"
    return visit


@pytest.fixture
def foreign(session):
    """Rows outside the scope of the demo cabinet users (CL3 is nobody's client but
    its own) and of the Тверской branch's staff (Невский)."""
    call = CourierCall(unit=unit(session, "CL3-B1"), kind="courier", visit_date=TODAY,
                       time_from=dt.time(9), time_to=dt.time(10), address="Казань",
                       samples=1, state="new")
    session.add(call)
    doctor = Employee(last_name=f"Врачев{n()}", first_name="Олег", is_doctor=True,
                      branch=unit(session, "SPB-NEV"))
    session.add(doctor)
    nevsky = patient(session, "SPB-NEV", last_name=f"Чужаков{n()}")
    session.commit()
    contract = session.scalars(select(Contract).where(
        Contract.branch_id == unit(session, "SPB-NEV").id)).first()
    assert contract is not None
    return {"call": call, "doctor": doctor, "patient": nevsky, "contract": contract,
            "visit": _foreign_visit(session, "CL3-B1"),
            "registrar": session.scalar(select(AppUser).where(AppUser.username == "registrar"))}


NOT_FOUND = [
    ("manager", "get", lambda s, f: f"/cabinet/statistics/unit/{unit(s, 'CL3-B1').id}"),
    ("manager", "get", lambda s, f: f"/cabinet/statistics/patient/{f['visit'].patient_id}"),
    ("client_head", "get", lambda s, f: f"/cabinet/statistics/unit/{unit(s, 'CL2-B1').id}"),
    ("manager", "get", lambda s, f: f"/cabinet/clients/user/{f['registrar'].id}"),
    ("manager", "post", lambda s, f: f"/cabinet/courier/{f['call'].id}/state"),
    ("client_user", "post", lambda s, f: f"/cabinet/courier/{f['call'].id}/state"),
    ("client_head", "get", lambda s, f: f"/cabinet/documents/contract/{f['contract'].id}.pdf"),
    ("accountant", "get", lambda s, f: f"/instalment-schedule/{f['contract'].id}"),
]


@pytest.mark.parametrize(("username", "method", "url"), NOT_FOUND)
def test_a_row_outside_the_scope_is_not_found(session, login, foreign, username, method, url):
    client = login(username)
    address = url(session, foreign)
    response = getattr(client, method)(address, query_string=PERIOD,
                                       data={"state": "accepted"} if method == "post" else None)
    assert response.status_code == 404, address


def test_a_visit_outside_the_scope_is_not_offered_for_add_on_tests(session, login, foreign):
    client = login("client_user")
    visit = foreign["visit"]
    shown = client.get("/cabinet/addons/", query_string={"visit": visit.id})
    assert shown.status_code == 404 and "Визит не найден" in html.unescape(shown.get_data(
        as_text=True))


def test_an_office_outside_the_scope_cannot_be_named_in_a_form(session, login):
    client = login("client_user")
    refused = client.post("/cabinet/courier/", data={
        "unit": str(unit(session, "CL2-B1").id), "kind": "courier",
        "visit_date": (TODAY + dt.timedelta(days=1)).isoformat(), "time_from": "09:00",
        "time_to": "12:00", "address": "Москва", "samples": "1"})
    assert "Выберите подразделение из списка" in flashes(refused, "danger")


def test_the_voucher_form_does_not_fill_in_a_patient_outside_the_scope(session, login,
                                                                        foreign):
    body = login("registrar").get(f"/voucherview/add?patient={foreign['patient'].id}")
    assert body.status_code == 200
    assert foreign["patient"].last_name not in body.get_data(as_text=True)


def test_the_doctor_chooser_offers_and_accepts_only_doctors_in_scope(session, login, foreign):
    client = login("registrar")
    mine = session.scalars(select(Voucher.id).where(
        Voucher.branch_id == unit(session, "MSK-TVR").id).limit(1)).all()
    page = client.post("/voucherview/action_post", data={"action": "change_doctor",
                                                        "rowid": mine})
    assert page.status_code == 200
    assert foreign["doctor"].last_name not in page.get_data(as_text=True)
    refused = client.post("/voucherview/change-doctor",
                          data={"doctor": foreign["doctor"].id, "rowid": mine})
    assert refused.status_code == 400
    assert "Выберите врача из списка" in html.unescape(refused.get_data(as_text=True))


def test_lookups_find_nothing_outside_the_scope(session, login, foreign):
    client = login("registrar")
    found = client.get("/voucherview/lookup/patient",
                       query_string={"q": foreign["patient"].last_name}).get_json()
    assert found == {"results": []}


def test_the_voucher_lookup_keeps_the_voucher_rules(session, login, foreign):
    """Without «Доступ к талонам других пользователей» the line form's voucher search
    finds the user's own voucher, not a colleague's of the same branch."""
    role = make_role(session, "Регистратор без чужих талонов", {
        "scope.data": "own_subtree", "voucher.other_vouchers": "create",
        "voucher.others_access": "no"})
    me = make_user(session, f"solo{n()}", roles=[role], home_unit=unit(session, "MSK-TVR"))
    someone = patient(session, "MSK-TVR")
    own, others = (Voucher(service_date=TODAY, branch=unit(session, "MSK-TVR"),
                           patient=someone, created_by_id=author)
                   for author in (me.id, foreign["registrar"].id))
    session.add_all([own, others])
    session.commit()
    client = login(me.username)
    found = [client.get("/voucherlineview/lookup/voucher",
                        query_string={"q": str(v.id)}).get_json()["results"]
             for v in (own, others)]
    assert [[row["id"] for row in rows] for rows in found] == [[own.id], []]
