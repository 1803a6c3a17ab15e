"""Payment guarantees (issue 5), over HTTP as given users: a guarantee stays inside
its contract's validity and names only that contract's programmes; writing them
needs «Изменение списка гарантий оплат», reading them only viewing contracts."""

from __future__ import annotations

import datetime as dt

import pytest

from models.contracts import PaymentGuarantee
from tests.contract_rows import contract, count, flashes, message, programme, user_with

CONTRACT_RIGHTS = {"contract.contracts": "delete", "contract.insurance_terms": "view"}


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def guarantee_rows(session):
    agreement = contract(session, "MSK-TVR")
    plan = programme(session, agreement)
    other = programme(session, contract(session, "MSK-TVR"))
    letter = PaymentGuarantee(contract=agreement, number="ГП-1", issued_on=dt.date(2026, 1, 10),
                              valid_from=dt.date(2026, 1, 10), valid_to=dt.date(2026, 6, 30))
    session.add(letter)
    session.commit()
    return {"contract": agreement, "programme": plan, "other": other, "letter": letter}


def _guarantee(rows, number="ГП-2", **values):
    body = {"contract": rows["contract"].id, "number": number, "issued_on": "2026-02-01",
            "valid_from": "2026-02-01", "valid_to": "2026-12-31"}
    body.update(values)
    return body


def _letters(session, rows) -> int:
    return count(session, PaymentGuarantee,
                 PaymentGuarantee.contract_id == rows["contract"].id)


OUTSIDE = "Срок гарантии выходит за срок действия договора (с 01.01.2026 по 31.12.2026)"


def test_a_guarantee_outside_its_contract_is_refused(session, admin, guarantee_rows):
    rows = guarantee_rows
    for dates in ({"valid_from": "2025-12-01"}, {"valid_to": "2027-01-31"},
                  {"valid_to": None}):
        response = admin.post("/api/v1/paymentguarantees/", json=_guarantee(rows, **dates))
        assert response.status_code == 400, dates
        assert message(response) == OUTSIDE
    form = {"contract": str(rows["contract"].id), "number": "ГП-3", "issued_on": "2026-02-01",
            "valid_from": "2025-12-01", "valid_to": "2026-03-31"}
    page = admin.post("/paymentguaranteeview/add", data=form, follow_redirects=True)
    assert OUTSIDE in flashes(page, "danger")
    assert _letters(session, rows) == 1


def test_a_guarantee_inside_its_contract_is_accepted(session, admin, guarantee_rows):
    rows = guarantee_rows
    response = admin.post("/api/v1/paymentguarantees/", json=_guarantee(rows))
    assert response.status_code == 201, response.get_json()
    with_programme = admin.post("/api/v1/paymentguarantees/", json=_guarantee(
        rows, "ГП-3", programmes=[rows["programme"].id]))
    assert with_programme.status_code == 201, with_programme.get_json()
    session.expire_all()
    stored = session.get(PaymentGuarantee, with_programme.get_json()["id"])
    assert [p.id for p in stored.programmes] == [rows["programme"].id]
    assert _letters(session, rows) == 3


def test_a_guarantee_names_only_its_own_contracts_programmes(session, admin, guarantee_rows):
    rows = guarantee_rows
    body = _guarantee(rows, programmes=[rows["programme"].id, rows["other"].id])
    response = admin.post("/api/v1/paymentguarantees/", json=body)
    assert response.status_code == 400
    assert message(response) == f"Программа «{rows['other'].name}» относится к другому договору"
    assert _letters(session, rows) == 1


def test_a_guarantee_is_saved_on_the_screen(session, admin, guarantee_rows):
    rows = guarantee_rows
    form = {"contract": str(rows["contract"].id), "number": "ГП-3", "issued_on": "2026-02-01",
            "valid_from": "2026-02-01", "valid_to": "2026-03-31",
            "programmes": str(rows["programme"].id)}
    page = admin.post("/paymentguaranteeview/add", data=form, follow_redirects=True)
    assert flashes(page, "danger") == []
    assert _letters(session, rows) == 2


def test_writing_guarantees_needs_the_guarantee_right(session, login, guarantee_rows):
    rows = guarantee_rows
    letter = rows["letter"].id
    client = user_with(session, login, {**CONTRACT_RIGHTS, "contract.payment_guarantees": "no"})
    assert client.get("/paymentguaranteeview/list/").status_code == 200
    assert client.get(f"/paymentguaranteeview/show/{letter}").status_code == 200
    assert client.get(f"/api/v1/paymentguarantees/{letter}").status_code == 200
    assert client.get("/paymentguaranteeview/add").status_code == 403
    assert client.post("/paymentguaranteeview/add", data={"number": "ГП-9"}).status_code == 403
    assert client.post("/api/v1/paymentguarantees/", json=_guarantee(rows)).status_code == 403
    assert client.put(f"/api/v1/paymentguarantees/{letter}",
                      json={"number": "ГП-9"}).status_code == 403
    assert client.delete(f"/api/v1/paymentguarantees/{letter}").status_code == 403
    assert client.post(f"/paymentguaranteeview/delete/{letter}").status_code == 403
    assert _letters(session, rows) == 1
    session.expire_all()
    assert session.get(PaymentGuarantee, letter).number == "ГП-1"


def test_with_the_guarantee_right_guarantees_are_written(session, login, guarantee_rows):
    rows = guarantee_rows
    client = user_with(session, login, {**CONTRACT_RIGHTS, "contract.contracts": "edit",
                                        "contract.payment_guarantees": "yes"})
    assert client.get("/paymentguaranteeview/add").status_code == 200
    # Past the permission, to the rules: refused for its dates, not for the right.
    outside = client.post("/api/v1/paymentguarantees/",
                          json=_guarantee(rows, valid_from="2025-12-01"))
    assert outside.status_code == 400 and message(outside) == OUTSIDE
    assert client.delete(f"/api/v1/paymentguarantees/{rows['letter'].id}").status_code == 200
    assert _letters(session, rows) == 0


def test_viewing_guarantees_needs_only_viewing_contracts(session, login, guarantee_rows):
    letter = guarantee_rows["letter"].id
    viewer = user_with(session, login, {"contract.contracts": "view"})
    assert viewer.get("/paymentguaranteeview/list/").status_code == 200
    assert viewer.get(f"/paymentguaranteeview/show/{letter}").status_code == 200
    assert viewer.get(f"/api/v1/paymentguarantees/{letter}").status_code == 200
    nobody = user_with(session, login, {"contract.contracts": "none",
                                        "contract.payment_guarantees": "no"})
    assert nobody.get("/paymentguaranteeview/list/").status_code == 403
    assert nobody.get(f"/api/v1/paymentguarantees/{letter}").status_code == 403
