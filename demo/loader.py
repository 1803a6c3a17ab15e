"""Demo data: a plausible Russian clinic network, three corporate clients and one
user per role, all with the password `demo`. One transaction; refuses to run on
a database that already holds units or users.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from demo.cabinet import load_cabinet
from demo.contracts import load_contracts
from demo.invoices import load_invoices
from demo.money import load_money
from demo.refbooks import load_refbooks
from demo.requests import load_requests
from demo.rights import load_rights
from demo.staff import load_staff
from demo.vouchers import load_referrals, load_vouchers
from models.org import Unit, UnitKind
from models.user import AppUser
from security.sync import ensure_preset_roles

DEMO_PASSWORD = "demo"

NETWORK = ("NET", "Сеть клиник «Здоровье»", "ул. Тверская, д. 1, Москва")
REGIONS = {
    "MSK": ("Московский регион", [
        ("MSK-TVR", "Филиал «Тверской»", "Москва, ул. Тверская, д. 12"),
        ("MSK-ARB", "Филиал «Арбат»", "Москва, ул. Арбат, д. 25"),
        ("MSK-MAR", "Филиал «Марьино»", "Москва, ул. Люблинская, д. 169"),
        ("MSK-KHM", "Филиал «Химки»", "Химки, Ленинградское ш., д. 1"),
    ]),
    "SPB": ("Северо-Западный регион", [
        ("SPB-NEV", "Филиал «Невский»", "Санкт-Петербург, Невский пр., д. 88"),
        ("SPB-VAS", "Филиал «Васильевский»", "Санкт-Петербург, 7-я линия В.О., д. 40"),
        ("SPB-PUL", "Филиал «Пулково»", "Санкт-Петербург, Пулковское ш., д. 14"),
    ]),
    "KZN": ("Приволжский регион", [
        ("KZN-CEN", "Филиал «Казань-Центр»", "Казань, ул. Баумана, д. 44"),
        ("KZN-SAV", "Филиал «Савиново»", "Казань, пр. Ямашева, д. 93"),
        ("NNV-NIZ", "Филиал «Нижний Новгород»",
         "Нижний Новгород, ул. Большая Покровская, д. 7"),
    ]),
}
DEPARTMENTS = [
    ("THR", "Терапевтическое отделение"),
    ("LAB", "Клинико-диагностическая лаборатория"),
    ("PRC", "Процедурный кабинет"),
    ("USD", "Отделение ультразвуковой диагностики"),
]
CLIENTS = [
    ("CL1", "ООО «Медицинский центр «Добромед»", "7701234560", [
        ("CL1-HQ", "Головной офис «Добромед»", [
            ("CL1-B1", "«Добромед» на Профсоюзной"),
            ("CL1-B2", "«Добромед» в Митино"),
            ("CL1-B3", "«Добромед» в Люберцах"),
        ]),
    ]),
    ("CL2", "ГБУЗ «Городская поликлиника № 12»", "7812345675", [
        ("CL2-HQ", "Администрация поликлиники № 12", [
            ("CL2-B1", "Филиал № 1 поликлиники № 12"),
            ("CL2-B2", "Филиал № 2 поликлиники № 12"),
        ]),
    ]),
    ("CL3", "АО «Семейный доктор»", "1655123453", [
        ("CL3-HQ", "Головной офис «Семейный доктор»", [
            ("CL3-B1", "«Семейный доктор» на Баумана"),
            ("CL3-B2", "«Семейный доктор» в Азино"),
        ]),
    ]),
]
# username, preset, first name, last name, position, home unit code
USERS = [
    ("admin", "admin", "Анна", "Соколова", "Администратор системы", "NET"),
    ("registrar", "registrar", "Ирина", "Петрова", "Медицинский регистратор", "MSK-TVR"),
    ("doctor", "doctor", "Сергей", "Иванов", "Врач-терапевт", "MSK-TVR-THR"),
    ("cashier", "cashier", "Ольга", "Смирнова", "Кассир", "MSK-TVR"),
    ("accountant", "accountant", "Татьяна", "Кузнецова", "Главный бухгалтер", "MSK"),
    ("branch_head", "branch_head", "Андрей", "Волков", "Заведующий филиалом", "MSK-TVR"),
    ("manager", "manager", "Мария", "Лебедева", "Персональный менеджер", "NET"),
    ("assistant", "assistant", "Дмитрий", "Новиков", "Ассистент менеджера", "NET"),
    ("client_head", "client_head", "Елена", "Морозова", "Директор головного офиса", "CL1-HQ"),
    ("client_branch", "client_branch", "Павел", "Фёдоров", "Директор филиала", "CL1-B1"),
    ("client_user", "client_user", "Наталья", "Егорова", "Врач-лаборант",
     "CL1-B2"),
]
MANAGER_CLIENTS = ["CL1", "CL2"]


class DemoRefused(Exception):
    """The database is not empty; demo data would duplicate or mix with real data."""


def _unit(session: Session, units: dict, code: str, name: str, kind: UnitKind,
          parent: Unit | None = None, **extra) -> Unit:
    unit = Unit(code=code, name=name, kind=kind.value, parent=parent, active=True, **extra)
    session.add(unit)
    units[code] = unit
    return unit


def _build_tree(session: Session) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    net = _unit(session, units, NETWORK[0], NETWORK[1], UnitKind.network, address=NETWORK[2],
                phone="+7 495 000-00-00")
    for region_code, (region_name, branches) in REGIONS.items():
        region = _unit(session, units, region_code, region_name, UnitKind.region, net)
        for code, name, address in branches:
            branch = _unit(session, units, code, name, UnitKind.branch, region, address=address)
            for dep_code, dep_name in DEPARTMENTS:
                _unit(session, units, f"{code}-{dep_code}", dep_name, UnitKind.department, branch)
    for code, name, inn, heads in CLIENTS:
        client = _unit(session, units, code, name, UnitKind.client, inn=inn)
        for head_code, head_name, branches in heads:
            head = _unit(session, units, head_code, head_name, UnitKind.head_unit, client)
            for b_code, b_name in branches:
                _unit(session, units, b_code, b_name, UnitKind.client_branch, head)
    return units


def load_demo(session: Session) -> dict[str, int]:
    """Load the demo data and commit; returns counts of what was created.

    Raises DemoRefused (nothing written) when units or users already exist.
    """
    if session.scalar(select(func.count()).select_from(Unit)) or session.scalar(
        select(func.count()).select_from(AppUser)
    ):
        raise DemoRefused(
            "в базе уже есть подразделения или пользователи: демо-данные не загружены"
        )
    roles = ensure_preset_roles(session, current_app.config["AUTH_ROLE_ADMIN"])
    units = _build_tree(session)
    session.flush()
    password = generate_password_hash(DEMO_PASSWORD)
    users: dict[str, AppUser] = {}
    for username, preset, first, last, position, unit_code in USERS:
        user = AppUser(
            username=username, first_name=first, last_name=last, position=position,
            email=f"{username}@demo.uchet.local", active=True, password=password,
            home_unit=units[unit_code], roles=[roles[preset]],
        )
        session.add(user)
        users[username] = user
    users["manager"].served_clients = [units[c] for c in MANAGER_CLIENTS]
    users["assistant"].manager = users["manager"]
    # The cabinet's «Профиль менеджера» shows how to reach them.
    users["manager"].phone, users["assistant"].phone = "+7 495 123-45-67", "+7 495 123-45-68"
    refbooks = load_refbooks(session, units)
    contracts = load_contracts(session, units)
    staff = load_staff(session, units)
    vouchers = load_vouchers(session, units)
    referrals = load_referrals(session, units)
    cabinet = load_cabinet(session, units)
    invoices = load_invoices(session, units)
    session.flush()
    money = load_money(session, units)
    rights = load_rights(session)
    requests = load_requests(session, units)
    session.commit()
    return {"units": len(units), "users": len(users), "roles": len(roles), **refbooks,
            **contracts, **staff, **vouchers, **referrals, **cabinet, **invoices, **money,
            **rights, **requests}
