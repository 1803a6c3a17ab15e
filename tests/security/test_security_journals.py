"""The security journals (issue 20): sign-ins, failures, lock-outs, password,
session, role and rights changes in «Журнал безопасности»; every read of a
patient's card, services, list, export or API row in «Журнал доступа к
пациентам», one INSERT per request; both screens read-only, administrators only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.patients import Patient
from models.security_log import PatientAccess, SecurityEvent
from models.user import AppUser
from models.vouchers import Voucher

NEW = "Nov-pass-2026!xyz"
_before = {"event": 0, "read": 0}


@pytest.fixture(autouse=True)
def _journals_from_here(session):
    """Count only this test's rows: tests outside the rolled-back transaction
    (`no_db_isolation`, e.g. two workers signing in) leave committed events behind."""
    _before["event"] = session.scalar(select(func.max(SecurityEvent.id))) or 0
    _before["read"] = session.scalar(select(func.max(PatientAccess.id))) or 0


def _events(session, kind, target=None):
    session.expire_all()
    stmt = select(SecurityEvent).where(SecurityEvent.kind == kind,
                                       SecurityEvent.id > _before["event"])
    if target is not None:
        stmt = stmt.where(SecurityEvent.target == target)
    return session.scalars(stmt.order_by(SecurityEvent.id)).all()


def _reads(session, **where):
    session.expire_all()
    stmt = select(PatientAccess).filter_by(**where).where(PatientAccess.id > _before["read"])
    return session.scalars(stmt.order_by(PatientAccess.id)).all()


def _user(session, name):
    return session.scalar(select(AppUser).where(AppUser.username == name))


def test_a_sign_in_and_a_failure_are_journaled(session, client, login):
    client.post("/login/", data={"username": "registrar", "password": "wrong"})
    failed = _events(session, "login_failed", "registrar")
    assert len(failed) == 1 and failed[0].username == "registrar"
    login("registrar")
    assert len(_events(session, "login", "registrar")) == 1


def test_an_api_sign_in_failure_names_no_user_that_does_not_exist(session, client):
    client.post("/api/v1/security/login", json={"username": "nobody", "password": "x",
                                                "provider": "db"})
    event = _events(session, "login_failed")[-1]
    assert event.username == "nobody" and event.target_user_id is None
    assert event.detail == "API"


def test_a_password_reset_and_a_logout_are_journaled(session, login):
    admin = login("admin")
    registrar = _user(session, "registrar")
    response = admin.post(f"/resetpassword/form?pk={registrar.id}",
                          data={"password": NEW, "conf_password": NEW})
    assert response.status_code == 302
    reset = _events(session, "password_reset", "registrar")
    assert len(reset) == 1 and reset[0].username == "admin"
    admin.get("/logout/")
    assert _events(session, "logout", "admin")


def test_a_role_change_and_a_rights_change_are_journaled(session, login):
    from flask_appbuilder.security.sqla.models import Role

    from tests.support import make_role

    role = make_role(session, "Проверка журнала", {"admin.journal": "yes"})
    session.commit()
    changed = _events(session, "rights_changed")
    assert any("Проверка журнала" in (e.detail or "") and "admin.journal" in e.detail
               for e in changed)
    registrar = _user(session, "registrar")
    registrar.roles.append(session.get(Role, role.id))
    session.commit()
    roles = _events(session, "roles_changed", "registrar")
    assert roles and "+ Проверка журнала" in roles[-1].detail


def test_a_rights_change_reads_in_russian_on_the_journal(session, login):
    from tests.support import make_role
    from tests.test_translations import _unknown, english_leaks

    make_role(session, "Проверка журнала", {"admin.journal": "yes"})
    session.commit()
    page = login("admin").get("/securityeventview/list/?_flt_0_kind=rights_changed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "«Журнал изменений» = «да»" in html
    assert "admin.journal" not in html
    assert not _unknown(english_leaks(html))


def test_the_security_journal_is_an_admin_screen(session, client, login):
    client.post("/login/", data={"username": "registrar", "password": "wrong"})
    page = login("admin").get("/securityeventview/list/?_flt_0_kind=login_failed")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Неудачный вход" in text and "registrar" in text
    assert login("registrar").get("/securityeventview/list/").status_code in (302, 403)
    admin = login("admin")
    assert admin.get("/securityeventview/add").status_code in (404, 405)


def test_reading_a_patient_card_is_journaled_once(session, login, count_queries):
    admin = login("admin")
    patient = session.scalar(select(Patient).order_by(Patient.id))
    with count_queries() as statements:
        assert admin.get(f"/patientview/show/{patient.id}").status_code == 200
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO PATIENT_ACCESS")]
    assert len(inserts) == 1
    reads = _reads(session, patient_id=patient.id, username="admin")
    assert [r.channel for r in reads] == ["show"]


def test_a_list_page_is_one_insert_for_all_its_patients(session, login, count_queries):
    admin = login("admin")
    with count_queries() as statements:
        assert admin.get("/patientview/list/").status_code == 200
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO PATIENT_ACCESS")]
    assert len(inserts) == 1
    assert len(_reads(session, channel="list", username="admin")) > 5


def test_exports_api_and_services_are_journaled(session, login):
    admin = login("admin")
    voucher = session.scalar(select(Voucher).order_by(Voucher.id))
    assert admin.get("/patientview/export/csv").status_code == 200
    assert _reads(session, channel="export", username="admin")
    assert admin.get(f"/api/v1/patients/{voucher.patient_id}").status_code == 200
    assert _reads(session, channel="api", patient_id=voucher.patient_id)
    before = session.scalar(select(func.count()).select_from(PatientAccess))
    assert admin.get(f"/voucherview/show/{voucher.id}").status_code == 200
    assert session.scalar(select(func.count()).select_from(PatientAccess)) > before
    assert _reads(session, patient_id=voucher.patient_id, screen="VoucherView")


def test_a_refused_read_is_not_journaled(session, login):
    registrar = login("registrar")
    before = session.scalar(select(func.count()).select_from(PatientAccess))
    assert registrar.get("/patientview/show/2147483647").status_code == 404
    assert session.scalar(select(func.count()).select_from(PatientAccess)) == before


def test_the_access_journal_answers_by_patient_and_by_user(session, login):
    admin = login("admin")
    patient = session.scalar(select(Patient).order_by(Patient.id))
    card = admin.get(f"/patientview/show/{patient.id}").get_data(as_text=True)
    assert "Кто читал карточку" in card
    login("registrar").get(f"/patientview/show/{patient.id}")
    by_patient = admin.get(f"/patientaccessview/list/?_flt_0_patient_id={patient.id}")
    assert by_patient.status_code == 200
    assert "registrar" in by_patient.get_data(as_text=True)
    by_user = admin.get("/patientaccessview/list/?_flt_0_username=registrar")
    assert "Карточка" in by_user.get_data(as_text=True)
    registrar = login("registrar")
    assert registrar.get("/patientaccessview/list/").status_code in (302, 403)
    assert "Кто читал карточку" not in registrar.get(
        f"/patientview/show/{patient.id}").get_data(as_text=True)
