"""Attaching patients to medical programmes (issue 5), over HTTP as given users:
the periods of one patient in one programme never overlap and stay inside the
contract, individual branches serve the contract, an inactive programme takes
nobody; attaching needs «Прикрепление пациентов…» on top of viewing contracts,
and only patients of the user's own branches can be attached."""

from __future__ import annotations

import pytest

from models.patients import Attachment
from tests.contract_rows import (
    attachment,
    contract,
    count,
    flashes,
    message,
    patient,
    programme,
    user_with,
)
from tests.support import unit

API = "/api/v1/attachments/"
ADD = "/attachmentview/add"
SPAN = ("2026-02-01", "2026-03-31")


@pytest.fixture
def admin(login):
    return login("admin")


@pytest.fixture
def rows(session):
    """A DMS contract of MSK-TVR for 2026, its programme and a MSK-TVR patient attached
    from 01.02 to 31.03."""
    agreement = contract(session, "MSK-TVR")
    plan = programme(session, agreement)
    person = patient(session, "MSK-TVR")
    first = attachment(session, person, plan, *map(_date, SPAN))
    session.commit()
    return {"contract": agreement, "programme": plan, "patient": person, "first": first}


def _date(text):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _payload(rows, start, end=None, **extra):
    return {"patient": rows["patient"].id, "programme": rows["programme"].id,
            "valid_from": start, "valid_to": end, **extra}


def _form(rows, start, end="", **extra):
    return {"patient": str(rows["patient"].id), "programme": str(rows["programme"].id),
            "valid_from": start, "valid_to": end, **extra}


def _attachments(session, rows) -> int:
    return count(session, Attachment, Attachment.patient_id == rows["patient"].id)


# --------------------------------------------------------------------------- periods


def test_an_overlapping_period_is_refused_on_the_api_and_the_screen(session, admin, rows):
    refused = admin.post(API, json=_payload(rows, "2026-03-15", "2026-04-30"))
    assert refused.status_code == 400
    assert "периоды пересекаются" in message(refused)
    assert "с 01.02.2026 по 31.03.2026" in message(refused)
    # The last day of the first period still belongs to it.
    page = admin.post(ADD, data=_form(rows, "2026-03-31", "2026-04-30"), follow_redirects=True)
    assert any("периоды пересекаются" in text for text in flashes(page, "danger"))
    inside = admin.post(API, json=_payload(rows, "2026-02-10", "2026-02-20"))
    assert inside.status_code == 400
    assert _attachments(session, rows) == 1


def test_adjacent_and_separate_periods_are_accepted(session, admin, rows):
    adjacent = admin.post(API, json=_payload(rows, "2026-04-01", "2026-04-30"))
    assert adjacent.status_code == 201, adjacent.get_json()
    page = admin.post(ADD, data=_form(rows, "2026-06-01", "2026-06-30"), follow_redirects=True)
    assert flashes(page, "danger") == []
    assert _attachments(session, rows) == 3
    # Another programme, or another patient, may take the very same period.
    other_plan = programme(session, rows["contract"])
    someone = patient(session, "MSK-TVR")
    session.commit()
    assert admin.post(API, json={**_payload(rows, *SPAN), "programme": other_plan.id}
                      ).status_code == 201
    assert admin.post(API, json={**_payload(rows, *SPAN), "patient": someone.id}
                      ).status_code == 201


def test_editing_a_period_clashes_with_the_others_not_with_itself(session, admin, rows):
    later = attachment(session, rows["patient"], rows["programme"], _date("2026-05-01"),
                       _date("2026-05-31"))
    session.commit()
    first = rows["first"].id
    grown = admin.put(f"{API}{first}", json={"valid_to": "2026-04-30"})
    assert grown.status_code == 200, grown.get_json()
    clash = admin.put(f"{API}{first}", json={"valid_to": "2026-05-10"})
    assert clash.status_code == 400
    assert "периоды пересекаются" in message(clash)
    session.expire_all()
    assert str(session.get(Attachment, first).valid_to) == "2026-04-30"
    assert str(session.get(Attachment, later.id).valid_from) == "2026-05-01"


