"""Contracts (issue 5), over HTTP as given users: the payer fits the kind, prepaid
contracts carry an amount, instalments only on prepaid ones, network contracts
need «Сетевые договоры», a contract's dates cannot shrink past its attachments;
payment guarantees stay inside their contract under «Изменение списка гарантий
оплат»; a branch user sees his own and served contracts only and reads, but does
not change, what the network registered. Refusals name the rule in Russian and
change nothing."""

from __future__ import annotations

import pytest

from models.contracts import Contract
from models.parties import Organisation
from tests.contract_rows import (
    attachment,
    contract,
    count,
    flashes,
    individual,
    insurer,
    message,
    n,
    organisation,
    patient,
    programme,
    user_with,
)
from tests.support import make_role, unit

API = "/api/v1/contracts/"
NETWORK_REFUSED = ("Сетевые договоры заводит и меняет только пользователь с правом "
                   "«Сетевые договоры»")
CONTRACT_RIGHTS = {"contract.contracts": "delete", "contract.insurance_terms": "view"}


@pytest.fixture
def admin(login):
    return login("admin")


def _number() -> str:
    return f"ТСТ-К{n():04d}"


def _payload(session, kind="dms", branch="MSK-TVR", **values):
    body = {"number": _number(), "signed_on": "2026-01-01", "kind": kind,
            "payment_scheme": "postpaid", "branch": unit(session, branch).id,
            "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    body.update(values)
    return body


def _stored(session, body) -> int:
    return count(session, Contract, Contract.number == body["number"])


def _date(text):
    import datetime as dt

    return dt.date.fromisoformat(text)


# --------------------------------------------------------------------------- payer and kind


def test_a_dms_contract_is_paid_by_an_insurer_and_nobody_else(session, admin):
    company, firm = insurer(session), organisation(session)
    session.commit()
    wanted = "Для договора вида «ДМС» укажите плательщика: страховую компанию"
    for payers in ({}, {"organisation": firm.id}, {"insurer": company.id, "organisation": firm.id}):
        body = _payload(session, **payers)
        response = admin.post(API, json=body)
        assert response.status_code == 400, payers
        assert message(response) == wanted
        assert _stored(session, body) == 0
    body = _payload(session, insurer=company.id)
    accepted = admin.post(API, json=body)
    assert accepted.status_code == 201, accepted.get_json()
    assert _stored(session, body) == 1


def test_the_payer_rule_is_shown_on_the_screen(session, admin):
    firm = organisation(session)
    session.commit()
    form = {"number": _number(), "signed_on": "2026-01-01", "kind": "dms",
            "payment_scheme": "postpaid", "branch": str(unit(session, "MSK-TVR").id),
            "organisation": str(firm.id), "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    page = admin.post("/contractview/add", data=form, follow_redirects=True)
    assert "Для договора вида «ДМС» укажите плательщика: страховую компанию" in flashes(
        page, "danger")
    assert count(session, Contract, Contract.number == form["number"]) == 0


def test_an_ordinary_contract_can_be_saved_from_the_screen(session, admin):
    company = insurer(session)
    session.commit()
    form = {"number": _number(), "signed_on": "2026-01-01", "kind": "dms",
            "payment_scheme": "postpaid", "branch": str(unit(session, "MSK-TVR").id),
            "insurer": str(company.id), "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    page = admin.post("/contractview/add", data=form, follow_redirects=True)
    assert "Обязательное поле" not in page.get_data(as_text=True)
    assert count(session, Contract, Contract.number == form["number"],
                 Contract.network.is_(False)) == 1


def test_a_prepaid_contract_needs_an_amount(session, admin):
    payer = individual(session)
    session.commit()
    for amount in (None, "0"):
        body = _payload(session, "prepaid", individual=payer.id, payment_scheme="prepaid",
                        amount=amount)
        response = admin.post(API, json=body)
        assert response.status_code == 400
        assert message(response) == "Укажите сумму договора больше нуля"
        assert _stored(session, body) == 0
    body = _payload(session, "prepaid", individual=payer.id, payment_scheme="prepaid",
                    amount="50000.00")
    assert admin.post(API, json=body).status_code == 201
    assert _stored(session, body) == 1


def test_instalments_belong_to_prepaid_contracts_only(session, admin):
    firm, payer = organisation(session), individual(session)
    session.commit()
    body = _payload(session, "organisation", organisation=firm.id,
                    payment_scheme="instalments", amount="90000.00")
    response = admin.post(API, json=body)
    assert response.status_code == 400
    assert message(response) == "Рассрочка оплаты бывает только у предоплатного договора"
    assert _stored(session, body) == 0
    body = _payload(session, "prepaid", individual=payer.id, payment_scheme="instalments",
                    amount="90000.00")
    assert admin.post(API, json=body).status_code == 201
    assert _stored(session, body) == 1


def test_served_branches_need_the_network_flag(session, admin):
    company = insurer(session)
    session.commit()
    body = _payload(session, insurer=company.id, network=False,
                    branches=[unit(session, "MSK-ARB").id])
    response = admin.post(API, json=body)
    assert response.status_code == 400
    assert message(response) == "Филиалы указываются только у сетевого договора"
    assert _stored(session, body) == 0
    body = {**body, "number": _number(), "network": True}
    assert admin.post(API, json=body).status_code == 201


# --------------------------------------------------------------------------- network right


def test_network_contracts_are_refused_without_the_network_right(session, login):
    company = insurer(session)
    network = contract(session, "MSK-TVR", served=("MSK-ARB",))
    plain = contract(session, "MSK-TVR")
    session.commit()
    client = user_with(session, login, {**CONTRACT_RIGHTS, "contract.network_contracts": "no"},
                       home="MSK")
    for extra in ({"network": True}, {"network": True,
                                       "branches": [unit(session, "MSK-ARB").id]}):
        body = _payload(session, insurer=company.id, **extra)
        response = client.post(API, json=body)
        assert response.status_code == 403, extra
        assert message(response) == NETWORK_REFUSED
        assert _stored(session, body) == 0
    turned = client.put(f"{API}{plain.id}", json={"network": True})
    assert turned.status_code == 403 and message(turned) == NETWORK_REFUSED
    widened = client.put(f"{API}{network.id}", json={
        "branches": [unit(session, "MSK-ARB").id, unit(session, "MSK-MAR").id]})
    assert widened.status_code == 403 and message(widened) == NETWORK_REFUSED
    session.expire_all()
    assert session.get(Contract, plain.id).network is False
    assert [u.code for u in session.get(Contract, network.id).branches] == ["MSK-ARB"]
    # What he may do: ordinary contracts, and other fields of a network one.
    body = _payload(session, insurer=company.id)
    assert client.post(API, json=body).status_code == 201
    noted = client.put(f"{API}{network.id}", json={"note": "Продлён письмом"})
    assert noted.status_code == 200, noted.get_json()


def test_network_contracts_are_accepted_with_the_network_right(session, login):
    company = insurer(session)
    session.commit()
    client = user_with(session, login, {**CONTRACT_RIGHTS, "contract.network_contracts": "yes"},
                       home="MSK")
    body = _payload(session, insurer=company.id, network=True,
                    branches=[unit(session, "MSK-ARB").id, unit(session, "MSK-MAR").id])
    response = client.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    session.expire_all()
    stored = session.get(Contract, response.get_json()["id"])
    assert stored.network is True
    assert sorted(u.code for u in stored.branches) == ["MSK-ARB", "MSK-MAR"]


# --------------------------------------------------------------------------- dates vs attachments


def test_a_contract_cannot_shrink_past_its_attachments(session, admin):
    agreement = contract(session, "MSK-TVR")
    attachment(session, patient(session), programme(session, agreement), _date("2026-03-01"),
               _date("2026-10-31"))
    session.commit()
    for change in ({"valid_to": "2026-09-30"}, {"valid_from": "2026-04-01"},
                   {"valid_to": None}):
        response = admin.put(f"{API}{agreement.id}", json=change)
        if change == {"valid_to": None}:
            # An open end covers every attachment: nothing falls outside.
            assert response.status_code == 200, response.get_json()
            continue
        assert response.status_code == 400, change
        assert message(response) == "Прикреплений вне нового срока договора: 1. Сначала измените их"
        session.expire_all()
        stored = session.get(Contract, agreement.id)
        assert (str(stored.valid_from), str(stored.valid_to)) == ("2026-01-01", "2026-12-31")
    still_fits = admin.put(f"{API}{agreement.id}", json={"valid_from": "2026-03-01",
                                                        "valid_to": "2026-10-31"})
    assert still_fits.status_code == 200, still_fits.get_json()


def test_an_open_contract_cannot_be_closed_under_an_open_attachment(session, admin):
    endless = contract(session, "MSK-TVR", valid_to=None)
    attachment(session, patient(session), programme(session, endless), _date("2026-03-01"))
    session.commit()
    response = admin.put(f"{API}{endless.id}", json={"valid_to": "2030-12-31"})
    assert response.status_code == 400
    assert message(response) == "Прикреплений вне нового срока договора: 1. Сначала измените их"
    session.expire_all()
    assert session.get(Contract, endless.id).valid_to is None


# --------------------------------------------------------------------------- scope


@pytest.fixture
def scope_rows(session):
    """Contracts numbered «ОБЛ…»: own (MSK-TVR), a network one of MSK-MAR serving
    MSK-TVR, one of MSK-MAR alone and one of SPB-NEV."""
    tag = f"ОБЛ{n()}"
    made = {
        "own": contract(session, "MSK-TVR", number=f"{tag}-СВОЙ"),
        "served": contract(session, "MSK-MAR", served=("MSK-TVR", "MSK-ARB"),
                           number=f"{tag}-СЕТЬ"),
        "neighbour": contract(session, "MSK-MAR", number=f"{tag}-МАР"),
        "foreign": contract(session, "SPB-NEV", number=f"{tag}-НЕВ"),
    }
    session.commit()
    return tag, made


@pytest.fixture
def tverskoy(session, login):
    return user_with(session, login, {**CONTRACT_RIGHTS, "contract.organisations": "delete",
                                      "contract.network_contracts": "yes"})


def test_a_branch_user_sees_his_own_and_served_contracts_only(scope_rows, tverskoy):
    tag, made = scope_rows
    listing = tverskoy.get(f"/contractview/list/?_flt_0_number={tag}").get_data(as_text=True)
    api = tverskoy.get(f"{API}?q=(filters:!((col:number,opr:sw,value:{tag})),page_size:100)")
    ids = set(api.get_json()["ids"])
    for name in ("own", "served"):
        row = made[name]
        assert row.number in listing
        assert row.id in ids
        assert tverskoy.get(f"/contractview/show/{row.id}").status_code == 200
        assert tverskoy.get(f"{API}{row.id}").status_code == 200
    for name in ("neighbour", "foreign"):
        row = made[name]
        assert row.number not in listing
        assert row.id not in ids
        assert tverskoy.get(f"/contractview/show/{row.id}").status_code == 404
        assert tverskoy.get(f"{API}{row.id}").status_code == 404
        assert tverskoy.put(f"{API}{row.id}", json={"note": "чужой"}).status_code == 404


def test_a_served_branch_reads_but_does_not_change_a_network_contract(session, scope_rows,
                                                                    tverskoy):
    served = scope_rows[1]["served"]
    response = tverskoy.put(f"{API}{served.id}", json={"note": "Изменено в Тверском"})
    assert response.status_code == 400
    assert message(response) == "Запись выходит за пределы вашей области данных"
    session.expire_all()
    assert session.get(Contract, served.id).note is None


def test_a_served_branch_cannot_take_a_network_contract_over(session, scope_rows, tverskoy):
    served = scope_rows[1]["served"]
    response = tverskoy.put(f"{API}{served.id}", json={"branch": unit(session, "MSK-TVR").id})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Contract, served.id).branch.code == "MSK-MAR"


@pytest.fixture
def network_firm(session):
    firm = organisation(session, "NET", name="ООО «Сетевой партнёр»")
    session.commit()
    return firm


def test_a_branch_user_reads_but_does_not_change_a_network_organisation(session, tverskoy,
                                                                       network_firm):
    firm = network_firm
    assert tverskoy.get(f"/organisationview/show/{firm.id}").status_code == 200
    assert tverskoy.get(f"/api/v1/organisations/{firm.id}").status_code == 200
    assert "ООО «Сетевой партнёр»" in tverskoy.get("/organisationview/list/?_flt_0_name=ООО "
                                                   "«Сетевой").get_data(as_text=True)
    response = tverskoy.put(f"/api/v1/organisations/{firm.id}", json={"name": "Переименовано"})
    assert response.status_code == 400
    assert message(response) == "Запись выходит за пределы вашей области данных"
    session.expire_all()
    assert session.get(Organisation, firm.id).name == "ООО «Сетевой партнёр»"
    # His own branch's organisation he does change.
    own = organisation(session, "MSK-TVR")
    session.commit()
    assert tverskoy.put(f"/api/v1/organisations/{own.id}",
                        json={"name": "ООО «Своя»"}).status_code == 200


def test_saving_a_network_organisations_form_changes_nothing(session, tverskoy, network_firm):
    firm = network_firm
    form = tverskoy.get(f"/organisationview/edit/{firm.id}").get_data(as_text=True)
    owners = form.split('name="unit"')[1].split("</select>")[0]
    offered = owners.split('value="')[1].split('"')[0]  # what a browser submits unchanged
    page = tverskoy.post(f"/organisationview/edit/{firm.id}", follow_redirects=True, data={
        "code": firm.code, "name": "Переименовано", "active": "y", "unit": offered})
    assert "Запись выходит за пределы вашей области данных" in flashes(page, "danger")
    session.expire_all()
    stored = session.get(Organisation, firm.id)
    assert (stored.name, stored.unit.code) == ("ООО «Сетевой партнёр»", "NET")


# --------------------------------------------------------------------------- catalogue


def _matrix(admin, role, values: dict[str, str]):
    cells = {f"v:{role.id}:{code}": value for code, value in values.items()}
    return admin.post("/rights/matrix?section=contracts", data=cells, follow_redirects=True)


def _values(session, role) -> dict[str, str]:
    from security.sync import role_values

    session.expire_all()
    return role_values(session, role)


def test_attaching_patients_needs_viewing_contracts(session, admin):
    role = make_role(session, f"Прикрепляющий {n()}", {"contract.contracts": "view",
                                                       "contract.attach_patients": "yes"})
    page = _matrix(admin, role, {"contract.contracts": "none"})
    assert any("Право «Прикрепление пациентов к медицинским программам» = «да» требует право "
               "«Договоры» не ниже «просмотр»" in text for text in flashes(page, "danger"))
    values = _values(session, role)
    assert (values["contract.contracts"], values["contract.attach_patients"]) == ("view", "yes")
    bare = make_role(session, f"Без договоров {n()}", {"contract.contracts": "none"})
    page = _matrix(admin, bare, {"contract.attach_patients": "yes"})
    assert any("требует право «Договоры»" in text for text in flashes(page, "danger"))
    assert _values(session, bare)["contract.attach_patients"] == "no"
    _matrix(admin, bare, {"contract.attach_patients": "yes", "contract.contracts": "view"})
    assert _values(session, bare)["contract.attach_patients"] == "yes"


def test_editing_contracts_needs_viewing_insurance_terms(session, admin):
    role = make_role(session, f"Договорник {n()}", {"contract.contracts": "view",
                                                   "contract.insurance_terms": "none"})
    page = _matrix(admin, role, {"contract.contracts": "edit"})
    assert any("Право «Договоры» = «изменение» требует право «Условия страхования» не ниже "
               "«просмотр»" in text for text in flashes(page, "danger"))
    assert _values(session, role)["contract.contracts"] == "view"
    _matrix(admin, role, {"contract.contracts": "edit", "contract.insurance_terms": "view"})
    values = _values(session, role)
    assert (values["contract.contracts"], values["contract.insurance_terms"]) == ("edit", "view")
