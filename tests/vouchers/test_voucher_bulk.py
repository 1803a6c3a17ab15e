"""Actions on many vouchers, over HTTP: «Пересчитать талоны» re-prices open lines
from the price list (paid lines keep their money) under «Разрешить пересчет
талонов»; «Изменить врача» sets one doctor on the ticked vouchers under
«Поточное изменение врача в талонах», all or nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from models.params import ModuleParameters
from models.pricelist import Price
from models.refbooks import PriceCategory
from models.staff import Employee
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import flashes, n, patient, user_with
from tests.support import unit

TODAY = dt.date.today()
EDITOR = {"voucher.other_vouchers": "delete", "voucher.others_access": "yes",
          "voucher.others_edit_delete": "yes", "voucher.without_attachment": "allow",
          "voucher.without_staff": "allow", "voucher.without_diagnosis": "allow",
          "voucher.change_doctor_with_services": "yes", "patient.registry": "view",
          "patient.staff": "view"}


def _paid_service(session) -> tuple[int, Decimal]:
    """A service with a Moscow paid price valid today, and that price."""
    price = session.scalars(select(Price).join(PriceCategory).where(
        PriceCategory.code == "MSK-BASE", Price.valid_from <= TODAY,
        (Price.valid_to.is_(None)) | (Price.valid_to >= TODAY)).order_by(Price.id)).first()
    return price.service_id, price.amount


def _voucher(session, client, lines=2, day=TODAY) -> Voucher:
    service_id, _amount = _paid_service(session)
    body = {"service_date": day.isoformat(), "kind": "regular",
            "branch": unit(session, "MSK-TVR").id, "patient": patient(session).id}
    session.commit()
    created = client.post("/api/v1/vouchers/?confirm=1", json=body)
    assert created.status_code == 201, created.get_json()
    voucher_id = created.get_json()["id"]
    for _ in range(lines):
        line = client.post("/api/v1/voucherlines/?confirm=1",
                           json={"voucher": voucher_id, "service": service_id, "quantity": 1})
        assert line.status_code == 201, line.get_json()
    session.expire_all()
    return session.get(Voucher, voucher_id)


def _prices(session, voucher_id) -> list[tuple[Decimal, str]]:
    session.expire_all()
    return [(line.price, line.state) for line in session.scalars(
        select(VoucherLine).where(VoucherLine.voucher_id == voucher_id)
        .order_by(VoucherLine.id))]


def _recalculate(client, ids):
    return client.post("/voucherview/action_post", data={"action": "recalculate",
                                                         "rowid": [str(i) for i in ids]},
                       follow_redirects=True)


def test_recalculation_needs_its_right_and_restores_list_prices(session, login):
    _service, listed = _paid_service(session)
    admin = login("admin")
    voucher = _voucher(session, admin)
    first, second = voucher.lines
    first.price, first.amount = Decimal("1.00"), Decimal("1.00")
    second.state = "paid"
    second.price, second.amount = Decimal("2.00"), Decimal("2.00")
    session.commit()
    before = _prices(session, voucher.id)
    plain = user_with(session, login, EDITOR)
    refused = _recalculate(plain, [voucher.id])
    assert "Пересчитывает талоны только пользователь с правом «Разрешить пересчет талонов»" \
        in flashes(refused, "danger")
    assert _prices(session, voucher.id) == before
    allowed = user_with(session, login, {**EDITOR, "voucher.recalculate": "yes"})
    done = _recalculate(allowed, [voucher.id])
    assert ("Пересчитано: изменено строк 1, без изменений 0; оплаченные, выставленные в счёт "
            "и отменённые не пересчитываются: 1") in flashes(done, "success")
    # The open line takes the list price again; the paid one keeps its money.
    assert _prices(session, voucher.id) == [(listed, "rendered"), (Decimal("2.00"), "paid")]
    session.expire_all()
    assert session.get(Voucher, voucher.id).total == listed + Decimal("2.00")


def test_a_closed_voucher_is_skipped_with_the_reason(session, login):
    admin = login("admin")
    voucher = _voucher(session, admin, lines=1, day=TODAY - dt.timedelta(days=3))
    voucher.lines[0].price = Decimal("1.00")
    session.add(ModuleParameters(unit=unit(session, "NET"),
                                 closed_through=TODAY - dt.timedelta(days=1)))
    session.commit()
    allowed = user_with(session, login, {**EDITOR, "voucher.recalculate": "yes"})
    done = _recalculate(allowed, [voucher.id])
    assert any("Отчётный период закрыт" in text for text in flashes(done, "warning"))
    assert _prices(session, voucher.id) == [(Decimal("1.00"), "rendered")]


def _doctor(session, branch="MSK-TVR") -> Employee:
    row = Employee(last_name=f"Врачев{n()}", first_name="Олег", is_doctor=True,
                   branch=unit(session, branch))
    session.add(row)
    session.flush()
    return row


def test_bulk_change_of_doctor_needs_its_right_and_is_all_or_nothing(session, login):
    admin = login("admin")
    first, second = _voucher(session, admin, lines=1), _voucher(session, admin, lines=1)
    doctor = _doctor(session)
    session.commit()
    ids = [str(first.id), str(second.id)]
    plain = user_with(session, login, EDITOR)
    page = plain.post("/voucherview/action_post", data={"action": "change_doctor",
                                                        "rowid": ids})
    assert page.status_code == 200 and f'value="{doctor.id}"' in page.text
    refused = plain.post("/voucherview/change-doctor", data={"doctor": doctor.id, "rowid": ids})
    assert refused.status_code == 400
    assert ("Врача в списке талонов меняет только пользователь с правом «Поточное изменение "
            "врача в талонах»") in flashes(refused, "danger")
    session.expire_all()
    assert {session.get(Voucher, int(i)).doctor_id for i in ids} == {None}
    allowed = user_with(session, login, {**EDITOR, "voucher.bulk_change_doctor": "yes"})
    # One voucher in the closed period: neither changes.
    second.service_date = TODAY - dt.timedelta(days=2)
    session.add(ModuleParameters(unit=unit(session, "NET"),
                                 closed_through=TODAY - dt.timedelta(days=1)))
    session.commit()
    stopped = allowed.post("/voucherview/change-doctor", data={"doctor": doctor.id, "rowid": ids})
    assert stopped.status_code == 400
    assert any("Отчётный период закрыт" in text for text in flashes(stopped, "danger"))
    session.expire_all()
    assert {session.get(Voucher, int(i)).doctor_id for i in ids} == {None}
    done = allowed.post("/voucherview/change-doctor", data={"doctor": doctor.id,
                                                            "rowid": [str(first.id)]},
                        follow_redirects=True)
    assert f"Врач «{doctor}» указан в талонах: 1" in flashes(done, "success")
    session.expire_all()
    assert session.get(Voucher, first.id).doctor_id == doctor.id


def test_a_voucher_outside_the_scope_is_not_found(session, login):
    admin = login("admin")
    voucher = _voucher(session, admin, lines=1)
    foreign = user_with(session, login, {**EDITOR, "voucher.bulk_change_doctor": "yes"},
                        home="SPB-NEV")
    response = foreign.post("/voucherview/change-doctor",
                            data={"doctor": _doctor(session, "SPB-NEV").id,
                                  "rowid": [str(voucher.id)]})
    assert response.status_code == 404


def test_actions_do_not_reach_vouchers_hidden_by_others_access(session, login):
    # Another user's voucher, in the same branch: without «Доступ к талонам других
    # пользователей» neither action may touch it, whatever the yes/no rights say.
    voucher = _voucher(session, login("admin"), lines=1)
    voucher.lines[0].price = Decimal("1.00")
    doctor = _doctor(session)
    session.commit()
    blind = user_with(session, login, {**EDITOR, "voucher.others_access": "no",
                                       "voucher.recalculate": "yes",
                                       "voucher.bulk_change_doctor": "yes"})
    assert _recalculate(blind, [voucher.id]).status_code == 404
    assert _prices(session, voucher.id) == [(Decimal("1.00"), "rendered")]
    changed = blind.post("/voucherview/change-doctor",
                         data={"doctor": doctor.id, "rowid": [str(voucher.id)]})
    assert changed.status_code == 404
    session.expire_all()
    assert session.get(Voucher, voucher.id).doctor_id is None
