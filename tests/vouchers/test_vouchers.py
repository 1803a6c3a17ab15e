"""The rules of a voucher's header, over HTTP as users holding exactly the voucher
rights each test needs: an empty nurse or diagnosis under forbid / warn / allow;
the closed reporting period; future dates; the days allowed after the service
date; a second editor working from an older copy (API and screen); another
doctor's voucher; the vouchers a user may see (his own ones, other users', other
branches'); the doctor of a voucher that has services; the access levels of
«Редактирование остальных талонов» on the screens and the API. Refusals name
the rule in Russian and change nothing."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest

from models.vouchers import Voucher
from tests.contract_rows import count, flashes, message, patient
from tests.support import unit
from tests.voucher_rows import (
    LINES,
    VOUCHERS,
    ago,
    close_period,
    confirmation,
    diagnosis,
    employee,
    iso,
    line,
    screen_confirmation,
    service,
    snapshot,
    stored,
    text,
    voucher,
    voucher_user,
)

OTHERS = {"voucher.others_edit_delete": "yes"}
OTHER_DOCTOR = ("Это талон другого врача: менять и удалять его можно только с правом "
                "«Редактирование и удаление талонов других врачей»")
FUTURE = ("Дата талона в будущем: нужно право «Разрешить ставить дату талона будущим "
          "числом»")
STALE = "Талон уже изменил другой пользователь: откройте его заново, ваши изменения не сохранены"
DOCTOR_WITH_SERVICES = ("В талоне уже есть услуги: врача меняет только пользователь с правом "
                        "«Разрешить изменение врача при наличии услуг»")
LEVELS = ["none", "view", "edit", "create", "delete"]


def closed_text(day: dt.date) -> str:
    return (f"Отчётный период закрыт по {day:%d.%m.%Y}: документы этого периода не "
            "создаются, не меняются и не удаляются")


@pytest.fixture
def rows(session):
    """A MSK-TVR patient, doctor, nurse and diagnosis (committed)."""
    made = SimpleNamespace(person=patient(session), doctor=employee(session),
                           nurse=employee(session, doctor=False), diagnosis=diagnosis(session),
                           branch=unit(session, "MSK-TVR"))
    session.commit()
    return made


def body(rows, day: dt.date | None = None, **values) -> dict:
    """A new voucher's JSON; a value given as None leaves that field out."""
    data = {"service_date": iso(day or ago(1)), "kind": "regular", "branch": rows.branch.id,
            "patient": rows.person.id, "doctor": rows.doctor.id, "nurse": rows.nurse.id,
            "diagnosis": rows.diagnosis.id, **values}
    return {key: value for key, value in data.items() if value is not None}


def made(session, rows) -> int:
    """Return how many vouchers the test's patient has."""
    return count(session, Voucher, Voucher.patient_id == rows.person.id)


# --------------------------------------------------------------------------- 2. empty fields

POLICIES = [("voucher.without_staff", "nurse", "Не указан медперсонал"),
            ("voucher.without_diagnosis", "diagnosis", "Не указан диагноз МКБ-10")]


@pytest.mark.parametrize(("right", "field", "warning"), POLICIES)
def test_an_empty_field_under_forbid_is_refused(session, login, rows, right, field, warning):
    client, _ = voucher_user(session, login, {right: "forbid"})
    for url in (VOUCHERS, f"{VOUCHERS}?confirm=1"):
        refused = client.post(url, json=body(rows, **{field: None}))
        assert refused.status_code == 400 and message(refused) == warning
    assert made(session, rows) == 0
    filled = client.post(VOUCHERS, json=body(rows))
    assert filled.status_code == 201, filled.get_json()
    assert made(session, rows) == 1


@pytest.mark.parametrize(("right", "field", "warning"), POLICIES)
def test_an_empty_field_under_warn_saves_once_confirmed(session, login, rows, right, field,
                                                        warning):
    client, _ = voucher_user(session, login, {right: "warn"})
    asked = client.post(VOUCHERS, json=body(rows, **{field: None}))
    assert asked.status_code == 400 and message(asked) == confirmation(warning)
    assert made(session, rows) == 0
    confirmed = client.post(f"{VOUCHERS}?confirm=1", json=body(rows, **{field: None}))
    assert confirmed.status_code == 201, confirmed.get_json()
    assert getattr(stored(session, Voucher, confirmed.get_json()["id"]), field) is None


