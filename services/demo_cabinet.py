"""Demo catalogue of consumables and programme of seminars for the client cabinet."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.cabinet_orders import Consumable, Seminar

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


def load_cabinet(session: Session) -> dict[str, int]:
    """Add the consumables catalogue and seminars in the coming weeks (flushed)."""
    session.add_all(Consumable(code=code, name=name, measure=measure, max_quantity=limit)
                    for code, name, measure, limit in CONSUMABLES)
    today = dt.datetime.combine(dt.date.today(), dt.time())
    session.add_all(Seminar(title=title, starts_on=today + dt.timedelta(days=days, hours=hour),
                            place=place, seats=seats,
                            description="Лекция и ответы на вопросы. Сертификат участника.")
                    for title, days, hour, place, seats in SEMINARS)
    session.flush()
    return {"consumables": len(CONSUMABLES), "seminars": len(SEMINARS)}
