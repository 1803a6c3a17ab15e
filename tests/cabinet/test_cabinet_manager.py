"""Профиль менеджера and Кабинет менеджера over HTTP as the demo users: a client's user
finds his personal manager; the manager finds his clients and no others, and may
correct his clients' users' contacts (the assistant may look, not change)."""

from __future__ import annotations

import html

from sqlalchemy import select

from models.user import AppUser
from tests.contract_rows import flashes


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def user(session, username) -> AppUser:
    session.expire_all()
    return session.scalar(select(AppUser).where(AppUser.username == username))


def test_a_client_finds_his_personal_manager(login):
    profile = page(login("client_user").get("/cabinet/manager/"))
    assert "Мария Лебедева" in profile and "+7 495 123-45-67" in profile
    assert "manager@demo.uchet.local" in profile and "Дмитрий Новиков" in profile
    assert "Медицинский центр" in profile  # the client organisation


def test_a_client_without_a_manager_is_told(session, login):
    from tests.support import make_role, make_user, unit

    role = make_role(session, "Клиент без менеджера", {"scope.data": "own_unit",
                                                       "cabinet.manager_profile": "yes"})
    lonely = make_user(session, "cl3_user", roles=[role], home_unit=unit(session, "CL3-B1"))
    session.commit()
    assert "Персональный менеджер пока не назначен" in page(
        login(lonely.username).get("/cabinet/manager/"))


def test_the_manager_sees_his_clients_only(login):
    cabinet = page(login("manager").get("/cabinet/clients/"))
    assert "Медицинский центр «Добромед»" in cabinet
    assert "Городская поликлиника № 12" in cabinet
    assert "Семейный доктор" not in cabinet  # CL3 is not his
    assert "Елена Морозова" in cabinet and "Дмитрий Новиков" in cabinet
    assert "за этот месяц: визитов" in cabinet
    assistant = page(login("assistant").get("/cabinet/clients/"))
    assert "Медицинский центр «Добромед»" in assistant and "Семейный доктор" not in assistant


def test_the_manager_corrects_a_client_users_contacts(session, login):
    target = user(session, "client_branch")
    manager = login("manager")
    bad = manager.post(f"/cabinet/clients/user/{target.id}", data={
        "position": "Директор", "phone": "звоните мне", "email": "p@example.ru", "active": "on"})
    assert bad.status_code == 400
    assert "Телефон — цифры, пробелы, скобки, «+» и «-»" in flashes(bad, "danger")
    assert "звоните мне" in page(bad)  # the typing stays
    assert user(session, "client_branch").phone is None
    taken = manager.post(f"/cabinet/clients/user/{target.id}", data={
        "phone": "", "email": "client_head@demo.uchet.local", "active": "on"})
    assert "Этот адрес почты уже занят другим пользователем" in flashes(taken, "danger")
    saved = manager.post(f"/cabinet/clients/user/{target.id}", data={
        "position": "Директор филиала", "phone": "+7 (495) 765-43-21",
        "email": "fedorov@dobromed.ru", "active_shown": "1"})  # the box left unticked
    assert saved.status_code == 302
    changed = user(session, "client_branch")
    assert (changed.phone, changed.email, changed.active) == (
        "+7 (495) 765-43-21", "fedorov@dobromed.ru", False)


def test_only_the_managers_clients_users_and_only_with_the_right(session, login):
    registrar = user(session, "registrar")
    target = user(session, "client_user")
    manager = login("manager")
    assert manager.get(f"/cabinet/clients/user/{registrar.id}").status_code == 404
    assistant = login("assistant")  # may look, may not change
    refused = assistant.post(f"/cabinet/clients/user/{target.id}", data={
        "phone": "", "email": "x@example.ru", "active": "on"})
    assert refused.status_code == 400
    assert ("Данные пользователей клиентов меняет персональный менеджер с правом "
            "«Редактирование данных закреплённых пользователей»") in flashes(refused, "danger")
    assert user(session, "client_user").email == "client_user@demo.uchet.local"
    assert login("client_head").get("/cabinet/clients/").status_code in (302, 403)


def test_a_post_without_the_box_leaves_the_sign_in_alone(session, login):
    target = user(session, "client_user")
    assert login("manager").post(f"/cabinet/clients/user/{target.id}", data={
        "email": "egorova@dobromed.ru"}).status_code == 302
    assert user(session, "client_user").active is True


def test_an_account_with_more_rights_than_the_manager_is_not_his(session, login):
    from tests.support import unit

    admin_role = session.scalar(select(AppUser).where(AppUser.username == "admin")).roles
    from tests.support import make_user

    placed = make_user(session, "admin_at_client", roles=list(admin_role),
                       home_unit=unit(session, "CL1-B1"))
    session.commit()
    refused = login("manager").post(f"/cabinet/clients/user/{placed.id}", data={
        "email": "attacker@evil.example", "active_shown": "1"})
    assert refused.status_code == 400
    assert any("изменить его может только администратор прав" in text
               for text in flashes(refused, "danger"))
    changed = user(session, "admin_at_client")
    assert changed.active and changed.email != "attacker@evil.example"


def test_the_managers_cabinet_shows_no_cost_without_the_right(session, login):
    from tests.support import make_role, make_user, unit

    role = make_role(session, "Менеджер без стоимости", {
        "scope.data": "manager_clients", "cabinet.manager_cabinet": "yes",
        "cabinet.see_cost": "no"})
    blind = make_user(session, "manager_no_cost", roles=[role], home_unit=unit(session, "NET"))
    blind.served_clients = [unit(session, "CL1")]
    session.commit()
    cabinet = page(login(blind.username).get("/cabinet/clients/"))
    assert "Медицинский центр «Добромед»" in cabinet and "за этот месяц: визитов" in cabinet
    assert "на сумму" not in cabinet
    assert "Городская поликлиника № 12" not in cabinet  # not among his served clients
    full = page(login("manager").get("/cabinet/clients/"))
    assert "на сумму" in full


def test_the_manager_opening_the_profile_is_sent_to_his_cabinet(login):
    profile = page(login("manager").get("/cabinet/manager/"))
    assert "Вы работаете на стороне лаборатории" in profile
    assert "Персональный менеджер пока не назначен" not in profile
