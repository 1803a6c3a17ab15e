"""Prepaid vouchers formed from referrals («Сформировать талоны»), their date
(«Предоплатный талон создавать на дату» and the network's parameter) and the access
level «Редактирование талонов из ЭМК» over the vouchers formed that way, over HTTP
as users holding exactly the rights each test needs."""

from __future__ import annotations

from sqlalchemy import select

from models.params import ModuleParameters
from models.referrals import Referral
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import flashes, message, patient
from tests.support import unit
from tests.voucher_rows import (
    DMS_PRICE,
    LINES,
    PAID_PRICE,
    VOUCHERS,
    ago,
    attached,
    service,
    stored,
    text,
    voucher_user,
)

FORM = {"voucher.emr_create_prepaid": "yes", "voucher.emr_vouchers": "create"}
CREATE_REFUSED = ("Предоплатные талоны из направлений формирует только пользователь с правом "
                  "«Создание предоплатных талонов из ЭМК»")
#: The EMR voucher is formed by another user and has no doctor: changing it needs this.
OTHERS = {"voucher.others_edit_delete": "yes"}
EMR_EDIT_REFUSED = ("Талон сформирован в ЭМК: меняет его только пользователь с уровнем "
                    "«изменение» права «Редактирование талонов из ЭМК»")
EMR_DELETE_REFUSED = ("Талон сформирован в ЭМК: удаляет его только пользователь с уровнем "
                      "«удаление» права «Редактирование талонов из ЭМК»")


def referral(session, person, item, *, branch="MSK-TVR", booked=None, **values) -> Referral:
    row = Referral(issued_on=ago(3), appointment_date=booked, branch=unit(session, branch),
                   patient=person, service=item, quantity=values.pop("quantity", 1), **values)
    session.add(row)
    session.flush()
    return row


def form(client, *rows):
    """Tick the referrals in the list and press «Сформировать талоны»."""
    return client.post("/referralview/action_post",
                       data={"action": "form_vouchers", "rowid": [str(r.id) for r in rows]})


def formed_voucher(session, row: Referral) -> Voucher | None:
    session.expire_all()
    voucher_id = session.get(Referral, row.id).voucher_id
    return session.get(Voucher, voucher_id) if voucher_id else None


def vouchers_count(session) -> int:
    session.expire_all()
    return len(session.scalars(select(Voucher.id)).all())


def test_forming_needs_emr_create_prepaid(session, login):
    person, link = attached(session, covered=[item := service(session)])
    row = referral(session, person, item)
    session.commit()
    before = vouchers_count(session)
    plain, _ = voucher_user(session, login, {})
    refused = form(plain, row)
    assert CREATE_REFUSED in flashes(plain.get(refused.headers["Location"]), "danger")
    assert vouchers_count(session) == before and formed_voucher(session, row) is None

    client, user = voucher_user(session, login, FORM)
    done = form(client, row)
    assert done.status_code == 302
    made = formed_voucher(session, row)
    assert (made.kind, made.source, made.service_date, made.patient_id, made.created_by_id) \
        == ("prepaid", "emr", ago(0), person.id, user.id)
    [only] = made.lines
    # Priced and paid for as a registrar's line: the patient's programme pays at its price.
    assert (only.service_id, only.payer_kind, only.attachment_id, only.price, made.total) \
        == (item.id, "attachment", link.id, DMS_PRICE, DMS_PRICE)


