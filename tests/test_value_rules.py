"""What a saved value must satisfy, over HTTP as given users (services.values):
required text is not blank and is stored trimmed, text fits its column, numbers
fit their column (digits before and after the point, integer range); refusals
are Russian, never a 500, and leave the database as it was. Also: keys that
name no row answer 404, filters with a value of the wrong type do not break the
list, its export or the API, the explain page tells a read-only row from a
writable one, and deleting a row the user only reads is refused by the scope
before anything tells him what refers to it.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from models.contracts import Contract
from models.parties import Insurer
from models.programmes import Programme
from models.refbooks import PaymentSection, Tax
from tests.contract_rows import (
    contract,
    count,
    flashes,
    insurer,
    message,
    n,
    page,
    programme,
    user_with,
)
from tests.support import unit

TAXES = "/api/v1/taxes/"
CONTRACTS = "/api/v1/contracts/"
OUT_OF_SCOPE = "Запись выходит за пределы вашей области данных"
READ_ONLY = "Запись доступна только для чтения"
HUGE_KEY = "99999999999999999999999"
DELETER = {"contract.insurers": "delete"}  # for a branch user (MSK-TVR)


@pytest.fixture
def admin(login):
    return login("admin")


def _tax(**values) -> dict:
    body = {"code": f"T-TAX{n()}", "name": "Тестовый налог", "rate": "10"}
    body.update(values)
    return body


def _taxes(session, code: str) -> int:
    return count(session, Tax, Tax.code == code)


def _contract_body(session, **values) -> dict:
    company = insurer(session)
    session.commit()
    body = {"number": f"ТСТ-З{n():04d}", "signed_on": "2026-01-01", "kind": "dms",
            "payment_scheme": "postpaid", "branch": unit(session, "MSK-TVR").id,
            "insurer": company.id, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    body.update(values)
    return body


def _contracts(session, number: str) -> int:
    return count(session, Contract, Contract.number == number.strip())


# --------------------------------------------------------------------------- required text


def test_blank_required_text_is_refused_through_the_api(session, admin):
    body = _tax(code="   ")
    response = admin.post(TAXES, json=body)
    assert response.status_code == 400
    assert message(response) == "Заполните поле «Код»"
    assert count(session, Tax, Tax.name == body["name"]) == 0

    body = _contract_body(session, number=" \t ")
    response = admin.post(CONTRACTS, json=body)
    assert response.status_code == 400
    assert message(response) == "Заполните поле «Номер договора»"
    assert count(session, Contract, Contract.insurer_id == body["insurer"]) == 0


def test_blanking_a_required_text_on_update_changes_nothing(session, admin):
    body = _tax()
    tax_id = admin.post(TAXES, json=body).get_json()["id"]
    response = admin.put(f"{TAXES}{tax_id}", json={"name": "  "})
    assert response.status_code == 400
    assert message(response) == "Заполните поле «Наименование»"
    session.expire_all()
    assert session.get(Tax, tax_id).name == "Тестовый налог"


def test_text_is_stored_trimmed(session, admin):
    code = f"T-TAX{n()}"
    response = admin.post(TAXES, json=_tax(code=f"  {code} ", name="\tНДС 10 %  "))
    assert response.status_code == 201, response.get_json()
    session.expire_all()
    stored = session.get(Tax, response.get_json()["id"])
    assert (stored.code, stored.name) == (code, "НДС 10 %")
    body = _contract_body(session)
    padded = f"  {body['number']}  "
    assert admin.post(CONTRACTS, json={**body, "number": padded}).status_code == 201
    assert _contracts(session, body["number"]) == 1


# --------------------------------------------------------------------------- text length


def test_too_long_text_is_refused_through_the_api(session, admin):
    body = _tax(code="К" * 33)
    response = admin.post(TAXES, json=body)
    assert response.status_code in (400, 422)
    assert _taxes(session, body["code"]) == 0
    body = _contract_body(session, number="Н" * 51)
    assert admin.post(CONTRACTS, json=body).status_code in (400, 422)
    assert _contracts(session, body["number"]) == 0


def test_too_long_text_is_refused_in_russian_through_the_api(admin):
    response = admin.post(TAXES, json=_tax(code="К" * 33))
    assert message(response) == "Поле «Код»: не длиннее 32 знаков"


def test_too_long_text_is_refused_in_russian_on_the_screen(session, admin):
    form = _tax(code="К" * 33)
    response = admin.post("/taxview/add", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "не должно содержать более 32 символов" in html.unescape(page(response))
    assert _taxes(session, form["code"]) == 0


# --------------------------------------------------------------------------- numbers


def test_a_number_too_big_for_its_column_is_refused(session, admin):
    body = _contract_body(session, amount=10**12)
    response = admin.post(CONTRACTS, json=body)
    assert response.status_code == 400
    assert message(response) == "Поле «Сумма договора»: слишком большое число"
    assert _contracts(session, body["number"]) == 0
    body = _tax(rate="1000")  # Numeric(5, 2): at most 999.99
    response = admin.post(TAXES, json=body)
    assert response.status_code == 400
    assert message(response) == "Поле «Ставка, %»: слишком большое число"
    assert _taxes(session, body["code"]) == 0


def test_the_largest_amount_that_fits_is_accepted(session, admin):
    body = _contract_body(session, amount="999999999999.99")
    response = admin.post(CONTRACTS, json=body)
    assert response.status_code == 201, response.get_json()
    session.expire_all()
    assert session.get(Contract, response.get_json()["id"]).amount == Decimal("999999999999.99")


def test_three_decimals_are_refused_through_the_api(session, admin):
    body = _contract_body(session, amount="10.005")
    response = admin.post(CONTRACTS, json=body)
    assert response.status_code == 400
    assert message(response) == "Поле «Сумма договора»: не больше 2 знаков после запятой"
    assert _contracts(session, body["number"]) == 0


@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_an_integer_beyond_its_column_is_refused(session, admin, value):
    row = programme(session, contract(session))
    session.commit()
    response = admin.put(f"/api/v1/programmes/{row.id}", json={"period_months": value})
    assert response.status_code == 400
    assert message(response) == "Поле «Страховой период, мес.»: слишком большое число"
    session.expire_all()
    assert session.get(Programme, row.id).period_months == 12


def test_the_largest_integer_that_fits_is_accepted(session, admin):
    row = programme(session, contract(session))
    session.commit()
    response = admin.put(f"/api/v1/programmes/{row.id}", json={"period_months": 2**31 - 1})
    assert response.status_code == 200, response.get_json()
    session.expire_all()
    assert session.get(Programme, row.id).period_months == 2**31 - 1


# --------------------------------------------------------------------------- screens


@pytest.mark.parametrize(("rate", "wanted"), [
    ("10.005", "Поле «Ставка, %»: не больше 2 знаков после запятой"),
    ("1000", "Поле «Ставка, %»: слишком большое число"),
    ("NaN", "Поле «Ставка, %»: укажите число"),
])
def test_a_number_the_column_cannot_hold_is_flashed_on_the_screen(session, admin, rate, wanted):
    form = _tax(rate=rate)
    response = admin.post("/taxview/add", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert wanted in flashes(response, "danger")
    assert _taxes(session, form["code"]) == 0


def test_blank_text_and_big_numbers_are_flashed_on_the_contract_screen(session, admin):
    body = _contract_body(session)
    form = {key: str(value) for key, value in body.items()}
    for extra, wanted in (({"number": "   "}, "Заполните поле «Номер договора»"),
                          ({"amount": str(10**12)}, "Поле «Сумма договора»: слишком большое число"),
                          ({"amount": "10.005"},
                           "Поле «Сумма договора»: не больше 2 знаков после запятой")):
        response = admin.post("/contractview/add", data={**form, **extra}, follow_redirects=True)
        assert response.status_code == 200
        assert wanted in flashes(response, "danger"), extra
    assert count(session, Contract, Contract.insurer_id == body["insurer"]) == 0


def test_an_integer_beyond_its_column_is_flashed_on_the_screen(session, admin):
    code = f"T-SEC{n()}"
    form = {"code": code, "name": "Секция", "register_section": str(2**31), "active": "y"}
    response = admin.post("/paymentsectionview/add", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert "Поле «Номер секции ФР»: слишком большое число" in flashes(response, "danger")
    assert count(session, PaymentSection, PaymentSection.code == code) == 0
    form["register_section"] = "3"
    admin.post("/paymentsectionview/add", data=form, follow_redirects=True)
    assert count(session, PaymentSection, PaymentSection.code == code) == 1


# --------------------------------------------------------------------------- keys


KEYS = [(method, pk) for method in ("get", "put", "delete")
        for pk in ("abc", "1.5", "-1", HUGE_KEY, "-" + HUGE_KEY)]


@pytest.mark.parametrize(("method", "pk"), KEYS)
def test_a_key_that_names_no_row_is_not_found(session, admin, method, pk):
    before = count(session, Tax)
    response = getattr(admin, method)(f"{TAXES}{pk}", json={"name": "Чужое"}
                                      if method == "put" else None)
    assert response.status_code == 404
    assert count(session, Tax) == before
    assert count(session, Tax, Tax.name == "Чужое") == 0


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize("url", [
    "/taxview/list/?_flt_0_rate=abc",
    "/taxview/export/csv?_flt_0_rate=abc",
    "/taxview/export/xlsx?_flt_0_rate=abc",
    "/contractview/export/csv?_flt_0_amount=abc",
])
def test_a_numeric_filter_given_text_is_refused(admin, url):
    assert admin.get(url).status_code == 400


def test_a_numeric_api_filter_given_text_is_refused_in_russian(admin):
    response = admin.get(TAXES + "?q=(filters:!((col:rate,opr:eq,value:abc)))")
    assert response.status_code == 400
    assert message(response) == "Значение фильтра «abc» — не число"


@pytest.mark.parametrize("url", [
    "/contractview/list/?_flt_0_signed_on=abc",
    "/contractview/export/csv?_flt_0_signed_on=abc",
    CONTRACTS + "?q=(filters:!((col:signed_on,opr:gt,value:abc)))",
    "/paymentsectionview/export/csv?_flt_0_register_section=abc",
])
def test_a_date_or_integer_filter_given_text_is_no_error(admin, url):
    assert admin.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/taxview/list/?_flt_0_rate=17.25",
                                 "/taxview/export/csv?_flt_0_rate=17.25"])
def test_a_numeric_screen_filter_finds_the_rows(session, admin, url):
    wanted, other = _tax(rate="17.25"), _tax(rate="17.5")
    admin.post(TAXES, json=wanted)
    admin.post(TAXES, json=other)
    response = admin.get(url)
    assert response.status_code == 200
    assert wanted["code"] in page(response) and other["code"] not in page(response)


@pytest.mark.parametrize("url", [
    "/contractview/export/csv?_flt_0_branch=abc",
    CONTRACTS + "?q=(filters:!((col:branch,opr:rel_o_m,value:abc)))",
])
def test_a_link_filter_given_text_is_not_a_server_error(admin, url):
    assert admin.get(url).status_code == 400


@pytest.mark.parametrize("url", ["/taxview/list/?_flt_9_rate=1",
                                 "/taxview/export/csv?_flt_9_rate=1"])
def test_a_filter_number_beyond_the_column_filters_is_not_a_server_error(admin, url):
    assert admin.get(url).status_code == 400


# --------------------------------------------------------------------------- explain


def _explain(client, username: str, view: str, permission: str, pk: int) -> str:
    response = client.get(f"/rights/explain?user={username}&view={view}"
                          f"&permission={permission}&pk={pk}")
    assert response.status_code == 200
    return html.unescape(page(response))


def _verdict(text: str) -> bool:
    allowed, denied = "Доступ разрешён" in text, "Доступ запрещён" in text
    assert allowed != denied
    return allowed


@pytest.mark.parametrize(("username", "view", "owner"), [
    ("accountant", "InsurerView", "network insurer"),
    ("branch_head", "ContractView", "network contract served"),
])
def test_explain_tells_a_read_only_row_from_a_writable_one(session, admin, username, view,
                                                           owner):
    if owner == "network insurer":
        row, own = insurer(session, "NET"), insurer(session, "MSK")
    else:
        row = contract(session, "MSK-ARB", served=("MSK-TVR",))
        own = contract(session, "MSK-TVR")
    session.commit()
    shown = _explain(admin, username, view, "can_show", row.id)
    assert _verdict(shown) and "вне области данных" not in shown and READ_ONLY not in shown
    edited = _explain(admin, username, view, "can_edit", row.id)
    assert not _verdict(edited)
    assert "Действие «изменение»" in edited and READ_ONLY in edited
    mine = _explain(admin, username, view, "can_edit", own.id)
    assert _verdict(mine) and READ_ONLY not in mine


def test_explain_marks_an_api_write_on_a_read_only_row(session, admin):
    row = insurer(session, "NET")
    session.commit()
    text = _explain(admin, "accountant", "InsurerApi", "can_put", row.id)
    assert not _verdict(text) and READ_ONLY in text


def test_a_read_only_row_cannot_be_changed_through_the_api(session, login):
    row = insurer(session, "NET")
    session.commit()
    response = login("accountant").put(f"/api/v1/insurers/{row.id}", json={"name": "Захват"})
    assert response.status_code == 400
    assert message(response) == OUT_OF_SCOPE
    assert count(session, Insurer, Insurer.name == "Захват") == 0


# --------------------------------------------------------------------------- delete order


@pytest.fixture
def referenced_network_insurer(session):
    """A network-owned insurer that a contract refers to."""
    row = insurer(session, "NET")
    contract(session, insurer=row)
    session.commit()
    return row


def test_the_api_refuses_by_scope_before_naming_the_references(
        session, login, referenced_network_insurer):
    row_id = referenced_network_insurer.id
    response = user_with(session, login, DELETER).delete(f"/api/v1/insurers/{row_id}")
    assert response.status_code == 400
    assert message(response) == OUT_OF_SCOPE
    assert "на запись ссылаются" not in page(response)
    assert count(session, Insurer, Insurer.id == row_id) == 1


@pytest.mark.parametrize("how", ["single", "bulk"])
def test_the_screen_refuses_by_scope_before_naming_the_references(
        session, login, referenced_network_insurer, how):
    row_id = referenced_network_insurer.id
    client = user_with(session, login, DELETER)
    if how == "single":
        response = client.post(f"/insurerview/delete/{row_id}", follow_redirects=True)
    else:
        response = client.post("/insurerview/action_post", follow_redirects=True,
                               data={"action": "muldelete", "rowid": [row_id]})
    assert response.status_code == 200
    assert OUT_OF_SCOPE in flashes(response, "danger")
    assert "на запись ссылаются" not in html.unescape(page(response))
    assert count(session, Insurer, Insurer.id == row_id) == 1


def test_whoever_may_write_the_row_is_told_what_refers_to_it(
        session, admin, referenced_network_insurer):
    row_id = referenced_network_insurer.id
    response = admin.delete(f"/api/v1/insurers/{row_id}")
    assert response.status_code == 400
    assert "на запись ссылаются: Договоры (1)" in message(response)
    assert count(session, Insurer, Insurer.id == row_id) == 1