@pytest.mark.parametrize(("right", "field", "warning"), POLICIES)
def test_an_empty_field_under_allow_saves(session, login, rows, right, field, warning):
    client, _ = voucher_user(session, login, {right: "allow"})
    saved = client.post(VOUCHERS, json=body(rows, **{field: None}))
    assert saved.status_code == 201, saved.get_json()
    assert made(session, rows) == 1


def test_the_screen_saves_a_warned_voucher_once_confirm_is_ticked(session, login, rows):
    client, _ = voucher_user(session, login, {"voucher.without_staff": "warn"})
    form = {"service_date": iso(ago(1)), "kind": "regular", "branch": str(rows.branch.id),
            "doctor": str(rows.doctor.id), "patient": str(rows.person.id),
            "diagnosis": str(rows.diagnosis.id)}
    asked = client.post("/voucherview/add", data=form, follow_redirects=True)
    assert flashes(asked, "danger") == [screen_confirmation("Не указан медперсонал")]
    assert made(session, rows) == 0
    saved = client.post("/voucherview/add", data={**form, "confirm": "y"},
                        follow_redirects=True)
    assert flashes(saved, "danger") == [] and made(session, rows) == 1


def test_the_voucher_forms_offer_the_confirm_box(session, login, rows):
    own = voucher(session, rows.person)
    session.commit()
    client, _ = voucher_user(session, login, {})
    for url in ("/voucherview/add", f"/voucherview/edit/{own.id}", "/voucherlineview/add"):
        assert 'name="confirm"' in text(client.get(url)), url


# --------------------------------------------------------------------------- 3. closed period


def test_the_closed_period_refuses_vouchers_dated_in_it(session, login, rows):
    closed = ago(10)
    close_period(session, closed)
    inside = voucher(session, rows.person, day=closed)
    outside = voucher(session, rows.person, day=closed + dt.timedelta(days=1))
    item = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.delete_services": "yes",
                                              "params.closed_period_edit": "no"})
    before = {v.id: snapshot(session, v.id) for v in (inside, outside)}
    attempts = [client.post(VOUCHERS, json=body(rows, day=closed)),
                client.put(f"{VOUCHERS}{outside.id}", json={"service_date": iso(closed)}),
                client.put(f"{VOUCHERS}{inside.id}", json={"note": "Исправлено"}),
                client.put(f"{VOUCHERS}{inside.id}", json={"service_date": iso(ago(1))}),
                client.delete(f"{VOUCHERS}{inside.id}"),
                client.post(LINES, json={"voucher": inside.id, "service": item.id, "quantity": 1})]
    for response in attempts:
        assert response.status_code == 400 and message(response) == closed_text(closed)
    assert {v.id: snapshot(session, v.id) for v in (inside, outside)} == before
    assert made(session, rows) == 2
    # The day after the closed period is open.
    opened = client.post(VOUCHERS, json=body(rows, day=closed + dt.timedelta(days=1)))
    assert opened.status_code == 201, opened.get_json()
    assert client.put(f"{VOUCHERS}{outside.id}", json={"note": "Открыт"}).status_code == 200


def test_closed_period_edit_opens_the_closed_period(session, login, rows):
    closed = ago(10)
    close_period(session, closed)
    inside = voucher(session, rows.person, day=closed)
    outside = voucher(session, rows.person, day=ago(5))
    gone = voucher(session, rows.person, day=closed)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "params.closed_period_edit": "yes"})
    created = client.post(VOUCHERS, json=body(rows, day=closed))
    assert created.status_code == 201, created.get_json()
    for pk, change in ((outside.id, {"service_date": iso(closed)}),
                       (inside.id, {"note": "Исправлено"})):
        response = client.put(f"{VOUCHERS}{pk}", json=change)
        assert response.status_code == 200, response.get_json()
    assert stored(session, Voucher, outside.id).service_date == closed
    assert stored(session, Voucher, inside.id).note == "Исправлено"
    assert client.delete(f"{VOUCHERS}{gone.id}").status_code == 200
    assert stored(session, Voucher, gone.id) is None


# --------------------------------------------------------------------------- 4. future date