def test_a_referral_is_formed_once(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    client, _ = voucher_user(session, login, FORM)
    form(client, row)
    made = formed_voucher(session, row)
    count = vouchers_count(session)
    again = form(client, row)
    page = client.get(again.headers["Location"])
    assert f"Направление № {row.id} от {ago(3):%d.%m.%Y} уже оформлено талоном " \
           f"№ {made.id} от {made.service_date:%d.%m.%Y}" in flashes(page, "danger")
    assert vouchers_count(session) == count


def test_referrals_of_one_patient_and_date_make_one_voucher(session, login):
    first, second = service(session), service(session)
    person, other = patient(session), patient(session)
    rows = [referral(session, person, first), referral(session, person, second),
            referral(session, other, first)]
    session.commit()
    client, _ = voucher_user(session, login, FORM)
    form(client, *rows)
    made = [formed_voucher(session, r) for r in rows]
    assert made[0].id == made[1].id != made[2].id
    assert sorted(line.service_id for line in made[0].lines) == sorted([first.id, second.id])
    assert made[0].total == 2 * PAID_PRICE and made[0].line_count == 2


def test_the_right_can_date_the_voucher_by_the_appointment(session, login):
    item = service(session)
    booked = referral(session, patient(session), item, booked=ago(2))
    unbooked = referral(session, patient(session), item)
    session.commit()
    client, _ = voucher_user(session, login, {**FORM, "voucher.prepaid_date": "record_date"})
    form(client, booked)
    assert formed_voucher(session, booked).service_date == ago(2)
    refused = client.get(form(client, unbooked).headers["Location"])
    assert f"У направления № {unbooked.id} от {ago(3):%d.%m.%Y} нет даты записи: талон " \
           "создаётся на дату записи" in flashes(refused, "danger")
    assert formed_voucher(session, unbooked) is None
    today, _ = voucher_user(session, login, {**FORM, "voucher.prepaid_date": "current_date"})
    form(today, unbooked)
    assert formed_voucher(session, unbooked).service_date == ago(0)


def test_module_params_defer_to_the_networks_parameter(session, login):
    item = service(session)
    rows = [referral(session, patient(session), item, booked=ago(4)) for _ in range(2)]
    session.commit()
    client, _ = voucher_user(session, login, {**FORM, "voucher.prepaid_date": "module_params"})
    form(client, rows[0])  # no parameters stored: today
    assert formed_voucher(session, rows[0]).service_date == ago(0)
    session.add(ModuleParameters(unit_id=unit(session, "NET").id, prepaid_date="record_date"))
    session.commit()
    form(client, rows[1])
    assert formed_voucher(session, rows[1]).service_date == ago(4)


def test_a_future_appointment_still_needs_future_date(session, login):
    row = referral(session, patient(session), service(session), booked=ago(-3))
    session.commit()
    rights = {**FORM, "voucher.prepaid_date": "record_date"}
    plain, _ = voucher_user(session, login, rights)
    page = plain.get(form(plain, row).headers["Location"])
    assert ("Дата талона в будущем: нужно право «Разрешить ставить дату талона будущим "
            "числом»") in flashes(page, "danger")
    assert formed_voucher(session, row) is None
    allowed, _ = voucher_user(session, login, {**rights, "voucher.future_date": "yes"})
    form(allowed, row)
    assert formed_voucher(session, row).service_date == ago(-3)


def test_warnings_wait_for_confirmation_and_save_nothing_before(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    count = vouchers_count(session)
    client, _ = voucher_user(session, login, {**FORM, "voucher.without_diagnosis": "warn"})
    asked = form(client, row)
    assert asked.status_code == 200
    assert "Не указан диагноз МКБ-10" in text(asked)
    assert vouchers_count(session) == count and formed_voucher(session, row) is None
    done = client.post("/referralview/form-vouchers", data={"rowid": [row.id], "confirm": "1"})
    assert done.status_code == 302
    assert formed_voucher(session, row).kind == "prepaid"


def test_forming_needs_the_emr_create_level_and_the_referrals_scope(session, login):
    mine = referral(session, patient(session), service(session))
    theirs = referral(session, patient(session, "SPB-NEV"), service(session), branch="SPB-NEV")
    session.commit()
    editor, _ = voucher_user(session, login, {**FORM, "voucher.emr_vouchers": "edit"})
    page = editor.get(form(editor, mine).headers["Location"])
    assert ("Талоны из направлений становятся талонами ЭМК: нужен уровень «создание» права "
            "«Редактирование талонов из ЭМК»") in flashes(page, "danger")
    assert formed_voucher(session, mine) is None
    reader, _ = voucher_user(session, login, {**FORM, "voucher.other_vouchers": "view",
                                              "voucher.without_staff": "warn"})
    asked = form(reader, mine)  # reading the referrals is enough: the EMR rights decide
    assert "Не указан медперсонал" in text(asked)
    done = reader.post("/referralview/form-vouchers", data={"rowid": [mine.id], "confirm": "1"})
    assert done.status_code == 302
    assert formed_voucher(session, mine) is not None
    client, _ = voucher_user(session, login, FORM)
    assert client.post("/referralview/form-vouchers",
                       data={"rowid": [theirs.id], "confirm": "1"}).status_code == 404
    assert formed_voucher(session, theirs) is None


def test_a_formed_referral_keeps_what_the_voucher_took(session, login):
    item, other = service(session), service(session)
    row = referral(session, patient(session), item)
    session.commit()
    client, _ = voucher_user(session, login, FORM)
    form(client, row)
    refused = client.put(f"/api/v1/referrals/{row.id}", json={"service": other.id})
    assert refused.status_code == 400
    assert message(refused).startswith("Направление уже оформлено талоном")
    assert stored(session, Referral, row.id).service_id == item.id
    assert client.put(f"/api/v1/referrals/{row.id}", json={"note": "перенос"}).status_code == 200
    deleted = client.delete(f"/api/v1/referrals/{row.id}")
    assert deleted.status_code == 400
    assert stored(session, Referral, row.id) is not None


def _emr_voucher(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    client, _ = voucher_user(session, login, FORM)
    form(client, row)
    return row, formed_voucher(session, row)


def test_emr_vouchers_are_hidden_without_the_view_level(session, login):
    _row, made = _emr_voucher(session, login)
    hidden, _ = voucher_user(session, login, {"voucher.emr_vouchers": "none"})
    assert hidden.get(f"{VOUCHERS}{made.id}").status_code == 404
    assert hidden.get(f"/voucherview/show/{made.id}").status_code == 404
    today = f"?q=(filters:!((col:service_date,opr:eq,value:'{ago(0).isoformat()}')),page_size:100)"
    screen = f"/voucherview/list/?_flt_0_service_date={ago(0).isoformat()}"
    assert made.id not in hidden.get(VOUCHERS + today).get_json()["ids"]
    assert made.lines[0].id not in hidden.get(LINES + today).get_json()["ids"]
    assert f"/voucherview/show/{made.id}" not in text(hidden.get(screen))
    seen, _ = voucher_user(session, login, {"voucher.emr_vouchers": "view"})
    assert made.id in seen.get(VOUCHERS + today).get_json()["ids"]
    assert made.lines[0].id in seen.get(LINES + today).get_json()["ids"]
    assert f"/voucherview/show/{made.id}" in text(seen.get(screen))
    assert seen.get(f"{VOUCHERS}{made.id}").status_code == 200
    assert "ЭМК" in text(seen.get(f"/voucherview/show/{made.id}"))


def test_changing_an_emr_voucher_needs_the_edit_level(session, login):
    _row, made = _emr_voucher(session, login)
    line = made.lines[0]
    viewer, _ = voucher_user(session, login, {**OTHERS, "voucher.emr_vouchers": "view"})
    refused = viewer.put(f"{VOUCHERS}{made.id}", json={"note": "правка", "version": 1})
    assert (refused.status_code, message(refused)) == (403, EMR_EDIT_REFUSED)
    added = viewer.post(LINES, json={"voucher": made.id, "service": line.service_id})
    assert (added.status_code, message(added)) == (403, EMR_EDIT_REFUSED)
    assert stored(session, Voucher, made.id).line_count == 1
    editor, _ = voucher_user(session, login, {**OTHERS, "voucher.emr_vouchers": "edit"})
    assert editor.put(f"{VOUCHERS}{made.id}",
                      json={"note": "правка", "version": 1}).status_code == 200
    assert editor.post(LINES, json={"voucher": made.id,
                                    "service": line.service_id}).status_code == 201
    assert stored(session, Voucher, made.id).line_count == 2


def test_deleting_an_emr_voucher_needs_the_delete_level_and_frees_its_referral(session,
                                                                              login):
    row, made = _emr_voucher(session, login)
    made_id = made.id
    rights = {**OTHERS, "voucher.delete_services": "yes"}
    editor, _ = voucher_user(session, login, {**rights, "voucher.emr_vouchers": "edit"})
    refused = editor.delete(f"{VOUCHERS}{made.id}")
    assert (refused.status_code, message(refused)) == (403, EMR_DELETE_REFUSED)
    assert stored(session, Voucher, made.id) is not None
    remover, _ = voucher_user(session, login, {**rights, "voucher.emr_vouchers": "delete"})
    assert remover.delete(f"{VOUCHERS}{made.id}").status_code == 200
    assert stored(session, Voucher, made.id) is None
    assert stored(session, Referral, row.id).voucher_id is None
    assert session.scalars(select(VoucherLine).where(
        VoucherLine.voucher_id == made_id)).first() is None


def test_vouchers_typed_by_hand_are_not_governed_by_the_emr_level(session, login):
    client, _ = voucher_user(session, login, {"voucher.emr_vouchers": "none"})
    person = patient(session)
    session.commit()
    made = client.post(VOUCHERS, json={"service_date": ago(1).isoformat(), "kind": "regular",
                                       "branch": unit(session, "MSK-TVR").id,
                                       "patient": person.id})
    assert made.status_code == 201
    assert stored(session, Voucher, made.get_json()["id"]).source == "manual"


def test_a_voucher_without_a_doctor_belongs_to_its_author(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    author, _ = voucher_user(session, login, {**FORM, "voucher.emr_vouchers": "delete"})
    form(author, row)
    made = formed_voucher(session, row)
    assert author.put(f"{VOUCHERS}{made.id}", json={"note": "моя правка",
                                                     "version": 1}).status_code == 200
    other, _ = voucher_user(session, login, {"voucher.emr_vouchers": "delete"})
    refused = other.put(f"{VOUCHERS}{made.id}", json={"note": "чужая правка", "version": 2})
    assert (refused.status_code, message(refused)) == (
        403, "Талон без врача создан другим пользователем: менять и удалять его можно только "
             "с правом «Редактирование и удаление талонов других врачей»")
    assert stored(session, Voucher, made.id).note == "моя правка"


def test_a_referral_ticked_twice_makes_one_line(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    client, _ = voucher_user(session, login, FORM)
    client.post("/referralview/form-vouchers", data={"rowid": [row.id, row.id], "confirm": "1"})
    assert formed_voucher(session, row).line_count == 1


def test_a_referral_formed_meanwhile_by_another_request_is_refused(session, app):
    """Two clicks on «Подтверждаю»: the second request read the referral before the
    first committed; its claim finds the referral taken and nothing of it is kept
    (the first request is played in the same transaction, then rolled back with it)."""
    import pytest

    from app.extensions import db
    from core.errors import ValidationError
    from security.effective import resolve
    from services.vouchers.prepaid import form_vouchers
    from tests.support import make_role, make_user

    row = referral(session, patient(session), service(session))
    role = make_role(session, "Формирует талоны", {"scope.data": "own_subtree",
                                                  "voucher.other_vouchers": "delete",
                                                  "voucher.without_staff": "allow",
                                                  "voucher.without_diagnosis": "allow",
                                                  "voucher.without_attachment": "allow",
                                                  **FORM})
    user = make_user(session, "prepaid_race", roles=[role], home_unit=unit(session, "MSK-TVR"))
    session.commit()
    count = vouchers_count(session)
    with app.test_request_context():
        stale = db.session.get(Referral, row.id)  # read while still free
        # The first request's voucher takes the referral behind the ORM's back: the
        # object in hand still says "free", as it did for the second request.
        first = db.session.execute(Voucher.__table__.insert().values(
            service_date=ago(0), kind="prepaid", branch_id=row.branch_id,
            patient_id=row.patient_id, total=0, line_count=0, version=1,
            source="emr")).inserted_primary_key[0]
        db.session.execute(Referral.__table__.update().where(Referral.id == row.id)
                           .values(voucher_id=first))
        assert stale.voucher_id is None
        rights = resolve(db.session, db.session.get(type(user), user.id))
        with pytest.raises(ValidationError, match="уже оформлено другим талоном"):
            form_vouchers(db.session, [stale], rights, user.id, confirmed=True)
        db.session.rollback()
    # The refused request keeps nothing: neither its voucher nor a claim on the referral.
    assert vouchers_count(session) == count
    assert formed_voucher(session, row) is None


def test_the_referral_list_does_not_name_the_voucher(session, login):
    row = referral(session, patient(session), service(session))
    session.commit()
    author, _ = voucher_user(session, login, FORM)
    form(author, row)
    made = formed_voucher(session, row)
    other, _ = voucher_user(session, login, {"voucher.others_access": "no"})
    page = text(other.get(f"/referralview/show/{row.id}"))
    assert "оформлено" in page
    assert f"№ {made.id} от" not in page
    assert other.get(f"/voucherview/show/{made.id}").status_code == 404
