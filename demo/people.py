"""Demo people and organisations of the network «Здоровье»: the payers (addresses,
organisations, insurers, individuals) and the patients, with Russian (and, around
Kazan, Tatar) names of matching sex and patronymics, birth dates, phones, SNILS
with a valid check number, documents and addresses.

Used by `demo.contracts`; adds rows, never commits. Deterministic: every
choice comes from the generator passed in.
"""

from __future__ import annotations

import datetime as dt
import random

from models.org import Unit
from models.patients import Patient, name_key

AGE_ON = dt.date(2026, 1, 1)  # ages (and so categories) are counted on this day


def _words(text: str) -> list[str]:
    return text.split()


# key, owner unit, postcode, region, city, street, house, flat
ADDRESSES = [
    ("MSK1", "NET", "125009", None, "Москва", "ул. Тверская", "22", "офис 305"),
    ("MSK2", "NET", "115035", None, "Москва", "Садовническая наб.", "71", None),
    ("MSK3", "MSK-TVR", "125047", None, "Москва", "ул. 1-я Тверская-Ямская", "8", "кв. 41"),
    ("SPB1", "NET", "191025", None, "Санкт-Петербург", "Невский пр-т", "100", "пом. 12-Н"),
    ("SPB2", "SPB-NEV", "198095", None, "Санкт-Петербург", "ул. Маршала Говорова", "52",
     "лит. А"),
    ("SPB3", "SPB-NEV", "191119", None, "Санкт-Петербург", "ул. Марата", "47", "кв. 18"),
    ("KZN1", "NET", "420111", "Республика Татарстан", "Казань", "ул. Баумана", "9", "офис 4"),
]
GROUPS = [("MERIDIAN", "Группа компаний «Меридиан»"), ("BALTINVEST", "Холдинг «Балтинвест»")]
# code, name, owner, group, INN region, KPP, address, phone
ORGANISATIONS = [
    ("MERIDIAN-LOG", "ООО «Меридиан Логистик»", "NET", "MERIDIAN", "77", "770301001", "MSK2",
     "+7 495 741-20-15"),
    ("MERIDIAN-DEV", "АО «Меридиан Девелопмент»", "NET", "MERIDIAN", "77", "770501001", "MSK1",
     "+7 495 741-20-30"),
    ("LINGVA", "ООО «Бюро переводов «Лингва»", "MSK-TVR", None, "77", "771001001", "MSK3",
     "+7 495 650-18-44"),
    ("BALT-SERVICE", "ООО «Балтийский судоремонтный сервис»", "SPB-NEV", "BALTINVEST", "78",
     "780501001", "SPB2", "+7 812 335-60-70"),
    ("BALT-TERMINAL", "АО «Балтинвест Терминал»", "NET", "BALTINVEST", "78", "784101001", "SPB1",
     "+7 812 448-12-00"),
    ("KRISTALL", "АО «Казанский приборный завод «Кристалл»", "NET", None, "16", "165601001",
     "KZN1", "+7 843 272-09-50"),
]
# code, name, owner, INN region, KPP, address, licence, register code of the OMS insurers
INSURERS = [
    ("SOGAZ-MED", "АО «Страховая компания «СОГАЗ-Мед»", "NET", "77", "772501001", "MSK1",
     "ОС № 3230-01", "77013"),
    ("INGOS", "СПАО «Ингосстрах»", "NET", "77", "770501001", "MSK2", "СИ № 0928", None),
    ("RESO", "САО «РЕСО-Гарантия»", "NET", "77", "771001001", "MSK1", "СИ № 1209", None),
    ("ALFA-OMS", "ООО «АльфаСтрахование-ОМС»", "NET", "77", "772801001", "MSK2",
     "ОС № 3676-01", "77008"),
    ("NEVSKAYA", "АО «Страховая компания «Невская»", "SPB-NEV", "78", "784001001", "SPB1",
     "СЛ № 4412", None),
    ("MOSKOVIA", "ООО «Страховая компания «Московия»", "MSK-TVR", "77", "771001001", "MSK3",
     "СЛ № 3827", None),
]
# owner, last, first, middle, birth date, passport, address
INDIVIDUALS = [
    ("MSK-TVR", "Громова", "Виктория", "Андреевна", dt.date(1991, 5, 17), "45 11 318274", "MSK3"),
    ("MSK-TVR", "Белоусов", "Константин", "Игоревич", dt.date(1976, 11, 2), "45 03 552917",
     "MSK1"),
    ("MSK-ARB", "Ларионова", "Ирина", "Сергеевна", dt.date(1962, 2, 28), "45 07 140865", "MSK2"),
    ("SPB-NEV", "Кудрявцев", "Олег", "Николаевич", dt.date(1971, 8, 9), "40 11 603318", "SPB3"),
    ("SPB-NEV", "Соболева", "Наталья", "Викторовна", dt.date(1990, 3, 21), "40 15 771042",
     "SPB3"),
]

