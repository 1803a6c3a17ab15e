"""Demo staff and a slice of the ICD-10 classifier: who renders services in each
branch and the diagnoses vouchers name."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import Unit, UnitKind
from models.refbooks import Department
from models.staff import Diagnosis, Employee
from models.user import AppUser

SEED = 20261122
ICD10 = [
    ("I10", "Эссенциальная (первичная) гипертензия"),
    ("I11.9", "Гипертензивная болезнь сердца без сердечной недостаточности"),
    ("I20.8", "Другие формы стенокардии"),
    ("I25.1", "Атеросклеротическая болезнь сердца"),
    ("E11.9", "Сахарный диабет 2 типа без осложнений"),
    ("E03.9", "Гипотиреоз неуточнённый"),
    ("E78.0", "Чистая гиперхолестеринемия"),
    ("J06.9", "Острая инфекция верхних дыхательных путей неуточнённая"),
    ("J20.9", "Острый бронхит неуточнённый"),
    ("J45.9", "Астма неуточнённая"),
    ("K21.9", "Гастроэзофагеальный рефлюкс без эзофагита"),
    ("K29.5", "Хронический гастрит неуточнённый"),
    ("K80.2", "Камни желчного пузыря без холецистита"),
    ("M42.1", "Остеохондроз позвоночника у взрослых"),
    ("M54.5", "Боль внизу спины"),
    ("M17.9", "Гонартроз неуточнённый"),
    ("N39.0", "Инфекция мочевыводящих путей без установленной локализации"),
    ("N40", "Гиперплазия предстательной железы"),
    ("D50.9", "Железодефицитная анемия неуточнённая"),
    ("G43.9", "Мигрень неуточнённая"),
    ("H52.1", "Миопия"),
    ("L20.9", "Атопический дерматит неуточнённый"),
    ("Z00.0", "Общий медицинский осмотр"),
    ("Z01.7", "Лабораторное обследование"),
    ("Z13.6", "Специальное скрининговое обследование для выявления сердечно-сосудистых "
              "болезней"),
]
LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
        "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов"]
FIRST = ["Сергей", "Алексей", "Андрей", "Дмитрий", "Игорь", "Олег", "Павел", "Михаил"]
MIDDLE = ["Сергеевич", "Петрович", "Иванович", "Андреевич", "Николаевич", "Викторович"]
NURSES = [("Ольга", "Сергеевна"), ("Елена", "Викторовна"), ("Татьяна", "Ивановна"),
          ("Наталья", "Петровна")]
POSITIONS = {"THR": "Врач-терапевт", "LAB": "Врач клинической лабораторной диагностики",
             "PRC": "Врач-терапевт", "USD": "Врач ультразвуковой диагностики"}


def load_staff(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Create the ICD-10 slice and, in every branch, a doctor for each department and a
    nurse; the demo user «doctor» is the Tverskoy therapist. Returns counts."""
    rng = random.Random(SEED)
    session.add_all(Diagnosis(code=code, name=name) for code, name in ICD10)
    employees = 0
    for branch in (u for u in units.values() if u.kind == UnitKind.branch.value):
        departments = session.scalars(select(Department).where(
            Department.branch_id == branch.id).order_by(Department.code)).all()
        for department in departments:
            suffix = department.code.rsplit("-", 1)[-1]
            session.add(Employee(last_name=rng.choice(LAST), first_name=rng.choice(FIRST),
                                 middle_name=rng.choice(MIDDLE),
                                 position=POSITIONS.get(suffix, "Врач"), is_doctor=True,
                                 branch=branch, department=department))
            employees += 1
        first, middle = rng.choice(NURSES)
        session.add(Employee(last_name=rng.choice(LAST) + "а", first_name=first,
                             middle_name=middle, position="Медицинская сестра",
                             is_doctor=False, branch=branch))
        employees += 1
    session.flush()
    doctor = session.scalar(select(AppUser).where(AppUser.username == "doctor"))
    if doctor is not None:
        session.add(Employee(last_name=doctor.last_name, first_name=doctor.first_name,
                             middle_name="Петрович", position=doctor.position, is_doctor=True,
                             branch=units["MSK-TVR"], user=doctor,
                             department=session.scalars(select(Department).where(
                                 Department.branch_id == units["MSK-TVR"].id)
                                 .order_by(Department.code)).first()))
        employees += 1
    session.flush()
    return {"diagnoses": len(ICD10), "employees": employees}
