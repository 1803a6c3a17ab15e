"""Demo catalogue of consumables, programme of seminars, and the lab's contracts with
two of its corporate clients, for the client cabinet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cabinet_orders import Consumable, Seminar
from models.contracts import Contract
from models.org import Unit
from models.parties import Organisation
from models.refbooks import PriceCategory
from services.contracts.rules import check_contract

CONSUMABLES = [
    ("VAC-EDTA-4", "Вакуумная пробирка с ЭДТА К2, 4 мл", "шт.", 2000),
    ("VAC-SST-5", "Вакуумная пробирка с активатором свёртывания и гелем, 5 мл", "шт.", 2000),
    ("VAC-CIT-27", "Вакуумная пробирка с цитратом натрия 3,2 %, 2,7 мл", "шт.", 1000),
    ("VAC-GLU-2", "Вакуумная пробирка с фторидом натрия, 2 мл", "шт.", 1000),
    ("NEEDLE-21G", "Игла для вакуумного забора крови 21G", "шт.", 5000),
    ("HOLDER", "Держатель иглы одноразовый", "шт.", 5000),
    ("URINE-CONT", "Контейнер для мочи стерильный, 120 мл", "шт.", 1000),
    ("SWAB-TUBE", "Зонд-тампон в пробирке с транспортной средой", "шт.", 500),
    ("BAG-BIO", "Пакет для транспортировки биоматериала", "уп.", 100),
    ("FORM-REF", "Бланки направлений (пачка 100 листов)", "пачка", 50),
]
HALL = "Москва, ул. Тверская, 15, конференц-зал"
#: (title, days from today, hour, place, seats or None for an online one)
SEMINARS = [
    ("Преаналитический этап: как не испортить пробу", 9, 10, HALL, 40),
    ("Новые панели аллергодиагностики", 16, 15, "Онлайн, ссылка придёт на почту", None),
    ("Интерпретация общего анализа крови для терапевтов", 23, 11, HALL, 30),
    ("Лабораторная диагностика в гинекологии", 37, 14, "Санкт-Петербург, Невский пр., 100", 25),
]


#: client unit code -> the number of the lab's contract with it (the client is the payer)
CLIENT_CONTRACTS = {"CL1": "ЛАБ-2026/011", "CL2": "ЛАБ-2026/012"}


class _Loader:
    """The rights of the demo loader: it may do whatever a user may."""

    @staticmethod
    def flag(_code: str) -> bool:
        return True

    @staticmethod
    def allows(_code: str, _minimum: str | None = None) -> bool:
        return True


def _client_contracts(session: Session, units: dict[str, Unit]) -> int:
    """The clients as payers: an organisation with the client's INN and a contract
    for laboratory tests at the Moscow paid prices (the cabinet's «Документы»)."""
    category = session.scalar(select(PriceCategory).where(PriceCategory.code == "MSK-BASE"))
    for code, number in CLIENT_CONTRACTS.items():
        client = units[code]
        payer = Organisation(code=f"{code}-ORG", name=client.name, unit=units["NET"],
                             inn=client.inn)
        session.add(payer)
        session.flush()  # the contract rule reads the payer's key
        contract = Contract(number=number, signed_on=dt.date(2025, 12, 1),
                            kind="organisation", payment_scheme="postpaid",
                            branch=units["MSK-TVR"], organisation=payer,
                            price_category=category, valid_from=dt.date(2026, 1, 1),
                            valid_to=dt.date(2026, 12, 31),
                            note="Лабораторные исследования пациентов клиента")
        check_contract(session, contract, _Loader())
        session.add(contract)
    return len(CLIENT_CONTRACTS)


def load_cabinet(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add the consumables catalogue, seminars in the coming weeks and the clients'
    contracts (flushed)."""
    session.add_all(Consumable(code=code, name=name, measure=measure, max_quantity=limit)
                    for code, name, measure, limit in CONSUMABLES)
    today = dt.datetime.combine(dt.date.today(), dt.time())
    session.add_all(Seminar(title=title, starts_on=today + dt.timedelta(days=days, hours=hour),
                            place=place, seats=seats,
                            description="Лекция и ответы на вопросы. Сертификат участника.")
                    for title, days, hour, place, seats in SEMINARS)
    contracts = _client_contracts(session, units)
    session.flush()
    return {"consumables": len(CONSUMABLES), "seminars": len(SEMINARS),
            "client_contracts": contracts}