# --------------------------------------------------------------------------- contract validity


@pytest.mark.parametrize(("start", "end"), [
    ("2025-12-20", "2026-01-31"),   # starts before the contract
    ("2026-12-01", "2027-01-31"),   # ends after it
    ("2026-12-01", None),           # open end under a contract that ends
])
def test_a_period_outside_the_contract_is_refused(session, admin, rows, start, end):
    response = admin.post(API, json=_payload(rows, start, end))
    assert response.status_code == 400
    assert "выходит за срок действия договора" in message(response)
    assert "с 01.01.2026 по 31.12.2026" in message(response)
    assert _attachments(session, rows) == 1


def test_a_period_outside_the_contract_is_refused_on_the_screen(session, admin, rows):
    page = admin.post(ADD, data=_form(rows, "2025-12-20", "2026-01-31"), follow_redirects=True)
    assert any("выходит за срок действия договора" in t for t in flashes(page, "danger"))
    assert _attachments(session, rows) == 1


def test_a_period_inside_the_contract_is_accepted_up_to_its_bounds(session, admin, rows):
    other_plan = programme(session, rows["contract"])
    endless = contract(session, "MSK-TVR", valid_to=None)
    endless_plan = programme(session, endless)
    session.commit()
    whole = {**_payload(rows, "2026-01-01", "2026-12-31"), "programme": other_plan.id}
    assert admin.post(API, json=whole).status_code == 201
    open_end = {**_payload(rows, "2026-03-01"), "programme": endless_plan.id}
    assert admin.post(API, json=open_end).status_code == 201
    assert _attachments(session, rows) == 3


def test_an_end_before_the_start_is_refused(session, admin, rows):
    response = admin.post(API, json=_payload(rows, "2026-06-30", "2026-06-01"))
    assert response.status_code == 400
    assert "Дата окончания раньше даты начала" in message(response)
    page = admin.post(ADD, data=_form(rows, "2026-06-30", "2026-06-01"), follow_redirects=True)
    assert any("Дата окончания раньше даты начала" in t for t in flashes(page, "danger"))
    assert _attachments(session, rows) == 1


# --------------------------------------------------------------------------- branches, programme


def test_individual_branches_must_serve_the_contract(session, admin, rows):
    arbat, tverskoy = unit(session, "MSK-ARB"), unit(session, "MSK-TVR")
    refused = admin.post(API, json=_payload(rows, "2026-05-01", "2026-05-31",
                                            branches=[arbat.id]))
    assert refused.status_code == 400
    assert "не обслуживает договор" in message(refused) and "Арбат" in message(refused)
    page = admin.post(ADD, data=_form(rows, "2026-05-01", "2026-05-31", branches=[arbat.id]),
                      follow_redirects=True)
    assert any("не обслуживает договор" in t for t in flashes(page, "danger"))
    assert _attachments(session, rows) == 1
    signing = admin.post(API, json=_payload(rows, "2026-05-01", "2026-05-31",
                                            branches=[tverskoy.id]))
    assert signing.status_code == 201, signing.get_json()
    network = contract(session, "MSK-TVR", served=("MSK-ARB",))
    plan = programme(session, network)
    session.commit()
    served = admin.post(API, json={**_payload(rows, "2026-05-01", "2026-05-31",
                                              branches=[arbat.id]), "programme": plan.id})
    assert served.status_code == 201, served.get_json()


def test_an_inactive_programme_takes_nobody(session, admin, rows):
    closed = programme(session, rows["contract"], active=False)
    session.commit()
    response = admin.post(API, json={**_payload(rows, *SPAN), "programme": closed.id})
    assert response.status_code == 400
    assert f"Программа «{closed.name}» не действует" in message(response)
    page = admin.post(ADD, data={**_form(rows, *SPAN), "programme": str(closed.id)},
                      follow_redirects=True)
    assert any("не действует" in t for t in flashes(page, "danger"))
    assert count(session, Attachment, Attachment.programme_id == closed.id) == 0


# --------------------------------------------------------------------------- rights


