"""Demo reference books and price list of the network «Здоровье»: the departments of
every branch, price types and categories, payment, currency and tax books, about
three hundred services (with composites and sets) and their prices.

Called by `services.demo.load_demo` inside its transaction: adds rows, never
commits. Deterministic: every random choice comes from one seeded generator.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from models import pricelist as pl
from models import refbooks as rb
from models.org import Unit, UnitKind
from services.demo_pricelist_data import (
    CENTRAL_LAB,
    COMPOSITES,
    GROUPS,
    INSURANCE,
    LISTS,
    SERVICES,
    SETS,
    VAT_GROUPS,
    _sections,
)

SEED = 20240117
D = Decimal


BASE_DEPARTMENTS = [
    ("THR", "Терапия", "Терапевтический"), ("PRC", "Процедурный кабинет", "Сестринское дело"),
    ("LAB", "Клиническая лабораторная диагностика", "Лабораторная диагностика"),
    ("USD", "Ультразвуковая диагностика", "Ультразвуковая диагностика"),
    ("FD", "Функциональная диагностика", "Функциональная диагностика"),
    ("DNT", "Стоматология", "Стоматология общей практики"), ("PED", "Педиатрия", "Педиатрический"),
    ("GYN", "Гинекология", "Акушерство и гинекология"), ("SRG", "Хирургия", "Хирургический"),
    ("XRY", "Рентгенология", "Рентгенологический")]
PRICE_TYPES = [("PAID", "Платные услуги", "paid"), ("OMS", "ОМС", "oms"), ("DMS", "ДМС", "dms")]
# code, name, price type, regions whose branches use it, factor to the Moscow price
CATEGORIES = [
    ("MSK-BASE", "Базовый прайс Москва", "PAID", ("MSK",), "1.00"),
    ("SPB", "Прайс Санкт-Петербург", "PAID", ("SPB",), "0.92"),
    ("VOLGA", "Прайс Поволжье", "PAID", ("KZN",), "0.78"),
    ("DMS-MSK", "ДМС Москва", "DMS", ("MSK",), "1.15"),
    ("OMS", "ОМС", "OMS", ("MSK", "SPB", "KZN"), "0.45"),
]
# the services (by Service.insurance) a category of each funding prices
FUNDED = {"paid": {"none", "oms", "dms", "both"}, "dms": {"dms", "both"}, "oms": {"oms", "both"}}
PAYMENT_METHODS = [("CASH", "Наличные", False), ("CARD", "Банковская карта", True),
                   ("SBP", "СБП (Система быстрых платежей)", True),
                   ("BANK", "Безналичный расчёт", True), ("DEPOSIT", "Депозит", True)]
PAYMENT_SECTIONS = [("MED", "Медицинские услуги", 1), ("LAB", "Лабораторные исследования", 2),
                    ("OTH", "Прочие услуги", 3)]
PATIENT_CATEGORIES = [("ADULT", "Взрослые"), ("CHILD", "Дети до 18 лет"), ("PENS", "Пенсионеры"),
                      ("STAFF", "Сотрудники сети"), ("VET", "Ветераны боевых действий"),
                      ("DISAB", "Инвалиды I и II группы"), ("PREG", "Беременные"),
                      ("DMS", "Застрахованные по ДМС"), ("CORP", "Сотрудники клиентов-организаций")]
CURRENCIES = [("RUB", "Российский рубль", "₽"), ("USD", "Доллар США", "$"),
              ("EUR", "Евро", "€"), ("KZT", "Казахстанский тенге", "₸")]
RATE_TYPES = [("CBR", "ЦБ РФ"), ("INT", "Внутренний")]
RATES = {"USD": "91.4500", "EUR": "99.2700"}  # the central bank's rate 30 days ago
INTERNAL_MARKUP = D("1.015")
TAXES = [("NOVAT", "Без НДС", D(0)), ("VAT10", "НДС 10%", D(10)), ("VAT20", "НДС 20%", D(20))]
RISK_TYPES = [("AMB", "Амбулаторно-поликлиническая помощь"), ("DENT", "Стоматологическая помощь"),
              ("HOSP", "Стационарная помощь (плановая)"), ("EMRG", "Экстренная госпитализация"),
              ("HOME", "Помощь на дому"), ("LABD", "Лабораторная и инструментальная диагностика"),
              ("REHAB", "Восстановительное лечение")]
EXPORT_CODES = [("PAID", "Медицинские услуги (платные)", "90.01.1"),
                ("DMS", "Медицинские услуги по ДМС", "90.01.2"),
                ("OMS", "Медицинские услуги по ОМС", "90.01.3"),
                ("TFOMS", "Расчёты с ТФОМС", "76.09"),
                ("LAB", "Лабораторные исследования для организаций", "90.01.4"),
                ("OTHER", "Прочие услуги (облагаемые НДС)", "90.01.5"),
                ("ADV", "Авансы полученные от пациентов", "62.02")]
COLOURS = [("RED", "Красный", "#E53935"), ("ORANGE", "Оранжевый", "#FB8C00"),
           ("YELLOW", "Жёлтый", "#FDD835"), ("GREEN", "Зелёный", "#43A047"),
           ("TEAL", "Бирюзовый", "#00897B"), ("BLUE", "Синий", "#1E88E5"),
           ("PURPLE", "Фиолетовый", "#8E24AA"), ("GREY", "Серый", "#757575")]
# code, name, external, INN, address
INSTITUTIONS = [
    ("CDL-MSK", "Центральная клинико-диагностическая лаборатория сети «Здоровье»", False,
     "7701458218", "Москва, ул. Тверская, д. 12, стр. 2"),
    ("LAB-SPB", "Лаборатория филиала «Невский»", False, "7841023658",
     "Санкт-Петербург, Невский пр., д. 88"),
    ("LAB-KZN", "Лаборатория филиала «Казань-Центр»", False, "1655098743",
     "Казань, ул. Баумана, д. 44"),
    ("EXT-GEN", "ООО «Лаборатория молекулярной диагностики «Геноскан»", True, "7728135461",
     "Москва, ул. Профсоюзная, д. 65, к. 1"),
    ("EXT-HIST", "ООО «Центр патоморфологии «ГистоЛаб»", True, "7814092170",
     "Санкт-Петербург, ул. Чапаева, д. 15"),
    ("EXT-GKB", "ГБУЗ «Городская клиническая больница № 15»", True, "7721028541",
     "Москва, ул. Вешняковская, д. 23"),
    ("EXT-MRT", "АО «Диагностический центр «МРТ-Плюс»", True, "1660125738",
     "Казань, ул. Чистопольская, д. 20"),
]

# code, name, parent, default insurance attribute, performed by the central lab
def _round(value: Decimal, step: int = 10) -> Decimal:
    """Return the value rounded to `step` roubles, with kopecks (…0.00)."""
    return ((value / step).quantize(D(1), ROUND_HALF_UP) * step).quantize(D("0.01"))


def _book(session: Session, model, rows, *fields) -> dict:
    """Add one `model` row per tuple (code, name, *fields); return them by code."""
    made = {row[0]: model(**dict(zip(("code", "name", *fields), row, strict=True)))
            for row in rows}
    session.add_all(made.values())
    return made


def _discounts(year: int) -> list[tuple]:
    start, prev, end = dt.date(year, 1, 1), dt.date(year - 1, 1, 1), dt.date(year, 12, 31)
    # code, name, kind, percent, amount, minimal receipt, maximal discount, from, to
    return [
        ("PENS10", "Скидка пенсионерам", "discount", D(10), None, None, None, prev, None),
        ("STAFF20", "Скидка сотрудникам сети", "discount", D(20), None, None, D(5000), prev, None),
        ("CARD5", "Скидка по дисконтной карте", "discount", D(5), None, None, None, prev, None),
        ("FIRST500", "Скидка на первое посещение", "discount", None, D(500), D(3000), None,
         start, end),
        ("SPRING15", "Акция «Весенний check-up»", "discount", D(15), None, None, None,
         dt.date(year, 3, 1), dt.date(year, 5, 31)),
        ("NY10", "Новогодняя акция", "discount", D(10), None, None, D(3000),
         dt.date(year - 1, 12, 1), dt.date(year - 1, 12, 31)),
        ("CITO50", "Надбавка за срочное выполнение (cito)", "markup", D(50), None, None, None,
         prev, None),
        ("HOME1500", "Надбавка за выезд на дом", "markup", None, D(1500), None, None, prev, None),
        ("WKND10", "Надбавка за приём в выходные дни", "markup", D(10), None, None, None,
         start, None),
    ]


def _exchange_rates(rng, today, currencies, rate_types) -> list[rb.ExchangeRate]:
    """Return a daily rate of each currency of RATES for 30 days, by both rate types."""
    rows = []
    for code, start in RATES.items():
        value = D(start)
        for back in range(29, -1, -1):
            value = (value * D(str(1 + rng.uniform(-0.006, 0.006)))).quantize(D("0.0001"))
            for kind, rate in (("CBR", value), ("INT", value * INTERNAL_MARKUP)):
                rows.append(rb.ExchangeRate(
                    currency=currencies[code], rate_type=rate_types[kind],
                    on_date=today - dt.timedelta(days=back), value=rate.quantize(D("0.0001"))))
    return rows


def _service_rows():
    """Yield (group code, name, Moscow price) for every simple service."""
    for group, items in _sections(SERVICES):
        for item in items:
            name, _, price = item.partition("=")
            yield group, name, int(price)
    for pathogen in LISTS["PATHOGENS"]:
        yield "INF", f"Антитела класса IgG к {pathogen}", 690
        yield "INF", f"Антитела класса IgM к {pathogen}", 720
    for agent in LISTS["PCR"]:
        yield "INF", f"Выявление ДНК {agent} методом ПЦР", 490
    for allergen in LISTS["ALLERGENS"]:
        yield "ALG", f"Специфический IgE к {allergen}", 890
    for item in LISTS["SPECIALISTS"]:
        who, _, price = item.partition("=")
        yield "CON", f"Приём врача-{who} первичный", int(price)
        yield "CON", f"Приём врача-{who} повторный", int(price) * 4 // 5
        yield "CON", f"Консультация врача-{who}, кандидата медицинских наук", int(price) * 3 // 2


def _services(session, lab_department) -> tuple[dict, dict]:
    """Add the groups, services and composites (with their components); return the
    services by name and their Moscow prices by service."""
    groups, insurance = {}, {}
    for code, name, parent, default, in_lab in GROUPS:
        groups[code] = pl.ServiceGroup(code=code, name=name, parent=groups.get(parent))
        insurance[code] = (default, lab_department if in_lab else None)
    services, base, numbers = {}, {}, Counter()
    for group, name, price in _service_rows():
        if name in services:
            raise ValueError(f"duplicate demo service {name!r}")
        numbers[group] += 1
        kind, department = insurance[group]
        kind = INSURANCE.get(name) or ("none" if "кандидата" in name else kind)
        service = pl.Service(code=f"{group}-{numbers[group]:03d}", name=name, insurance=kind,
                             group=groups[group], department=department)
        services[name], base[service] = service, _round(D(price))
    torch = [f"Антитела класса {c} к {p}" for p in LISTS["PATHOGENS"][:4] for c in ("IgG", "IgM")]
    components = []
    for number, (name, parts) in enumerate(
            [*_sections(COMPOSITES), ("Комплекс «TORCH-инфекции»", torch)], 1):
        kind, department = insurance["CMP"]
        service = pl.Service(code=f"CMP-{number:03d}", name=name, group=groups["CMP"],
                             department=department, insurance=kind, composite=True)
        total = D(0)
        for part in parts:
            part_name, _, quantity = part.partition("*")
            component = services[part_name]
            components.append(pl.ServiceComponent(composite=service, component=component,
                                                  quantity=int(quantity or 1)))
            total += base[component] * int(quantity or 1)
        services[name], base[service] = service, _round(total * D("0.85"))
    # Ids in code order: the first row of the list (sorted by code) is the oldest one.
    ordered = sorted(services.values(), key=lambda s: s.code)
    session.add_all([*groups.values(), *ordered, *components])
    return services, base


def _prices(rng, year: int, base, categories, rub, taxes) -> list[pl.Price]:
    """Return the current price of every service in every category funding it, and
    twenty closed prices of the previous year."""
    start = dt.date(year, 1, 1)
    current = []
    for service, moscow in base.items():
        tax = taxes["VAT20" if service.group.code in VAT_GROUPS else "NOVAT"]
        for code, _name, _type, _regions, factor in CATEGORIES:
            category = categories[code]
            funding = category.price_type.funding
            if service.insurance not in FUNDED[funding]:
                continue
            value = moscow * D(factor)
            if code != "MSK-BASE":
                value *= D(str(round(rng.uniform(0.96, 1.04), 3)))
            amount = value.quantize(D("0.01")) if funding == "oms" else _round(value)
            current.append(pl.Price(service=service, category=category, amount=amount,
                                    currency=rub, tax=tax, valid_from=start, valid_to=None))
    paid = [p for p in current if p.category.price_type.funding == "paid"]
    closed = [pl.Price(service=p.service, category=p.category, amount=_round(p.amount * D("0.9")),
                       currency=rub, tax=p.tax, valid_from=dt.date(year - 1, 1, 1),
                       valid_to=dt.date(year - 1, 12, 31)) for p in rng.sample(paid, 20)]
    return current + closed


def _sets(services, base) -> list:
    """Return the service sets (80 % of their services' Moscow prices) and their items."""
    rows = []
    for head, parts in _sections(SETS):
        code, name = head.split(" ", 1)
        members = [services[part] for part in parts]
        total = int(sum(base[m] for m in members) * D("0.8")) // 100 * 100 - 10
        rows.append(pl.ServiceSet(code=code, name=name, price=D(total).quantize(D("0.01"))))
        rows += [pl.ServiceSetItem(service_set=rows[-1], service=m, quantity=1) for m in members]
    return rows


def load_refbooks(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add the demo reference books and price list (no commit); return counts."""
    rng = random.Random(SEED)
    today = dt.date.today()
    profiles = _book(session, rb.DepartmentProfile, [(c, p) for c, _n, p in BASE_DEPARTMENTS])
    bases = _book(session, rb.BaseDepartment, [(c, n) for c, n, _p in BASE_DEPARTMENTS])
    departments = {}
    for unit in units.values():
        if unit.kind == UnitKind.department.value:
            suffix, branch = unit.code.rsplit("-", 1)[1], unit.parent
            place = branch.name.removeprefix("Филиал ").strip("«»")
            departments[unit.code] = rb.Department(
                code=unit.code, name=f"{unit.name} ({place})", branch=branch,
                base_department=bases[suffix], profile=profiles[suffix])
    session.add_all(departments.values())
    types = _book(session, rb.PriceType, PRICE_TYPES, "funding")
    branches = [u for u in units.values() if u.kind == UnitKind.branch.value]
    categories = {code: rb.PriceCategory(code=code, name=name, price_type=types[type_code],
                                         branches=[b for b in branches if b.parent.code in where])
                  for code, name, type_code, where, _factor in CATEGORIES}
    session.add_all(categories.values())
    currencies = _book(session, rb.Currency, CURRENCIES, "symbol")
    rate_types = _book(session, rb.RateType, RATE_TYPES)
    taxes = _book(session, rb.Tax, TAXES, "rate")
    books = [profiles, bases, types, categories, currencies, rate_types, taxes,
             _book(session, rb.PaymentMethod, PAYMENT_METHODS, "cashless"),
             _book(session, rb.PaymentSection, PAYMENT_SECTIONS, "register_section"),
             _book(session, rb.PatientCategory, PATIENT_CATEGORIES),
             _book(session, rb.Discount, _discounts(today.year), "kind", "percent", "amount",
                   "min_total", "max_amount", "valid_from", "valid_to"),
             _book(session, rb.RiskType, RISK_TYPES),
             _book(session, rb.ExportCode, EXPORT_CODES, "account"),
             _book(session, rb.Colour, COLOURS, "hex"),
             _book(session, pl.MedicalInstitution,
                   INSTITUTIONS,
                   "external", "inn", "address")]
    rates = _exchange_rates(rng, today, currencies, rate_types)
    services, base = _services(session, departments[CENTRAL_LAB])
    prices = _prices(rng, today.year, base, categories, currencies["RUB"], taxes)
    sets = _sets(services, base)
    session.add_all([*rates, *prices, *sets])
    return {"departments": len(departments),
            "reference_rows": sum(map(len, books)) + len(rates),
            "services": len(services), "prices": len(prices),
            "service_sets": sum(isinstance(s, pl.ServiceSet) for s in sets)}
