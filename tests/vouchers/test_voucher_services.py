"""Which services a voucher takes: the department's own unless «Показывать услуги всех
отделений», OMS and DMS kept apart under «Разделение услуг по признаку ОМС/ДМС»;
and the row locks that keep two saves from spending one programme's limit or one
deposit twice. Over HTTP as users holding exactly the rights each test needs."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from models.programmes import ProgrammeService
from models.refbooks import Department
from models.vouchers import VoucherLine
from tests.contract_rows import attachment, contract, message, patient, programme
from tests.voucher_rows import (
    LINES,
    ago,
    attached,
    line,
    price_type,
    service,
    snapshot,
    stored,
    text,
    voucher,
    voucher_user,
)

OTHERS = {"voucher.others_edit_delete": "yes"}
OTHER_DEPARTMENT = ("Услуга относится к другому отделению: в талон отделения добавляются только "
                    "его услуги (право «Показывать услуги всех отделений»)")


def add(client, owner, item, **values):
    return client.post(LINES, json={"voucher": owner.id, "service": item.id, "quantity": 1,
                                    **values})


def department(session, code):
    return session.scalar(select(Department).where(Department.code == code))


def test_a_departments_voucher_takes_its_departments_services(session, login):
    therapy, lab = department(session, "MSK-TVR-THR"), "MSK-TVR-LAB"
    own, foreign, shared = (service(session, department="MSK-TVR-THR"),
                            service(session, department=lab), service(session))
    owner = voucher(session, patient(session), department=therapy)
    session.commit()
    before = snapshot(session, owner.id)
    client, _ = voucher_user(session, login, {**OTHERS,
                                              "voucher.all_department_services": "no"})
    refused = add(client, owner, foreign)
    assert (refused.status_code, message(refused)) == (403, OTHER_DEPARTMENT)
    assert snapshot(session, owner.id) == before
    assert add(client, owner, own).status_code == 201
    assert add(client, owner, shared).status_code == 201  # no department: fits every voucher
    allowed, _ = voucher_user(session, login, {**OTHERS,
                                               "voucher.all_department_services": "yes"})
    assert add(allowed, owner, foreign).status_code == 201
    assert stored(session, type(owner), owner.id).line_count == 3


def test_changing_a_lines_service_to_another_departments_is_refused(session, login):
    own, foreign = service(session, department="MSK-TVR-THR"), service(
        session, department="MSK-TVR-LAB")
    owner = voucher(session, patient(session), department=department(session, "MSK-TVR-THR"))
    row = line(session, owner, own)
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    refused = client.put(f"{LINES}{row.id}", json={"service": foreign.id})
    assert (refused.status_code, message(refused)) == (403, OTHER_DEPARTMENT)
    assert stored(session, VoucherLine, row.id).service_id == own.id


def test_the_line_form_offers_the_departments_services(session, login):
    own, foreign = service(session, department="MSK-TVR-THR"), service(
        session, department="MSK-TVR-LAB")
    owner = voucher(session, patient(session), department=department(session, "MSK-TVR-THR"))
    row = line(session, owner, own)
    session.commit()
    narrow, _ = voucher_user(session, login, OTHERS)
    page = text(narrow.get(f"/voucherlineview/edit/{row.id}"))
    assert own.name in page and foreign.name not in page
    wide, _ = voucher_user(session, login, {**OTHERS, "voucher.all_department_services": "yes"})
    page = text(wide.get(f"/voucherlineview/edit/{row.id}"))
    assert own.name in page and foreign.name in page


@pytest.fixture
def insured(session):
    """A patient under a DMS programme (covering a DMS service and an unmarked one) and
    an OMS programme (covering an OMS service)."""
    dms_service, plain, oms_service = service(session), service(session), service(session)
    dms_service.insurance, oms_service.insurance = "dms", "oms"
    person, _ = attached(session, covered=[dms_service, plain])
    oms = programme(session, contract(session, kind="oms"),
                    price_type=price_type(session, "DMS"),
                    services=[ProgrammeService(service=oms_service)])
    attachment(session, person, oms, valid_from=ago(30))
    session.commit()
    return person, dms_service, plain, oms_service


def test_split_oms_dms_keeps_unmarked_services_off_insurance(session, login, insured):
    person, dms_service, plain, _oms_service = insured
    owner = voucher(session, person)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "params.split_oms_dms": "yes"})
    refused = add(client, owner, plain)
    assert (refused.status_code, message(refused)) == (
        400, "Услуга не отмечена признаком ДМС: по договору ДМС она не проводится")
    done = add(client, owner, dms_service)
    assert done.status_code == 201
    assert stored(session, VoucherLine, done.get_json()["id"]).payer_kind == "attachment"
    free, _ = voucher_user(session, login, {**OTHERS, "params.split_oms_dms": "no"})
    assert add(free, owner, plain).status_code == 201


def test_split_oms_dms_keeps_oms_and_dms_in_separate_vouchers(session, login, insured):
    person, dms_service, _plain, oms_service = insured
    mixed, separate = voucher(session, person), voucher(session, person)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "params.split_oms_dms": "yes"})
    assert add(client, mixed, dms_service).status_code == 201
    before = snapshot(session, mixed.id)
    refused = add(client, mixed, oms_service)
    assert (refused.status_code, message(refused)) == (
        400, "В талоне уже есть услуги ДМС: услуги ОМС оформляются отдельным талоном")
    assert snapshot(session, mixed.id) == before
    assert add(client, separate, oms_service).status_code == 201
    free, _ = voucher_user(session, login, {**OTHERS, "params.split_oms_dms": "no"})
    assert add(free, mixed, oms_service).status_code == 201


@pytest.fixture
def statements(app):
    """The SQL statements the app runs, recorded."""
    from app.extensions import db

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_limit_check_locks_the_attachment_on_postgresql(session, login, statements):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: it lets one writer at a time")
    item = service(session)
    person, _link = attached(session, covered=[item], max_count=5)
    owner = voucher(session, person)
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    statements.clear()
    assert add(client, owner, item).status_code == 201
    locks = [s for s in statements if "FOR UPDATE" in s]
    assert any("pat_attachment" in s for s in locks), locks


def test_a_deposit_check_locks_the_contract_on_postgresql(session, login, statements):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: it lets one writer at a time")
    from decimal import Decimal

    deposit = contract(session, kind="deposit", payment_scheme="prepaid",
                       amount=Decimal("5000.00"))
    owner = voucher(session, patient(session), kind="deposit", contract=deposit)
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    statements.clear()
    assert add(client, owner, service(session)).status_code == 201
    locks = [s for s in statements if "FOR UPDATE" in s]
    assert any("ctr_contract" in s for s in locks), locks


def test_the_line_form_keeps_the_lines_own_service_offered(session, login):
    """A line of another department's service (added by someone allowed to) keeps it
    on the form: saving a new quantity must not swap the service."""
    own, foreign = service(session, department="MSK-TVR-THR"), service(
        session, department="MSK-TVR-LAB")
    owner = voucher(session, patient(session), department=department(session, "MSK-TVR-THR"))
    row = line(session, owner, foreign)
    session.commit()
    narrow, _ = voucher_user(session, login, OTHERS)
    page = narrow.get(f"/voucherlineview/edit/{row.id}").get_data(as_text=True)
    assert own.name in page  # the department's services are offered
    assert f'value="{foreign.id}" selected' in page or f'selected value="{foreign.id}"' in page