def test_viewing_contracts_and_the_attach_right_are_enough_to_attach(session, login, rows):
    client = user_with(session, login, {"contract.contracts": "view",
                                        "contract.attach_patients": "yes"})
    assert client.get("/attachmentview/list/").status_code == 200
    assert client.get(f"/attachmentview/show/{rows['first'].id}").status_code == 200
    assert client.get(f"{API}{rows['first'].id}").status_code == 200
    page = client.post(ADD, data=_form(rows, "2026-04-01", "2026-04-30"), follow_redirects=True)
    assert page.status_code == 200 and flashes(page, "danger") == []
    api = client.post(API, json=_payload(rows, "2026-05-01", "2026-05-31"))
    assert api.status_code == 201, api.get_json()
    assert _attachments(session, rows) == 3


def test_without_the_attach_right_a_contract_deleter_cannot_attach(session, login, rows):
    client = user_with(session, login, {"contract.contracts": "delete",
                                        "contract.insurance_terms": "view",
                                        "contract.attach_patients": "no"})
    first = rows["first"].id
    assert client.get("/attachmentview/list/").status_code == 200
    assert client.get(f"/attachmentview/show/{first}").status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, data=_form(rows, "2026-04-01", "2026-04-30")).status_code == 403
    assert client.post(API, json=_payload(rows, "2026-04-01", "2026-04-30")).status_code == 403
    assert client.put(f"{API}{first}", json={"valid_to": "2026-02-28"}).status_code == 403
    assert client.delete(f"{API}{first}").status_code == 403
    assert client.post(f"/attachmentview/delete/{first}").status_code == 403
    session.expire_all()
    assert str(session.get(Attachment, first).valid_to) == "2026-03-31"
    assert _attachments(session, rows) == 1


def test_attachments_are_not_listed_without_viewing_contracts(session, login, rows):
    client = user_with(session, login, {"patient.registry": "view"})
    assert client.get("/attachmentview/list/").status_code == 403
    assert client.get(API).status_code == 403
    assert client.get(f"{API}{rows['first'].id}").status_code == 403


# --------------------------------------------------------------------------- scope


def test_a_patient_of_another_branch_cannot_be_attached(session, login, rows):
    stranger = patient(session, "SPB-NEV", last_name="Чужаков")
    session.commit()
    client = user_with(session, login, {"contract.contracts": "view",
                                        "contract.attach_patients": "yes",
                                        "patient.registry": "view"})
    # The patient is chosen by search (tests/contracts/test_patient_lookup.py): it offers his own.
    offered = client.get("/attachmentview/lookup/patient",
                         query_string={"q": rows["patient"].last_name}).get_json()["results"]
    assert rows["patient"].id in [row["id"] for row in offered]
    offered = client.get("/attachmentview/lookup/patient",
                         query_string={"q": "Чужаков"}).get_json()["results"]
    assert offered == []
    response = client.post(API, json={**_payload(rows, "2026-04-01", "2026-04-30"),
                                      "patient": stranger.id})
    assert response.status_code in (400, 404)
    screen = client.post(ADD, data={**_form(rows, "2026-04-01", "2026-04-30"),
                                    "patient": str(stranger.id)}, follow_redirects=True)
    assert screen.status_code == 200
    assert count(session, Attachment, Attachment.patient_id == stranger.id) == 0


def test_a_programme_of_an_unseen_contract_cannot_be_used(session, login, rows):
    foreign_plan = programme(session, contract(session, "SPB-NEV"), name="Невская программа")
    session.commit()
    client = user_with(session, login, {"contract.contracts": "view",
                                        "contract.attach_patients": "yes"})
    form = client.get(ADD).get_data(as_text=True)
    plans = form.split('name="programme"')[1].split("</select>")[0]
    assert rows["programme"].name in plans and "Невская программа" not in plans
    response = client.post(API, json={**_payload(rows, "2026-04-01", "2026-04-30"),
                                      "programme": foreign_plan.id})
    assert response.status_code in (400, 404)
    assert count(session, Attachment, Attachment.programme_id == foreign_plan.id) == 0