# male surnames; the female form is derived by `surname`
SURNAMES = _words("""Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров
Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев
Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин
Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев
Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов
Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов
Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов
Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов
Журавлёв Овчинников Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров
Грачёв Котов Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов
Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин
Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронцов Рыбаков
Островский Яблонский Вишневский Ковальчук Шевченко Бондаренко Лысенко Савицкий""")
TATAR_SURNAMES = _words("""Гарипов Хабибуллин Сафин Ахметов Галиев Валиев Закиров Мухаметшин Нуриев
Шарафутдинов Зарипов Хайруллин Гильмутдинов Сабиров Фазлыев Мингазов""")
# first names of people born before 1985, and of the younger ones
MALE = {"old": _words("""Александр Сергей Владимир Андрей Алексей Николай Михаил Юрий Виктор Игорь
Евгений Олег Анатолий Борис Валерий Геннадий Вячеслав Павел Дмитрий Константин Леонид Василий
Пётр Григорий Станислав"""),
        "new": _words("""Александр Максим Артём Дмитрий Михаил Иван Матвей Кирилл Даниил Никита Егор
Андрей Илья Тимофей Алексей Роман Владислав Денис Лев Марк Фёдор Арсений Сергей Павел""")}
FEMALE = {"old": _words("""Елена Ольга Наталья Татьяна Ирина Светлана Галина Людмила Марина Надежда
Валентина Нина Тамара Любовь Лариса Вера Анна Юлия Оксана Екатерина Жанна Зоя Раиса Алла
Маргарита"""),
          "new": _words("""Анастасия Мария Дарья Анна Екатерина Полина Софья Виктория Алиса
Елизавета Ксения Варвара Александра Валерия Вероника Алёна Кристина Юлия Арина Ева Ульяна
Милана""")}
TATAR_MALE = _words("Рустам Ильдар Айдар Ринат Марат Тимур Рамиль Ильнур Азат Булат Радик Динар")
TATAR_FEMALE = _words("Гульнара Айгуль Альфия Лейсан Диляра Резеда Алсу Гузель Эльмира Зульфия")
# father's name -> (son's, daughter's) patronymic
PATRONYMICS = [
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"),
    ("Владимирович", "Владимировна"), ("Андреевич", "Андреевна"), ("Алексеевич", "Алексеевна"),
    ("Николаевич", "Николаевна"), ("Михайлович", "Михайловна"), ("Юрьевич", "Юрьевна"),
    ("Викторович", "Викторовна"), ("Игоревич", "Игоревна"), ("Евгеньевич", "Евгеньевна"),
    ("Олегович", "Олеговна"), ("Анатольевич", "Анатольевна"), ("Борисович", "Борисовна"),
    ("Валерьевич", "Валерьевна"), ("Геннадьевич", "Геннадьевна"), ("Павлович", "Павловна"),
    ("Дмитриевич", "Дмитриевна"), ("Константинович", "Константиновна"),
    ("Васильевич", "Васильевна"), ("Петрович", "Петровна"), ("Иванович", "Ивановна"),
    ("Фёдорович", "Фёдоровна"), ("Ильич", "Ильинична"), ("Никитич", "Никитична"),
    ("Львович", "Львовна"), ("Романович", "Романовна"), ("Максимович", "Максимовна"),
    ("Григорьевич", "Григорьевна"), ("Вячеславович", "Вячеславовна"),
]
TATAR_PATRONYMICS = [
    ("Рустамович", "Рустамовна"), ("Ильдарович", "Ильдаровна"), ("Ринатович", "Ринатовна"),
    ("Маратович", "Маратовна"), ("Рашидович", "Рашидовна"), ("Фаритович", "Фаритовна"),
    ("Ильгизович", "Ильгизовна"), ("Наилевич", "Наилевна"), ("Рифатович", "Рифатовна"),
]
# city, passport region code, streets
PLACES = {
    "MSK": ("Москва", "45", ["ул. Тверская", "ул. Новый Арбат", "Ленинградский пр-т",
                             "ул. Большая Дмитровка", "Кутузовский пр-т", "ул. Люблинская",
                             "ул. Маршала Жукова", "Профсоюзная ул.", "ул. Покровка"]),
    "MSK-KHM": ("Химки", "46", ["ул. Молодёжная", "Юбилейный пр-т", "ул. Победы"]),
    "SPB": ("Санкт-Петербург", "40", ["Невский пр-т", "ул. Марата", "Лиговский пр-т",
                                      "Средний пр-т В.О.", "Московский пр-т", "ул. Савушкина",
                                      "пр-т Просвещения"]),
    "KZN": ("Казань", "92", ["ул. Баумана", "пр-т Ямашева", "ул. Чистопольская",
                             "ул. Декабристов", "пр-т Победы", "ул. Пушкина"]),
    "NNV-NIZ": ("Нижний Новгород", "22", ["ул. Большая Покровская", "ул. Рождественская",
                                          "пр-т Гагарина", "ул. Белинского"]),
}
# branch code -> number of patients registered there
PATIENTS_PER_BRANCH = {
    "MSK-TVR": 100, "MSK-ARB": 60, "MSK-MAR": 16, "MSK-KHM": 10, "SPB-NEV": 50, "SPB-VAS": 14,
    "SPB-PUL": 10, "KZN-CEN": 14, "KZN-SAV": 12, "NNV-NIZ": 14,
}
DUPLICATE_OF = ("MSK-TVR", 7)  # the 8th patient of MSK-TVR is registered twice


