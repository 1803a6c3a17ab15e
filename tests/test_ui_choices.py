"""Choices fit the field and lists are found by what people know (GUIDE §6), over HTTP
as the people who use the forms: a voucher line offers only the services saving
accepts, nothing preselected; add-on orders offer laboratory tests only; a «Филиал»
offers branches, a department the chosen branch's, each unit named so that it can be
told apart, the user's own unit chosen; vouchers are found by patient, number and
state, and from the patient's card — all within the user's scope."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from models.org import Unit
from models.pricelist import Price, Service, ServiceGroup
from services.cabinet.orders import addon_services
from services.vouchers.pricing import category_for, paid_price_type
from tests.cabinet.test_cabinet_addons import visit
from tests.contract_rows import patient
from tests.support import unit
from tests.voucher_rows import LINES, line, service, voucher, voucher_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def options(page: str, name: str) -> list[tuple[str, str, bool, str]]:
    """Return the (value, label, selected, attributes) of a form's select `name`."""
    found = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found is not None, f"no select {name}"
    return [(re.search(r'value="([^"]*)"', attrs).group(1), label.strip(),
             " selected" in f" {attrs}", attrs)
            for attrs, label in re.findall(r"<option([^>]*)>(.*?)</option>", found.group(1),
                                           re.S)]


BLANK = ("", "__None")


def chosen(page: str, name: str) -> list[str]:
    """Return the labels of the chosen options of a select, the empty choice left out."""
    return [label for value, label, selected, _a in options(page, name)
            if selected and value not in BLANK]


def labels(page: str, name: str) -> list[str]:
    return [label for value, label, _s, _a in options(page, name) if value not in BLANK]


OTHERS = {"voucher.others_edit_delete": "yes"}  # the vouchers are stored by the setup


def department_of(session, code: str):
    from models.refbooks import Department

    return session.scalar(select(Department).where(Department.code == code))


# --- (5) the services a voucher line offers ----------------------------------------------


def test_the_line_form_offers_only_what_saving_accepts_with_nothing_preselected(session,
                                                                                  login):
    own = service(session, department="MSK-TVR-THR")
    lab = service(session, department="MSK-TVR-LAB")
    elsewhere = service(session, department="MSK-ARB-THR")
    shared = service(session)
    owner = voucher(session, patient(session), department=department_of(session,
                                                                        "MSK-TVR-THR"))
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.all_department_services": "no",
                                              "voucher.control_branches": "yes", **OTHERS})
    # The card's «+» opens the form with the voucher as a filter (FAB hides the field).
    page = text(client.get(f"/voucherlineview/add?_flt_0_voucher={owner.id}"))
    offered = labels(page, "service")
    assert own.name in offered and shared.name in offered
    assert lab.name not in offered and elsewhere.name not in offered
    assert chosen(page, "service") == [], "nothing is preselected"
    # What is offered saves; what is not is refused by the same rules.
    assert client.post(LINES, json={"voucher": owner.id, "service": own.id,
                                    "quantity": 1}).status_code == 201
    # Another department's service needs «Показывать услуги всех отделений»: 403.
    assert client.post(LINES, json={"voucher": owner.id, "service": lab.id,
                                    "quantity": 1}).status_code == 403

    wide, _ = voucher_user(session, login, {"voucher.all_department_services": "yes",
                                            "voucher.control_branches": "yes", **OTHERS})
    offered = labels(text(wide.get(f"/voucherlineview/add?_flt_0_voucher={owner.id}")),
                     "service")
    assert lab.name in offered and elsewhere.name not in offered  # another branch's
    assert wide.post(LINES, json={"voucher": owner.id, "service": elsewhere.id,
                                  "quantity": 1}).status_code == 400


def test_the_line_form_keeps_the_lines_own_service_on_edit(session, login):
    lab = service(session, department="MSK-TVR-LAB")
    owner = voucher(session, patient(session), department=department_of(session,
                                                                        "MSK-TVR-THR"))
    row = line(session, owner, lab)
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.all_department_services": "no"})
    page = text(client.get(f"/voucherlineview/edit/{row.id}"))
    assert chosen(page, "service") == [lab.name]


def test_add_on_orders_offer_laboratory_tests_only(session, login):
    mine = visit(session, "CL1-B2")
    paid = paid_price_type(session)
    category = category_for(session, paid.id, mine.branch_id)
    consultation = session.scalars(
        select(Service).join(Price, Price.service_id == Service.id)
        .join(ServiceGroup, ServiceGroup.id == Service.group_id)
        .where(ServiceGroup.code == "CON", Price.category_id == category.id,
               Service.active.is_(True))).first()
    assert consultation is not None
    client = login("client_user")
    page = text(client.get("/cabinet/addons/", query_string={"visit": mine.id}))
    offered = {int(v) for v in re.findall(r'name="service" value="(\d+)"', page)}
    assert offered, "the visit's branch offers laboratory tests"
    assert consultation.id not in offered
    groups = set(session.scalars(select(ServiceGroup.code).join(
        Service, Service.group_id == ServiceGroup.id).where(Service.id.in_(offered))))
    assert "CON" not in groups and groups <= {"HEM", "BIO", "HRM", "INF", "URN", "ALG", "ONC",
                                              "CMP"}
    assert {s.id for s, _p in addon_services(session, mine)} == offered
    refused = client.post("/cabinet/addons/", data={"visit": mine.id,
                                                    "service": [consultation.id]})
    assert refused.status_code == 400
    assert "Этого теста нет в прейскуранте для дозаказа" in text(refused)


