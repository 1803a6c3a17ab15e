"""Demo requests of the clients' offices still waiting for the lab (questions and
courier calls), so that a personal manager's home shows his queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.cabinet import CourierCall, Question
from models.org import Unit

#: (office code, days ago, subject, text) of questions nobody has answered yet
QUESTIONS = [
    ("CL1-B1", 3, "Сроки выполнения ПЦР", "Сколько дней выполняется ПЦР на COVID-19 в декабре?"),
    ("CL1-B2", 1, "Повторный забор крови",
     "Пациенту нужно пересдать ферритин: гемолиз. Кто оплачивает повторный забор?"),
    ("CL2-B1", 2, "Бланки направлений", "Пришлите, пожалуйста, новые бланки направлений."),
]
#: (office code, days ago, days ahead of the visit, address, samples)
CALLS = [
    ("CL1-B1", 0, 1, "Москва, Профсоюзная ул., 56", 12),
    ("CL2-B2", 1, 1, "Москва, ул. Гарибальди, 4", 7),
]


def load_requests(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add open questions and courier calls of the clients' offices (flushed)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    today = dt.date.today()
    session.add_all(Question(unit=units[code], addressee="manager", subject=subject, text=text,
                             created_on=now - dt.timedelta(days=ago, hours=2))
                    for code, ago, subject, text in QUESTIONS)
    session.add_all(CourierCall(unit=units[code], kind="courier",
                                visit_date=today + dt.timedelta(days=ahead),
                                time_from=dt.time(10), time_to=dt.time(14), address=address,
                                samples=samples, state="new",
                                created_on=now - dt.timedelta(days=ago, hours=1))
                    for code, ago, ahead, address, samples in CALLS)
    session.flush()
    return {"open_questions": len(QUESTIONS), "courier_calls": len(CALLS)}