def surname(male: str, sex: str) -> str:
    """Return the surname in the form of the given sex («Королёв» → «Королёва»)."""
    if sex == "m":
        return male
    if male.endswith(("ский", "цкий")):
        return male[:-2] + "ая"
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    return male  # «Шевченко», «Ковальчук» do not change


def snils(number: int) -> str:
    """Return a SNILS «123-456-789 01» for a nine-digit number, with its check number."""
    digits = f"{number:09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {check:02d}"


def phone(rng: random.Random) -> str:
    """Return a Russian mobile number «+7 9XX XXX-XX-XX»."""
    return (f"+7 9{rng.randint(0, 99):02d} {rng.randint(100, 999)}-"
            f"{rng.randint(0, 99):02d}-{rng.randint(0, 99):02d}")


def _birth_date(rng: random.Random) -> dt.date:
    span = rng.choices([(1940, 1959), (1960, 2003), (2004, 2020)], weights=[12, 68, 20])[0]
    year = rng.randint(*span)
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def age(birth: dt.date, on: dt.date = AGE_ON) -> int:
    """Return the full years of someone born on `birth`, on the given day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _category(rng: random.Random, sex: str, years: int) -> str:
    if years < 18:
        return "CHILD"
    if years >= (60 if sex == "f" else 65):
        return rng.choices(["PENS", "VET", "DISAB"], weights=[85, 8, 7])[0]
    if sex == "f" and 20 <= years <= 40 and rng.random() < 0.06:
        return "PREG"
    return rng.choices(["ADULT", "STAFF", "DISAB"], weights=[92, 4, 4])[0]


def _place(branch: Unit) -> tuple[str, str, list[str]]:
    return PLACES.get(branch.code) or PLACES[branch.parent.code]


def _person(rng: random.Random, branch: Unit) -> dict:
    sex = rng.choice("mf")
    birth = _birth_date(rng)
    tatar = branch.parent.code == "KZN" and rng.random() < 0.5
    generation = "old" if birth.year < 1985 else "new"
    if tatar:
        first = rng.choice(TATAR_MALE if sex == "m" else TATAR_FEMALE)
        last, middle = rng.choice(TATAR_SURNAMES), rng.choice(TATAR_PATRONYMICS)
    else:
        first = rng.choice((MALE if sex == "m" else FEMALE)[generation])
        last, middle = rng.choice(SURNAMES), rng.choice(PATRONYMICS)
    return {"last_name": surname(last, sex), "first_name": first,
            "middle_name": middle[0 if sex == "m" else 1], "birth_date": birth, "sex": sex}


def _details(rng: random.Random, branch: Unit, person: dict, number: int) -> dict:
    city, region, streets = _place(branch)
    years = age(person["birth_date"])
    if years >= 14:
        kind = "Паспорт гражданина РФ"
        document = f"{region} {rng.randint(3, 23):02d} {rng.randint(100000, 999999)}"
    else:
        kind = "Свидетельство о рождении"
        document = f"{rng.choice(['II', 'III', 'IV', 'V'])}-МЮ {rng.randint(100000, 999999)}"
    return {
        "snils": snils(112_000_000 + number * 7919 % 887_000_000),
        "oms_policy": f"{rng.randint(10**15, 10**16 - 1)}" if rng.random() < 0.8 else None,
        "document_kind": kind, "document_number": document, "phone": phone(rng),
        "email": f"patient{number:04d}@example.ru" if rng.random() < 0.3 else None,
        "address": f"{city}, {rng.choice(streets)}, д. {rng.randint(1, 120)}, "
                   f"кв. {rng.randint(1, 250)}",
    }


def make_patients(session, rng: random.Random, units: dict[str, Unit],
                  categories: dict) -> dict[str, list[Patient]]:
    """Add about three hundred patients (one of them registered twice); return them
    by home branch code. The duplicate flag is left to the patients' session hook."""
    seen: set[tuple[str, dt.date]] = set()
    by_branch: dict[str, list[Patient]] = {}
    number = 0
    for code, count in PATIENTS_PER_BRANCH.items():
        branch, patients = units[code], by_branch.setdefault(code, [])
        while len(patients) < count:
            if (code, len(patients) - 1) == DUPLICATE_OF:
                twin = patients[-1]
                person = {k: getattr(twin, k) for k in
                          ("last_name", "first_name", "middle_name", "birth_date", "sex")}
                extra = {"phone": phone(rng), "category": twin.category,
                         "address": twin.address}  # a second card, without documents
            else:
                person = _person(rng, branch)
                key = (name_key(person["last_name"], person["first_name"],
                                person["middle_name"]), person["birth_date"])
                if key in seen:
                    continue
                seen.add(key)
                number += 1
                extra = _details(rng, branch, person, number)
                extra["category"] = categories[_category(rng, person["sex"],
                                                         age(person["birth_date"]))]
            patient = Patient(home_branch=branch, **person, **extra)
            session.add(patient)
            patients.append(patient)
    return by_branch