# --- (6) unit fields ----------------------------------------------------------------------


def test_a_registrars_branch_field_offers_his_branch_chosen_and_its_departments(login):
    page = text(login("registrar").get("/voucherview/add"))
    assert labels(page, "branch") == ["Филиал «Тверской»"]
    assert chosen(page, "branch") == ["Филиал «Тверской»"]
    departments = labels(page, "department")
    assert departments and all(name.endswith("(Тверской)") for name in departments), \
        departments  # no other branch's departments
    # Each department names its branch: the page keeps those of the chosen branch.
    assert 'data-depends-on="branch"' in page


def test_a_department_field_depends_on_the_chosen_branch(session, login):
    page = text(login("admin").get("/voucherview/add"))
    assert set(labels(page, "branch")) == set(session.scalars(
        select(Unit.name).where(Unit.kind == "branch")))
    arbat = unit(session, "MSK-ARB")
    parents = {label: re.search(r'data-parent="(\d*)"', attrs).group(1)
               for value, label, _s, attrs in options(page, "department") if value not in BLANK}
    assert parents["Терапевтическое отделение (Арбат)"] == str(arbat.id)
    assert parents["Терапевтическое отделение (Тверской)"] == str(unit(session, "MSK-TVR").id)


def test_a_new_voucher_of_a_department_user_opens_with_its_branch(session, login):
    # A department's user whose scope holds its branch: the nearest unit the field offers.
    client, _ = voucher_user(session, login, {}, home="MSK-TVR-THR", scope="all")
    page = text(client.get("/voucherview/add"))
    assert chosen(page, "branch") == ["Филиал «Тверской»"]


def test_every_branch_field_offers_branches_only(session, login):
    branches = set(session.scalars(select(Unit.name).where(Unit.kind == "branch")))
    client = login("admin")
    for url, name in (("/employeeview/add", "branch"), ("/patientview/add", "home_branch"),
                      ("/referralview/add", "branch"), ("/contractview/add", "branch")):
        page = text(client.get(url))
        assert set(labels(page, name)) == branches, url


def test_units_read_apart_in_a_unit_field(login):
    page = text(login("admin").get("/users/add"))
    names = labels(page, "home_unit")
    assert len(names) == len(set(names)), "every unit reads differently"
    assert "Терапевтическое отделение (Филиал «Тверской»)" in names
    assert chosen(page, "home_unit") == ["Сеть клиник «Здоровье»"]  # the admin's own


def test_cabinet_forms_open_with_the_users_own_office(login):
    client = login("client_head")
    for url in ("/cabinet/courier/", "/cabinet/questions/", "/cabinet/consumables/"):
        first = options(text(client.get(url)), "unit")[0]
        assert first[1] == "Головной офис «Добромед»", url


# --- (7) finding a patient's vouchers ----------------------------------------------------


def listed(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r"/voucherview/show/(\d+)", page)}


def test_vouchers_are_found_by_patient_name_and_birth_date(session, login):
    person = patient(session, last_name="Искомова")
    other = patient(session, last_name="Посторонний")
    mine = voucher(session, person)
    paid = voucher(session, person)
    line(session, paid, service(session), state="paid")
    theirs = voucher(session, other)
    session.commit()
    client = login("registrar")
    found = client.get("/voucherview/list/", query_string={
        "_flt_0_patient_name": f"искомова {person.birth_date:%d.%m.%Y}"})
    assert found.status_code == 200
    page = text(found)
    assert listed(page) == {mine.id, paid.id} and theirs.id not in listed(page)
    # The number and the state are columns of the list.
    headers = [re.sub(r"<[^>]+>|\s+", " ", th).strip()
               for th in re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)]
    assert "Номер" in headers and "Состояние" in headers, headers
    assert "Оплачен" in page and "Без услуг" in page
    by_number = text(client.get("/voucherview/list/", query_string={"_flt_0_id": mine.id}))
    assert listed(by_number) == {mine.id}


def test_the_patient_filter_stays_in_the_users_scope(session, login):
    # A patient of «Арбат» seen in «Тверской»: the registrar may see the voucher, not
    # look up that patient.
    stranger = patient(session, home="MSK-ARB", last_name="Чужова")
    seen = voucher(session, stranger)
    session.commit()
    client = login("registrar")
    for typed in (str(stranger.id), "Чужова"):
        page = text(client.get("/voucherview/list/",
                               query_string={"_flt_0_patient_name": typed}))
        assert listed(page) == set(), typed
    assert seen.id in listed(text(client.get("/voucherview/list/",
                                             query_string={"_flt_0_id": seen.id})))


def test_the_patient_card_has_a_vouchers_tab(session, login):
    person, other = patient(session), patient(session)
    mine, theirs = voucher(session, person), voucher(session, other)
    session.commit()
    page = text(login("registrar").get(f"/patientview/show/{person.id}"))
    assert ">Талоны<" in page
    assert mine.id in listed(page) and theirs.id not in listed(page)
