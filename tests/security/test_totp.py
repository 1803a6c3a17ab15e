"""The second factor (issue 20): with UCHET_TOTP_FOR_ADMINS on, a user holding
administration rights is sent to enrolment (a QR code) and reaches no admin
screen or API until he has enrolled; afterwards each sign-in asks for the code;
a wrong code is refused, a right one admits. Users without admin rights are not
asked."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from models.security_log import SecurityEvent, UserTotp
from models.user import AppUser


@pytest.fixture
def totp_on(app):
    app.config["UCHET_TOTP_FOR_ADMINS"] = True
    yield
    app.config["UCHET_TOTP_FOR_ADMINS"] = False


def _user(session, name):
    return session.scalar(select(AppUser).where(AppUser.username == name))


def _secret(page: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)


def _enrol_with_codes(client) -> tuple[str, list[str]]:
    """Enrol the signed-in user; return the secret and the recovery codes shown once."""
    page = client.get("/totp/enrol").get_data(as_text=True)
    secret = _secret(page)
    response = client.post("/totp/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", shown)
    assert len(codes) == 10 and "Коды восстановления" in shown
    return secret, codes


def next_code(secret: str) -> str:
    """Return the code of the next 30-second step: the step enrolment used is spent
    (a code admits once), and the next one is still accepted for clock drift."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _enrol(client) -> str:
    return _enrol_with_codes(client)[0]


def test_an_admin_without_totp_is_sent_to_enrolment_everywhere(totp_on, login):
    admin = login("admin")
    for url in ("/", "/users/list/", "/journalview/list/", "/patientview/list/"):
        response = admin.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/totp/enrol"), url
    assert admin.get("/api/v1/user/").status_code == 403
    page = admin.get("/totp/enrol").get_data(as_text=True)
    assert "<svg" in page and "Подключение второго фактора" in page
    assert "https://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_a_wrong_code_does_not_enrol(totp_on, session, login):
    admin = login("admin")
    admin.get("/totp/enrol")
    response = admin.post("/totp/enrol", data={"code": "000000"})
    assert response.status_code == 200
    assert "Неверный код" in response.get_data(as_text=True)
    assert session.get(UserTotp, _user(session, "admin").id) is None
    assert admin.get("/users/list/").status_code == 302


def test_enrolment_with_a_right_code_admits_and_the_next_sign_in_asks(totp_on, session, login):
    admin = login("admin")
    secret = _enrol(admin)
    assert admin.get("/users/list/").status_code == 200
    session.expire_all()
    kinds = session.scalars(select(SecurityEvent.kind).where(
        SecurityEvent.target == "admin")).all()
    assert "totp_enrolled" in kinds

    again = login("admin")
    response = again.get("/users/list/")
    assert response.headers["Location"].endswith("/totp/verify")
    wrong = again.post("/totp/verify", data={"code": "123456"})
    assert wrong.status_code == 200 and "Неверный код" in wrong.get_data(as_text=True)
    assert again.get("/users/list/").status_code == 302
    session.expire_all()
    assert session.scalar(select(SecurityEvent.kind).where(
        SecurityEvent.kind == "totp_failed", SecurityEvent.target == "admin")) is not None
    right = again.post("/totp/verify", data={"code": next_code(secret)})
    assert right.status_code == 302
    assert again.get("/users/list/").status_code == 200


def test_a_user_without_admin_rights_is_not_asked(totp_on, login):
    assert login("registrar").get("/patientview/list/").status_code == 200


def test_the_parameter_off_asks_nobody(login):
    assert login("admin").get("/users/list/").status_code == 200


def test_the_secret_and_the_recovery_codes_are_not_stored_in_clear(totp_on, session, login):
    from security.totp import unseal

    secret, codes = _enrol_with_codes(login("admin"))
    session.expire_all()
    stored = session.get(UserTotp, _user(session, "admin").id)
    assert secret not in stored.secret
    assert unseal(stored.secret) == secret
    assert len(stored.recovery.split()) == 10
    assert not any(code.replace("-", "") in stored.recovery or code in stored.recovery
                   for code in codes)
    # Nor copied into the change journal.
    from models.journal import JournalEntry

    entries = session.scalars(select(JournalEntry).where(
        JournalEntry.table_name == "user_totp")).all()
    assert entries
    assert all(stored.secret not in str(e.after) and stored.recovery not in str(e.after)
               for e in entries)


def test_a_recovery_code_admits_once(totp_on, session, login):
    codes = _enrol_with_codes(login("admin"))[1]
    again = login("admin")
    assert again.post("/totp/verify", data={"code": codes[3].upper()}).status_code == 302
    assert again.get("/users/list/").status_code == 200
    third = login("admin")
    reused = third.post("/totp/verify", data={"code": codes[3]})
    assert reused.status_code == 200 and "Неверный код" in reused.get_data(as_text=True)
    assert third.get("/users/list/").status_code == 302
    session.expire_all()
    assert len(session.get(UserTotp, _user(session, "admin").id).recovery.split()) == 9
    assert session.scalar(select(SecurityEvent.kind).where(
        SecurityEvent.kind == "totp_recovery_used", SecurityEvent.target == "admin"))


def test_a_secret_sealed_under_another_key_does_not_open(app, totp_on):
    from security.totp import seal, unseal

    with app.app_context():
        sealed = seal("JBSWY3DPEHPK3PXP")
        assert unseal(sealed) == "JBSWY3DPEHPK3PXP"
        key = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = key + "-changed"
        try:
            assert unseal(sealed) is None
        finally:
            app.config["SECRET_KEY"] = key


def test_a_code_admits_once(totp_on, session, login):
    """A code read over a shoulder or from a log after its owner used it (the same
    30-second step, or an earlier one) signs nobody in (RFC 6238 §5.2)."""
    secret = _enrol(login("admin"))
    code = next_code(secret)
    first = login("admin")
    assert first.post("/totp/verify", data={"code": code}).status_code == 302
    assert first.get("/users/list/").status_code == 200

    thief = login("admin")
    replayed = thief.post("/totp/verify", data={"code": code})
    assert replayed.status_code == 200 and "Неверный код" in replayed.get_data(as_text=True)
    assert thief.get("/users/list/").status_code == 302
    older = thief.post("/totp/verify", data={"code": pyotp.TOTP(secret).now()})
    assert older.status_code == 200, "the enrolment's step is spent too"
    assert thief.get("/users/list/").status_code == 302
    session.expire_all()
    assert session.scalar(select(SecurityEvent.id).where(
        SecurityEvent.kind == "totp_failed", SecurityEvent.target == "admin"))
