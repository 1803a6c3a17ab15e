"""Voucher rights not covered by the other voucher tests, each shown allowing and
refusing over HTTP: the hours allowed after a voucher was created, the doctor of a
prepaid voucher, the branch taken from the patient's attachment, and two rights of
«Пересчитать талоны» (limits ignored on a bulk re-post, network attachments)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from sqlalchemy import select

from models.programmes import ProgrammeService
from models.vouchers import Voucher, VoucherLine
from services.dates import utc_now
from tests.contract_rows import attachment, contract, flashes, message, patient, programme
from tests.support import unit
from tests.voucher_rows import (
    DMS_PRICE,
    VOUCHERS,
    ago,
    attached,
    covered_line,
    employee,
    price_type,
    service,
    snapshot,
    stored,
    voucher,
    voucher_user,
)

OTHERS = {"voucher.others_edit_delete": "yes"}
RECALCULATE = {**OTHERS, "voucher.recalculate": "yes"}


def test_edit_hours_limits_changes_after_the_voucher_was_created(session, login):
    owner = voucher(session, patient(session), created_on=utc_now() - dt.timedelta(hours=5))
    session.commit()
    before = snapshot(session, owner.id)
    late, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_hours": "4"})
    refused = late.put(f"{VOUCHERS}{owner.id}", json={"note": "поздно", "version": 1})
    assert (refused.status_code, message(refused)) == (
        400, "Талон меняется не позже 4 ч. после создания")
    assert snapshot(session, owner.id) == before
    in_time, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_hours": "6"})
    assert in_time.put(f"{VOUCHERS}{owner.id}",
                       json={"note": "вовремя", "version": 1}).status_code == 200
    unlimited, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_hours": "0"})
    assert unlimited.put(f"{VOUCHERS}{owner.id}",
                         json={"note": "без срока", "version": 2}).status_code == 200
    assert stored(session, Voucher, owner.id).note == "без срока"


def test_edit_hours_count_from_the_stored_utc_stamp_whatever_the_servers_zone(
        session, login, monkeypatch):
    # created_on is stored in UTC: a server whose clock runs in Moscow time (UTC+3)
    # must not see a voucher made an hour ago as four hours old.
    monkeypatch.setenv("TZ", "Europe/Moscow")
    time.tzset()
    try:
        owner = voucher(session, patient(session),
                        created_on=utc_now() - dt.timedelta(hours=1))
        session.commit()
        editor, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_hours": "2"})
        changed = editor.put(f"{VOUCHERS}{owner.id}", json={"note": "через час", "version": 1})
        assert changed.status_code == 200, message(changed)
        assert stored(session, Voucher, owner.id).note == "через час"
    finally:
        monkeypatch.undo()
        time.tzset()


def _new(person, **values):
    return {"service_date": ago(1).isoformat(), "patient": person.id, **values}


def test_the_doctor_of_a_prepaid_voucher_needs_prepaid_doctor(session, login):
    person, doctor = patient(session), employee(session)
    branch = unit(session, "MSK-TVR").id
    session.commit()
    body = _new(person, kind="prepaid", branch=branch, doctor=doctor.id)
    plain, _ = voucher_user(session, login, {"voucher.prepaid_doctor": "no"})
    refused = plain.post(VOUCHERS, json=body)
    assert (refused.status_code, message(refused)) == (
        403, "Врача в предоплатном талоне указывает только пользователь с правом «Разрешить "
             "указывать врача в предоплатном талоне»")
    assert plain.post(VOUCHERS, json={**body, "doctor": None}).status_code == 201
    assert plain.post(VOUCHERS, json={**body, "kind": "regular"}).status_code == 201
    allowed, _ = voucher_user(session, login, {"voucher.prepaid_doctor": "yes"})
    made = allowed.post(VOUCHERS, json=body)
    assert made.status_code == 201
    assert stored(session, Voucher, made.get_json()["id"]).doctor_id == doctor.id


def test_auto_branch_takes_the_branch_of_the_patients_attachment(session, login):
    person, _link = attached(session, covered=[service(session)], home="MSK-TVR")
    session.commit()
    count = len(session.scalars(select(Voucher.id)).all())
    plain, _ = voucher_user(session, login, {"voucher.auto_branch": "no"})
    refused = plain.post(VOUCHERS, json=_new(person, kind="regular"))
    assert (refused.status_code, message(refused)) == (400, "Укажите филиал")
    session.expire_all()
    assert len(session.scalars(select(Voucher.id)).all()) == count
    allowed, _ = voucher_user(session, login, {"voucher.auto_branch": "yes"})
    made = allowed.post(VOUCHERS, json=_new(person, kind="regular"))
    assert made.status_code == 201, made.get_json()
    assert stored(session, Voucher, made.get_json()["id"]).branch_id == \
        unit(session, "MSK-TVR").id


def _recalculate(client, *vouchers):
    return client.post("/voucherview/action_post",
                       data={"action": "recalculate", "rowid": [str(v.id) for v in vouchers]},
                       follow_redirects=True)


def _lines(session, owner) -> list[tuple]:
    session.expire_all()
    return [(r.payer_kind, r.price) for r in session.scalars(
        select(VoucherLine).where(VoucherLine.voucher_id == owner.id).order_by(VoucherLine.id))]


def test_bulk_repost_ignore_limits_lets_a_recalculation_pass_the_limits(session, login):
    item = service(session)
    person, link = attached(session, covered=[item], max_count=1)
    owner = voucher(session, person)
    for _ in range(2):  # stored past the limit (setup, no rules): one unit is allowed
        covered_line(session, owner, item, link)
    session.commit()
    before = snapshot(session, owner.id)
    strict, _ = voucher_user(session, login, {
        **RECALCULATE, "voucher.programme_count_exceeded": "forbid",
        "voucher.bulk_repost_ignore_limits": "no"})
    page = _recalculate(strict, owner)
    assert any("Превышен лимит количества услуги" in text for text in flashes(page, "warning"))
    assert snapshot(session, owner.id) == before
    lenient, _ = voucher_user(session, login, {
        **RECALCULATE, "voucher.programme_count_exceeded": "forbid",
        "voucher.bulk_repost_ignore_limits": "yes"})
    page = _recalculate(lenient, owner)
    assert not flashes(page, "warning")
    assert _lines(session, owner) == [("attachment", DMS_PRICE)] * 2


def test_lines_of_a_network_contract_need_recalculate_network(session, login):
    item = service(session)
    network = contract(session, network=True)
    plan = programme(session, network, price_type=price_type(session, "DMS"),
                     services=[ProgrammeService(service=item)])
    person = patient(session)
    link = attachment(session, person, plan, valid_from=ago(30))
    owner = voucher(session, person)
    row = covered_line(session, owner, item, link)
    row.price, row.amount = Decimal("1.00"), Decimal("1.00")
    session.commit()
    local, _ = voucher_user(session, login, {**RECALCULATE,
                                             "voucher.recalculate_network": "no"})
    _recalculate(local, owner)
    assert _lines(session, owner) == [("attachment", Decimal("1.00"))]
    networked, _ = voucher_user(session, login, {**RECALCULATE,
                                                 "voucher.recalculate_network": "yes"})
    _recalculate(networked, owner)
    assert _lines(session, owner) == [("attachment", DMS_PRICE)]