def test_a_future_date_needs_the_right(session, login, rows):
    tomorrow = ago(-1)
    existing = voucher(session, rows.person)
    session.commit()
    before = snapshot(session, existing.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.future_date": "no"})
    for response in (client.post(VOUCHERS, json=body(rows, day=tomorrow)),
                     client.put(f"{VOUCHERS}{existing.id}", json={"service_date": iso(tomorrow)})):
        assert response.status_code == 403 and message(response) == FUTURE
    assert snapshot(session, existing.id) == before and made(session, rows) == 1
    assert client.post(VOUCHERS, json=body(rows, day=ago(0))).status_code == 201

    allowed, _ = voucher_user(session, login, {**OTHERS, "voucher.future_date": "yes"})
    assert allowed.post(VOUCHERS, json=body(rows, day=tomorrow)).status_code == 201
    moved = allowed.put(f"{VOUCHERS}{existing.id}", json={"service_date": iso(tomorrow)})
    assert moved.status_code == 200, moved.get_json()
    assert stored(session, Voucher, existing.id).service_date == tomorrow


# --------------------------------------------------------------------------- 5. days allowed


def test_edit_days_limits_how_old_a_voucher_may_be(session, login, rows):
    old = voucher(session, rows.person, day=ago(4))
    recent = voucher(session, rows.person, day=ago(3))
    session.commit()
    before = snapshot(session, old.id)
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_days": "3"})
    too_old = "Талоны создаются и меняются не позже 3 дн. после даты оказания услуги"
    for response in (client.post(VOUCHERS, json=body(rows, day=ago(4))),
                     client.put(f"{VOUCHERS}{old.id}", json={"note": "Поздно"}),
                     client.put(f"{VOUCHERS}{old.id}", json={"service_date": iso(ago(1))}),
                     client.put(f"{VOUCHERS}{recent.id}", json={"service_date": iso(ago(4))}),
                     client.delete(f"{VOUCHERS}{old.id}")):
        assert response.status_code == 400 and message(response) == too_old
    assert snapshot(session, old.id) == before and made(session, rows) == 2
    assert client.post(VOUCHERS, json=body(rows, day=ago(3))).status_code == 201
    assert client.put(f"{VOUCHERS}{recent.id}", json={"note": "Вовремя"}).status_code == 200

    unlimited, _ = voucher_user(session, login, {**OTHERS, "voucher.edit_days": "0"})
    assert unlimited.post(VOUCHERS, json=body(rows, day=ago(400))).status_code == 201
    assert unlimited.put(f"{VOUCHERS}{old.id}", json={"note": "Без срока"}).status_code == 200


# --------------------------------------------------------------------------- 6. concurrency


def test_a_second_put_from_the_same_version_is_refused(session, login, rows):
    item = voucher(session, rows.person)
    session.commit()
    first_user, _ = voucher_user(session, login, OTHERS)
    second_user, _ = voucher_user(session, login, OTHERS)
    first = first_user.put(f"{VOUCHERS}{item.id}", json={"version": 1, "note": "Первый"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["result"]["version"] == 2
    after_first = snapshot(session, item.id)
    second = second_user.put(f"{VOUCHERS}{item.id}", json={"version": 1, "note": "Второй"})
    assert second.status_code == 409 and message(second) == STALE
    assert snapshot(session, item.id) == after_first
    assert (stored(session, Voucher, item.id).note, stored(session, Voucher, item.id).version) \
        == ("Первый", 2)
    fresh = second_user.put(f"{VOUCHERS}{item.id}", json={"version": 2, "note": "Второй"})
    assert fresh.status_code == 200 and fresh.get_json()["result"]["version"] == 3


def test_a_second_screen_edit_from_the_same_form_is_refused(session, login, rows):
    item = voucher(session, rows.person)
    session.commit()
    client, _ = voucher_user(session, login, OTHERS)
    page = text(client.get(f"/voucherview/edit/{item.id}"))
    version = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page).group(1)
    form = {"service_date": iso(item.service_date), "kind": "regular",
            "branch": str(rows.branch.id), "doctor": str(item.doctor_id),
            "patient": str(rows.person.id), "version": version}
    first = client.post(f"/voucherview/edit/{item.id}", data={**form, "note": "Первый"},
                        follow_redirects=True)
    assert flashes(first, "danger") == []
    assert stored(session, Voucher, item.id).version == int(version) + 1
    after_first = snapshot(session, item.id)
    second = client.post(f"/voucherview/edit/{item.id}", data={**form, "note": "Второй"},
                         follow_redirects=True)
    assert flashes(second, "danger") == [STALE]
    assert snapshot(session, item.id) == after_first


# --------------------------------------------------------------------------- 7. other doctors


def test_another_doctors_voucher_is_changed_only_with_the_right(session, login, rows):
    client, user = voucher_user(session, login, {"voucher.others_edit_delete": "no"})
    me = employee(session, user=user)
    own, theirs = voucher(session, rows.person, doctor=me), voucher(session, rows.person)
    session.commit()
    before = snapshot(session, theirs.id)
    for response in (client.put(f"{VOUCHERS}{theirs.id}", json={"note": "Чужой"}),
                     client.put(f"{VOUCHERS}{theirs.id}", json={"doctor": me.id}),
                     client.delete(f"{VOUCHERS}{theirs.id}")):
        assert response.status_code == 403 and message(response) == OTHER_DOCTOR
    assert snapshot(session, theirs.id) == before
    # His own voucher (he is its main doctor) he changes and deletes without the right.
    assert client.put(f"{VOUCHERS}{own.id}", json={"note": "Свой"}).status_code == 200
    assert stored(session, Voucher, own.id).note == "Свой"
    assert client.delete(f"{VOUCHERS}{own.id}").status_code == 200

    allowed, _ = voucher_user(session, login, OTHERS)
    assert allowed.put(f"{VOUCHERS}{theirs.id}", json={"note": "Чужой"}).status_code == 200
    assert stored(session, Voucher, theirs.id).note == "Чужой"
    assert allowed.delete(f"{VOUCHERS}{theirs.id}").status_code == 200
    assert stored(session, Voucher, theirs.id) is None


# --------------------------------------------------------------------------- 8. visibility


def listed(client, day: dt.date) -> tuple[set[int], set[int]]:
    """Return the ids of the vouchers of `day` on the list screen and in the API list."""
    screen = text(client.get(f"/voucherview/list/?_flt_0_service_date={iso(day)}"
                             "&psize_VoucherView=100"))
    api = client.get(VOUCHERS, query_string={
        "q": f"(filters:!((col:service_date,opr:eq,value:'{iso(day)}')),page_size:100)"})
    assert api.status_code == 200, api.get_json()
    return {int(pk) for pk in re.findall(r"/voucherview/show/(\d+)", screen)}, \
        set(api.get_json()["ids"])


@pytest.fixture
def three(session, login, rows):
    """Vouchers of a day long past: one the user made, one where he is the main doctor,
    one of somebody else; and a function logging him in with given rights."""
    day = ago(100)

    def as_user(rights):
        client, user = voucher_user(session, login, rights)
        me = employee(session, user=user)
        made_by = voucher(session, rows.person, day=day, created_by=user)
        doctored = voucher(session, rows.person, day=day, doctor=me)
        other = voucher(session, rows.person, day=day)
        session.commit()
        return client, SimpleNamespace(day=day, own={made_by.id, doctored.id}, other=other.id)

    return as_user


def test_without_others_access_only_own_vouchers_are_seen(session, three):
    client, seen = three({"voucher.others_access": "no"})
    assert listed(client, seen.day) == (seen.own, seen.own)
    for pk in seen.own:
        assert client.get(f"{VOUCHERS}{pk}").status_code == 200
    assert client.get(f"{VOUCHERS}{seen.other}").status_code == 404
    assert client.get(f"/voucherview/show/{seen.other}").status_code == 404
    before = snapshot(session, seen.other)
    assert client.put(f"{VOUCHERS}{seen.other}", json={"note": "Чужой"}).status_code == 404
    assert client.delete(f"{VOUCHERS}{seen.other}").status_code == 404
    assert snapshot(session, seen.other) == before


def test_with_others_access_other_users_vouchers_are_seen(three):
    client, seen = three({"voucher.others_access": "yes"})
    everyone = seen.own | {seen.other}
    assert listed(client, seen.day) == (everyone, everyone)
    assert client.get(f"{VOUCHERS}{seen.other}").status_code == 200
    assert client.get(f"/voucherview/show/{seen.other}").status_code == 200


def test_a_voucher_of_another_branch_is_out_of_scope(session, login):
    day = ago(100)
    spb = voucher(session, patient(session, "SPB-NEV"), branch="SPB-NEV", day=day)
    msk = voucher(session, patient(session), day=day)
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_access": "yes"})
    assert listed(client, day) == ({msk.id}, {msk.id})
    assert client.get(f"{VOUCHERS}{spb.id}").status_code == 404
    assert client.get(f"/voucherview/show/{spb.id}").status_code == 404
    assert client.get(f"{VOUCHERS}{msk.id}").status_code == 200
    spb_user, _ = voucher_user(session, login, {"voucher.others_access": "yes"}, home="SPB-NEV")
    assert spb_user.get(f"{VOUCHERS}{spb.id}").status_code == 200


def test_the_voucher_lookup_keeps_other_users_vouchers_hidden(three):
    client, seen = three({"voucher.others_access": "no"})
    found = client.get(f"/voucherlineview/lookup/voucher?q={seen.other}").get_json()
    assert found == {"results": []}


def test_a_line_is_not_added_to_a_voucher_the_user_may_not_see(session, three):
    client, seen = three({"voucher.others_access": "no", **OTHERS})
    item = service(session)
    session.commit()
    before = snapshot(session, seen.other)
    response = client.post(LINES, json={"voucher": seen.other, "service": item.id, "quantity": 1})
    assert response.status_code in (400, 404)
    assert snapshot(session, seen.other) == before


# --------------------------------------------------------------------------- 9. doctor change


def test_the_doctor_of_a_voucher_with_services_changes_only_with_the_right(session, login,
                                                                          rows):
    served = voucher(session, rows.person)
    line(session, served, service(session))
    empty = voucher(session, rows.person)
    session.commit()
    before = snapshot(session, served.id)
    client, _ = voucher_user(session, login, {**OTHERS,
                                              "voucher.change_doctor_with_services": "no"})
    refused = client.put(f"{VOUCHERS}{served.id}", json={"doctor": rows.doctor.id})
    assert refused.status_code == 403 and message(refused) == DOCTOR_WITH_SERVICES
    assert snapshot(session, served.id) == before
    # Without services the doctor changes freely; other fields of a served voucher too.
    assert client.put(f"{VOUCHERS}{empty.id}", json={"doctor": rows.doctor.id}).status_code \
        == 200
    assert client.put(f"{VOUCHERS}{served.id}", json={"note": "Врач тот же"}).status_code == 200

    allowed, _ = voucher_user(session, login, {**OTHERS,
                                               "voucher.change_doctor_with_services": "yes"})
    changed = allowed.put(f"{VOUCHERS}{served.id}", json={"doctor": rows.doctor.id})
    assert changed.status_code == 200, changed.get_json()
    assert stored(session, Voucher, served.id).doctor_id == rows.doctor.id


# --------------------------------------------------------------------------- 15. access levels


@pytest.mark.parametrize("level", LEVELS)
def test_the_access_level_gates_screens_and_api(session, login, rows, level):
    def may(minimum: str) -> bool:
        return LEVELS.index(level) >= LEVELS.index(minimum)

    item, by_screen, by_api = (voucher(session, rows.person) for _ in range(3))
    thing = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.other_vouchers": level})
    for url in ("/voucherview/list/", f"/voucherview/show/{item.id}", VOUCHERS,
                f"{VOUCHERS}{item.id}"):
        assert client.get(url).status_code == (200 if may("view") else 403), url
    assert client.get("/voucherview/add").status_code == (200 if may("create") else 403)
    assert client.get(f"/voucherview/edit/{item.id}").status_code == \
        (200 if may("edit") else 403)

    edited = client.put(f"{VOUCHERS}{item.id}", json={"note": "Правка"})
    assert edited.status_code == (200 if may("edit") else 403)
    assert stored(session, Voucher, item.id).note == ("Правка" if may("edit") else None)
    # A line is part of the voucher: «изменение» adds it (see the API's case below).
    added_line = client.post("/voucherlineview/add", data={
        "voucher": str(item.id), "service": str(thing.id), "quantity": "1", "price": "",
        "discount": "", "payer_kind": "", "state": "rendered"})
    assert added_line.status_code == (302 if may("edit") else 403)
    assert stored(session, Voucher, item.id).line_count == (1 if may("edit") else 0)
    added = client.post(VOUCHERS, json=body(rows))
    assert added.status_code == (201 if may("create") else 403)
    assert made(session, rows) == (4 if may("create") else 3)

    on_screen = client.post(f"/voucherview/delete/{by_screen.id}")
    assert on_screen.status_code == (302 if may("delete") else 403)
    on_api = client.delete(f"{VOUCHERS}{by_api.id}")
    assert on_api.status_code == (200 if may("delete") else 403)
    for pk in (by_screen.id, by_api.id):
        assert (stored(session, Voucher, pk) is None) == may("delete")


def test_at_edit_level_the_line_api_adds_and_deletes_lines(session, login, rows):
    item = voucher(session, rows.person)
    thing = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {**OTHERS, "voucher.other_vouchers": "edit",
                                              "voucher.delete_services": "yes"})
    added = client.post(LINES, json={"voucher": item.id, "service": thing.id, "quantity": 1})
    assert added.status_code == 201, added.get_json()
    assert client.put(f"{LINES}{added.get_json()['id']}", json={"quantity": 2}).status_code \
        == 200
    assert client.delete(f"{LINES}{added.get_json()['id']}").status_code == 200
    assert stored(session, Voucher, item.id).line_count == 0
