"""Cabinet documents are matched by ИНН (issue 20, item 2): an empty ИНН is no ИНН
and matches nothing, so a client created without one sees no other company's
contracts; an ИНН is checked where it is entered (10 or 12 digits with their check
digits), with a Russian message at the field."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from models.org import Unit
from models.parties import Organisation
from models.user import AppUser
from tests.contract_rows import contract, message, organisation
from tests.support import make_user, unit

BAD_INN = ("Поле «ИНН»: ИНН — 10 цифр (организация) или 12 цифр (физическое лицо, ИП) "
           "с верными контрольными цифрами")


@pytest.fixture
def blank_payer_contract(session):
    """A contract paid by an organisation stored with an empty ИНН (as rows entered
    before the check may be)."""
    payer = organisation(session, inn="")
    row = contract(session, kind="organisation", organisation=payer, number="ПУСТ-ИНН/26")
    session.commit()
    return row


def test_a_client_created_with_an_empty_inn_sees_no_contracts(session, login,
                                                             blank_payer_contract):
    admin = login("admin")
    created = admin.post("/unitview/add", data={"kind": "client", "code": "CL-BLANK",
                                                "name": "ООО «Без ИНН»", "inn": "",
                                                "active": "y"})
    assert created.status_code == 302
    session.expire_all()
    client_unit = session.scalar(select(Unit).where(Unit.code == "CL-BLANK"))
    assert client_unit.inn is None
    head = session.scalar(select(AppUser).where(AppUser.username == "client_head"))
    make_user(session, "cl_blank_head", roles=list(head.roles), home_unit=client_unit)
    client = login("cl_blank_head")
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert "ПУСТ-ИНН/26" not in page and "ЛАБ-2026/011" not in page
    pdf = f"/cabinet/documents/contract/{blank_payer_contract.id}.pdf"
    assert client.get(pdf).status_code == 404


def test_a_client_stored_with_an_empty_inn_sees_no_contracts(session, login,
                                                            blank_payer_contract):
    """Rows stored before the check: "" on both sides still matches nothing."""
    client_unit = Unit(kind="client", code="CL-LEGACY", name="ООО «Старая запись»", inn="")
    session.add(client_unit)
    session.commit()
    head = session.scalar(select(AppUser).where(AppUser.username == "client_head"))
    make_user(session, "cl_legacy_head", roles=list(head.roles), home_unit=client_unit)
    client = login("cl_legacy_head")
    page = html.unescape(client.get("/cabinet/documents/").get_data(as_text=True))
    assert "ПУСТ-ИНН/26" not in page
    pdf = f"/cabinet/documents/contract/{blank_payer_contract.id}.pdf"
    assert client.get(pdf).status_code == 404


@pytest.mark.parametrize("inn", ["1234567890", "77012345", "77O1234560", "500100732250"])
def test_a_wrong_inn_is_refused_where_it_is_entered(session, login, inn):
    admin = login("admin")
    api = admin.post("/api/v1/unit/", json={"kind": "client", "code": "CL-BAD",
                                            "name": "ООО «Ошибка»", "inn": inn})
    assert (api.status_code, message(api)) == (400, BAD_INN)
    form = admin.post("/unitview/add", data={"kind": "client", "code": "CL-BAD",
                                             "name": "ООО «Ошибка»", "inn": inn, "active": "y"})
    assert form.status_code == 200
    assert BAD_INN in html.unescape(form.get_data(as_text=True))
    session.expire_all()
    assert session.scalar(select(Unit).where(Unit.code == "CL-BAD")) is None
    payer = admin.post("/api/v1/organisations/", json={
        "code": "ORG-BAD", "name": "ООО «Ошибка»", "inn": inn, "unit": unit(session, "NET").id})
    assert (payer.status_code, message(payer)) == (400, BAD_INN)
    assert session.scalar(select(Organisation).where(Organisation.code == "ORG-BAD")) is None


@pytest.mark.parametrize("inn", ["7707083893", "500100732259"])
def test_a_right_inn_is_kept(session, login, inn):
    admin = login("admin")
    made = admin.post("/api/v1/organisations/", json={
        "code": f"ORG-{inn}", "name": "ООО «Верный ИНН»", "inn": inn,
        "unit": unit(session, "NET").id})
    assert made.status_code == 201, made.get_json()
    session.expire_all()
    assert session.scalar(select(Organisation).where(Organisation.code == f"ORG-{inn}")).inn == inn
