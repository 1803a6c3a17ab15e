"""Demo reference books and price list of the network «Здоровье»: the `samples` of
every declared reference book (`add_samples`), the departments of every branch,
price categories, exchange rates, about three hundred services (with composites
and sets) and their prices.

The declarations are read from the view registry: the demo loader stands on top of
the application, like the CLI that calls it.

Called by `demo.loader.load_demo` inside its transaction: adds rows, never
commits. Deterministic: every random choice comes from one seeded generator.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from graphlib import TopologicalSorter

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.pricelist_data import (
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
from models import pricelist as pl
from models import refbooks as rb
from models.org import Unit, UnitKind
from views import load_all
from views.refbook import RefBook, declared_books

SEED = 20240117
D = Decimal


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
RATES = {"USD": "91.4500", "EUR": "99.2700"}  # the central bank's rate 30 days ago
INTERNAL_MARKUP = D("1.015")
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

def _round(value: Decimal, step: int = 10) -> Decimal:
    """Return the value rounded to `step` roubles, with kopecks (…0.00)."""
    return ((value / step).quantize(D(1), ROUND_HALF_UP) * step).quantize(D("0.01"))


def add_samples(session: Session, books: Iterable[RefBook]) -> dict[type, dict]:
    """Add the `samples` of `books` (no commit), a book after the books its samples
    link to (a row may link to an earlier row of its own book); return
    {model: {code: row}}.

    Raises LookupError naming the book when a linked code is not found.
    """
    by_model: dict[type, list[RefBook]] = {}
    for book in books:
        if book.samples:
            by_model.setdefault(book.model, []).append(book)
    order = TopologicalSorter({model: {rel.mapper.class_ for rel in _links(model)
                                       if rel.mapper.class_ in by_model} - {model}
                               for model in by_model})
    made: dict[type, dict] = {}
    for model in order.static_order():
        rows = made.setdefault(model, {})
        for values in (v for book in by_model[model] for v in book.sample_rows()):
            row = _sample_row(session, model, values, made)
            session.add(row)
            rows[getattr(row, "code", len(rows))] = row
    return made


def _links(model: type) -> list:
    return list(sa_inspect(model).relationships)


def _sample_row(session: Session, model: type, values: Mapping, made: dict):
    """Return a `model` row of `values`, its links' codes replaced by the linked rows."""
    row = {}
    links = {rel.key: rel for rel in _links(model)}
    for key, value in values.items():
        rel = links.get(key)
        if rel is not None and rel.uselist and value and isinstance(value[0], str):
            value = [_linked(session, model, rel.mapper.class_, code, made) for code in value]
        elif rel is not None and isinstance(value, str):
            value = _linked(session, model, rel.mapper.class_, value, made)
        row[key] = value
    return model(**row)


def _linked(session: Session, model: type, target: type, code: str, made: dict):
    found = made.get(target, {}).get(code)
    if found is None:
        found = session.scalar(select(target).where(target.code == code))
    if found is None:
        raise LookupError(f"samples of {model.__name__}: no {target.__name__} with code {code!r}")
    return found


def _book(session: Session, model, rows, *fields) -> dict:
    """Add one `model` row per tuple (code, name, *fields); return them by code."""
    made = {row[0]: model(**dict(zip(("code", "name", *fields), row, strict=True)))
            for row in rows}
    session.add_all(made.values())
    return made


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


def _export_codes(services, codes: dict) -> None:
    """Give every service the accounting code an export to 1C names it by: laboratory
    tests for organisations, ОМС, ДМС, or paid services."""
    for service in services:
        key = ("LAB" if service.department is not None else
               {"oms": "OMS", "dms": "DMS", "both": "DMS"}.get(service.insurance, "PAID"))
        service.export_code = codes[key]


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
    load_all()
    samples = add_samples(session, declared_books())
    profiles, bases = samples[rb.DepartmentProfile], samples[rb.BaseDepartment]
    departments = {}
    for unit in units.values():
        if unit.kind == UnitKind.department.value:
            suffix, branch = unit.code.rsplit("-", 1)[1], unit.parent
            place = branch.name.removeprefix("Филиал ").strip("«»")
            departments[unit.code] = rb.Department(
                code=unit.code, name=f"{unit.name} ({place})", branch=branch,
                base_department=bases[suffix], profile=profiles[suffix])
    session.add_all(departments.values())
    types = samples[rb.PriceType]
    branches = [u for u in units.values() if u.kind == UnitKind.branch.value]
    categories = {code: rb.PriceCategory(code=code, name=name, price_type=types[type_code],
                                         branches=[b for b in branches if b.parent.code in where])
                  for code, name, type_code, where, _factor in CATEGORIES}
    session.add_all(categories.values())
    currencies, rate_types = samples[rb.Currency], samples[rb.RateType]
    taxes = samples[rb.Tax]
    books = [*samples.values(), categories,
             _book(session, pl.MedicalInstitution, INSTITUTIONS, "external", "inn", "address")]
    rates = _exchange_rates(rng, today, currencies, rate_types)
    services, base = _services(session, departments[CENTRAL_LAB])
    _export_codes(services.values(), samples[rb.ExportCode])
    prices = _prices(rng, today.year, base, categories, currencies["RUB"], taxes)
    sets = _sets(services, base)
    session.add_all([*rates, *prices, *sets])
    return {"departments": len(departments),
            "reference_rows": sum(map(len, books)) + len(rates),
            "services": len(services), "prices": len(prices),
            "service_sets": sum(isinstance(s, pl.ServiceSet) for s in sets)}
