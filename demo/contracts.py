"""Demo payers, contracts, medical programmes, patients and attachments of the
network «Здоровье» (section «Организации и договоры» and the patient register).

Called by `demo.loader.load_demo` after the reference books, inside its
transaction: adds rows, flushes, never commits. Deterministic: every random
choice comes from one seeded generator. The data obey the rules of
services.contracts.rules and services.contracts.patients; the loader checks them as it goes.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.people import (
    ADDRESSES,
    GROUPS,
    INDIVIDUALS,
    INSURERS,
    ORGANISATIONS,
    age,
    make_patients,
)
from models import contracts as ct
from models import parties as pt
from models import pricelist as pl
from models import refbooks as rb
from models.org import Unit
from models.patients import Attachment
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
from services.contracts.instalments import replace_schedule, schedule_from_template
from services.contracts.patients import check_attachment, check_patient
from services.contracts.rules import check_contract, check_guarantee

SEED = 20260115
D = Decimal
YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


class _Loader:
    """The rights of the demo loader: it may do whatever a user may."""

    @staticmethod
    def flag(_code: str) -> bool:
        return True

    @staticmethod
    def allows(_code: str, _minimum: str | None = None) -> bool:
        return True


CONTRACT_TEMPLATES = [
    ("DMS-STD", "Типовой договор ДМС со страховой компанией", "dms", "postpaid"),
    ("ORG-STD", "Типовой договор на медицинское обслуживание сотрудников", "organisation",
     "postpaid"),
    ("PREPAID-INST", "Типовой договор с физическим лицом (предоплата в рассрочку)", "prepaid",
     "instalments"),
]
# code, name, insurance, months, policy cost
TERMS = [("OMS-12", "ОМС, страховой период 12 месяцев", "oms", 12, None),
         ("DMS-12", "ДМС «Стандарт», страховой период 12 месяцев", "dms", 12, D("45000.00"))]
SCHEMES = [("HALF-30", "50/50: при заключении и через 30 дней", [(0, 50), (30, 50)]),
           ("THIRDS-60", "30/30/40: при заключении, через 30 и 60 дней",
            [(0, 30), (30, 30), (60, 40)])]
CODE_TEMPLATES = [("DMS", "Программы ДМС", "DMS-{contract}-{n}"),
                  ("ORG", "Программы договоров с организациями", "ORG-{contract}-{n}")]
# contract key -> fields; the payer is "insurer:CODE", "organisation:CODE" or "individual:N"
CONTRACTS = {
    "dms": {"number": "ДМС-2026/001", "signed_on": dt.date(2025, 12, 12), "kind": "dms",
            "branch": "MSK-TVR", "payer": "insurer:INGOS", "template": "DMS-STD",
            "terms": "DMS-12", "category": "DMS-MSK", "valid_from": YEAR_START,
            "valid_to": YEAR_END, "note": "Сотрудники ГК «Меридиан», полисы СПАО «Ингосстрах»"},
    "oms": {"number": "ОМС-2026/001", "signed_on": dt.date(2025, 12, 26), "kind": "oms",
            "branch": "MSK-TVR", "payer": "insurer:SOGAZ-MED", "terms": "OMS-12",
            "category": "OMS", "valid_from": YEAR_START, "valid_to": YEAR_END},
    "org": {"number": "СПБ-ОРГ-2025/017", "signed_on": dt.date(2025, 8, 20),
            "kind": "organisation", "branch": "SPB-NEV", "payer": "organisation:BALT-SERVICE",
            "template": "ORG-STD", "category": "SPB", "valid_from": dt.date(2025, 9, 1),
            "valid_to": None, "note": "Бессрочный договор, медосмотры и лечение сотрудников"},
    "prepaid": {"number": "ПД-2026/003", "signed_on": dt.date(2026, 1, 28), "kind": "prepaid",
                "payment_scheme": "instalments", "branch": "MSK-TVR", "payer": "individual:0",
                "template": "PREPAID-INST", "category": "MSK-BASE", "amount": D("60000.00"),
                "valid_from": dt.date(2026, 2, 1), "valid_to": dt.date(2027, 1, 31),
                "note": "Программа «Ведение беременности», оплата в три платежа"},
    "deposit": {"number": "ДЕП-2026/005", "signed_on": dt.date(2026, 3, 10), "kind": "deposit",
                "payment_scheme": "prepaid", "branch": "MSK-ARB", "payer": "individual:2",
                "category": "MSK-BASE", "amount": D("20000.00"),
                "valid_from": dt.date(2026, 3, 10), "valid_to": None},
    "network": {"number": "ДМС-С-2026/002", "signed_on": dt.date(2025, 12, 19), "kind": "dms",
                "branch": "MSK-MAR", "network": True, "served": ("MSK-TVR", "MSK-ARB"),
                "payer": "insurer:RESO", "template": "DMS-STD", "terms": "DMS-12",
                "category": "DMS-MSK", "valid_from": YEAR_START, "valid_to": YEAR_END,
                "note": "Сетевой договор: сотрудники АО «Меридиан Девелопмент»"},
}
# contract key, name, code template, price type, max cost, [(service name, max count)]
PROGRAMMES = [
    ("dms", "Амбулаторно-поликлиническая помощь", "DMS", "DMS", D("250000.00"), [
        ("Приём врача-терапевта первичный", 2), ("Приём врача-терапевта повторный", 10),
        ("Приём врача-кардиолога первичный", 2), ("Приём врача-невролога первичный", 2),
        ("Приём врача-эндокринолога первичный", 2),
        ("Приём врача-оториноларинголога первичный", 3), ("Приём врача-офтальмолога первичный", 2),
        ("Приём врача-акушера-гинеколога первичный", 2), ("Приём врача-уролога первичный", 2),
        ("Электрокардиография с расшифровкой", 3), ("УЗИ органов брюшной полости (комплексное)", 1),
        ("УЗИ щитовидной железы", 1),
        ("Общий анализ крови с лейкоцитарной формулой и СОЭ", 4), ("Общий анализ мочи", 4),
        ("Глюкоза", 3), ("Холестерин общий", 2), ("Взятие крови из периферической вены", 10),
        ("Внутримышечная инъекция", 20)]),
    # The demo price list knows only the dental therapist's visits: the rest of the
    # programme is what a dental treatment needs around them.
    ("dms", "Стоматология", "DMS", "DMS", D("60000.00"), [
        ("Приём врача-стоматолога-терапевта первичный", 2),
        ("Приём врача-стоматолога-терапевта повторный", 8), ("Приём врача-хирурга первичный", 1),
        ("Приём врача-хирурга повторный", 2), ("Приём врача-оториноларинголога первичный", 1),
        ("Подкожная инъекция", 10), ("Перевязка простая", 3), ("Снятие швов", 2),
        ("УЗИ слюнных желёз", 1), ("Взятие мазка из зева и носа", 1),
        ("HBsAg (антиген вируса гепатита B)", 1),
        ("Антитела к вирусу гепатита C (суммарные)", 1)]),
    ("network", "Амбулаторно-поликлиническая помощь (сеть)", "DMS", "DMS", D("200000.00"), [
        ("Приём врача-терапевта первичный", 2), ("Приём врача-терапевта повторный", 8),
        ("Приём врача-невролога первичный", 1), ("Приём врача-хирурга первичный", 1),
        ("Приём врача-офтальмолога первичный", 1), ("Электрокардиография с расшифровкой", 2),
        ("УЗИ органов брюшной полости (комплексное)", 1),
        ("Общий анализ крови с лейкоцитарной формулой и СОЭ", 3), ("Общий анализ мочи", 3),
        ("Липидный профиль", None), ("Взятие крови из периферической вены", 6)]),
    ("org", "Медицинское обслуживание сотрудников", "ORG", "PAID", D("30000.00"), [
        ("Приём врача-терапевта первичный", 1), ("Приём врача-терапевта повторный", 4),
        ("Приём врача-офтальмолога первичный", 1), ("Приём врача-оториноларинголога первичный", 1),
        ("Приём врача-невролога первичный", 1), ("Электрокардиография с расшифровкой", 1),
        ("Спирометрия", 1), ("Общий анализ крови с лейкоцитарной формулой и СОЭ", 2),
        ("Общий анализ мочи", 2), ("Глюкоза", 1), ("Оформление справки (форма 086/у)", None)]),
]
# contract key, number, issued on, valid from, valid to, amount, programme names
GUARANTEES = [
    ("dms", "ГП-2026/0147", dt.date(2026, 2, 10), dt.date(2026, 2, 10), dt.date(2026, 5, 31),
     D("85000.00"), ["Стоматология"]),
    ("network", "ГП-2026/0311", dt.date(2026, 4, 2), dt.date(2026, 4, 2), YEAR_END,
     D("120000.00"), ["Амбулаторно-поликлиническая помощь (сеть)"]),
    ("org", "ГП-СПБ-25/031", dt.date(2025, 10, 1), dt.date(2025, 10, 1), dt.date(2026, 9, 30),
     D("150000.00"), ["Медицинское обслуживание сотрудников"]),
]


def inn(region: str, serial: int) -> str:
    """Return a ten-digit INN of a legal entity with its check digit."""
    body = f"{region}{serial:07d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10)


def _by_code(session: Session, model) -> dict:
    return {row.code: row for row in session.scalars(select(model))}


def _parties(session: Session, units: dict[str, Unit]) -> dict:
    """Add addresses, groups, organisations, insurers and individuals; return them."""
    addresses = {key: pt.Address(unit=units[owner], postcode=post, region=region, city=city,
                                 street=street, house=house, flat=flat)
                 for key, owner, post, region, city, street, house, flat in ADDRESSES}
    groups = {code: pt.OrganisationGroup(code=code, name=name, unit=units["NET"])
              for code, name in GROUPS}
    organisations = {
        code: pt.Organisation(code=code, name=name, unit=units[owner], group=groups.get(group),
                              inn=inn(region, 1_204_310 + 977 * n), kpp=kpp, phone=tel,
                              email=f"office@{code.lower()}.example.ru", address=addresses[adr])
        for n, (code, name, owner, group, region, kpp, adr, tel) in enumerate(ORGANISATIONS)}
    insurers = {
        code: pt.Insurer(code=code, name=name, unit=units[owner], inn=inn(region, 2_716_004 + n),
                         kpp=kpp, address=addresses[adr], licence=licence, register_code=reg,
                         phone=f"+7 800 200-{n:02d}-{n + 40:02d}")
        for n, (code, name, owner, region, kpp, adr, licence, reg) in enumerate(INSURERS)}
    individuals = [
        pt.Individual(unit=units[owner], last_name=last, first_name=first, middle_name=middle,
                      birth_date=born, document=f"Паспорт {passport}", address=addresses[adr],
                      phone=f"+7 916 {400 + n * 37}-{10 + n * 11:02d}-{20 + n * 13:02d}")
        for n, (owner, last, first, middle, born, passport, adr) in enumerate(INDIVIDUALS)]
    session.add_all([*addresses.values(), *groups.values(), *organisations.values(),
                     *insurers.values(), *individuals])
    return {"addresses": addresses, "groups": groups, "insurer": insurers,
            "organisation": organisations, "individual": individuals}


def _books(session: Session, units: dict[str, Unit]) -> dict:
    """Add contract templates, insurance terms, prepayment schemes, code templates."""
    net = units["NET"]
    books = {
        "templates": {code: ct.ContractTemplate(code=code, name=name, kind=kind,
                                                payment_scheme=scheme, unit=net,
                                                body=f"{name}. Текст утверждён приказом по сети.")
                      for code, name, kind, scheme in CONTRACT_TEMPLATES},
        "terms": {code: ct.InsuranceTerms(code=code, name=name, insurance=kind,
                                          period_months=months, policy_cost=cost, unit=net)
                  for code, name, kind, months, cost in TERMS},
        "schemes": {code: ct.PrepaymentSchemeTemplate(
            code=code, name=name, unit=net,
            steps=[ct.PrepaymentSchemeStep(days_after_start=days, share=D(share))
                   for days, share in steps]) for code, name, steps in SCHEMES},
        "code_templates": {code: ProgrammeCodeTemplate(code=code, name=name, pattern=pattern,
                                                       unit=net)
                           for code, name, pattern in CODE_TEMPLATES},
    }
    for book in books.values():
        session.add_all(book.values())
    return books


def _contracts(session: Session, units, parties, books) -> dict[str, ct.Contract]:
    categories = _by_code(session, rb.PriceCategory)
    contracts = {}
    for key, spec in CONTRACTS.items():
        spec = dict(spec)
        payer_kind, _, payer = spec.pop("payer").partition(":")
        payers = parties[payer_kind]
        contract = ct.Contract(
            number=spec["number"], signed_on=spec["signed_on"], kind=spec["kind"],
            payment_scheme=spec.get("payment_scheme", "postpaid"), branch=units[spec["branch"]],
            network=spec.get("network", False),
            branches=[units[c] for c in spec.get("served", ())],
            template=books["templates"].get(spec.get("template")),
            insurance_terms=books["terms"].get(spec.get("terms")),
            price_category=categories[spec["category"]], amount=spec.get("amount"),
            valid_from=spec["valid_from"], valid_to=spec["valid_to"], note=spec.get("note"),
            **{payer_kind: payers[int(payer)] if payer_kind == "individual" else payers[payer]})
        check_contract(session, contract, _Loader())
        session.add(contract)
        contracts[key] = contract
    prepaid = contracts["prepaid"]
    session.flush()
    replace_schedule(session, prepaid,
                     schedule_from_template(prepaid, books["schemes"]["THIRDS-60"]))
    return contracts


def _programmes(session: Session, contracts, books) -> dict[str, Programme]:
    types = _by_code(session, rb.PriceType)
    names = {s for *_head, items in PROGRAMMES for s, _n in items}
    services = {s.name: s for s in session.scalars(select(pl.Service)
                                                   .where(pl.Service.name.in_(names)))}
    missing = names - services.keys()
    if missing:
        raise LookupError(f"services missing from the demo price list: {sorted(missing)}")
    programmes, numbers = {}, dict.fromkeys(contracts, 0)
    for key, name, template_code, price_type, max_cost, items in PROGRAMMES:
        contract, template = contracts[key], books["code_templates"][template_code]
        numbers[key] += 1
        terms = contract.insurance_terms
        programme = Programme(
            contract=contract, name=name, code_template=template,
            code=template.pattern.format(contract=contract.number, n=numbers[key]),
            price_type=types[price_type], period_months=terms.period_months if terms else 12,
            max_cost=max_cost, policy_cost=terms.policy_cost if terms else None,
            services=[ProgrammeService(service=services[s], max_count=n) for s, n in items])
        session.add(programme)
        programmes[name] = programme
    return programmes


def _guarantees(session: Session, contracts, programmes) -> list[ct.PaymentGuarantee]:
    """Add the guarantee letters and the programmes they name (checked like a user's)."""
    rows = []
    for key, number, issued, start, end, amount, names in GUARANTEES:
        guarantee = ct.PaymentGuarantee(contract=contracts[key], number=number, issued_on=issued,
                                        valid_from=start, valid_to=end, amount=amount,
                                        programmes=[programmes[name] for name in names])
        check_guarantee(session, guarantee)
        session.add(guarantee)
        rows.append(guarantee)
    session.flush()
    return rows


def _adults(rng: random.Random, patients, count: int, taken=frozenset()) -> list:
    """Return `count` patients of working age not in `taken`, chosen at random."""
    fit = [p for p in patients if 18 <= age(p.birth_date) < 70 and p not in taken
           and p.category.code not in ("PREG", "DISAB")]
    return rng.sample(fit, min(count, len(fit)))


def _attach(rng: random.Random, programme: Programme, patient, policy: str,
            start: dt.date | None = None, end: dt.date | None = None,
            branches=()) -> Attachment:
    contract = programme.contract
    if start is None:
        start = contract.valid_from if rng.random() < 0.6 else (
            contract.valid_from + dt.timedelta(days=rng.randrange(10, 200)))
    if end is None and contract.valid_to is not None:
        end = contract.valid_to
        if rng.random() < 0.15:  # left the employer before the end of the year
            end = min(start + dt.timedelta(days=rng.randrange(45, 150)), contract.valid_to)
    return Attachment(patient=patient, programme=programme, valid_from=start, valid_to=end,
                      policy_number=policy, branches=list(branches))


def _attachments(rng: random.Random, units, programmes, patients,
                 categories) -> list[Attachment]:
    """Attach MSK-TVR and MSK-ARB patients to the DMS programmes, SPB-NEV ones to the
    corporate programme of their branch; categories follow the attachment."""
    ambulatory = programmes["Амбулаторно-поликлиническая помощь"]
    dental = programmes["Стоматология"]
    network = programmes["Амбулаторно-поликлиническая помощь (сеть)"]
    corporate = programmes["Медицинское обслуживание сотрудников"]
    rows = []
    insured = _adults(rng, patients["MSK-TVR"], 50)
    for n, patient in enumerate(insured, 1):
        policy = f"ИГС-0126-{480_000 + n * 37:07d}"
        rows.append(_attach(rng, ambulatory, patient, policy))
        if n <= 20:
            first = rows[-1]
            rows.append(_attach(rng, dental, patient, policy, first.valid_from, first.valid_to))
    # One employee left in spring and came back in summer: two periods, no overlap.
    for row in rows[:2]:
        row.valid_from, row.valid_to = YEAR_START, dt.date(2026, 3, 31)
    rows.append(_attach(rng, ambulatory, insured[0], rows[0].policy_number,
                        dt.date(2026, 6, 15), YEAR_END))
    signing = units["MSK-MAR"]
    for n, patient in enumerate([*_adults(rng, patients["MSK-ARB"], 30),
                                 *_adults(rng, patients["MSK-TVR"], 5, set(insured))], 1):
        home = patient.home_branch
        branches = [home] if n % 3 else [home, signing]
        rows.append(_attach(rng, network, patient, f"РЕСО-26-{71_000 + n * 13:06d}",
                            branches=branches if n % 5 else ()))
    for n, patient in enumerate(_adults(rng, patients["SPB-NEV"], 8), 1):
        start = dt.date(2025, 9, 1) + dt.timedelta(days=30 * (n - 1))
        end = None if n % 2 else dt.date(2026, 8, 31)
        rows.append(_attach(rng, corporate, patient, f"БСС-{n:04d}", start, end,
                            [units["SPB-NEV"]] if n <= 4 else ()))
    for row in rows:
        if row.patient.category.code == "ADULT":
            code = "CORP" if row.programme is corporate else "DMS"
            row.patient.category = categories[code]
    return rows


def load_contracts(session: Session, units: dict[str, Unit]) -> dict[str, int]:
    """Add the demo payers, contracts, programmes, patients and attachments (flushed,
    not committed); return counts. Raises ValidationError if the data break a rule."""
    rng = random.Random(SEED)
    parties = _parties(session, units)
    books = _books(session, units)
    contracts = _contracts(session, units, parties, books)
    programmes = _programmes(session, contracts, books)
    guarantees = _guarantees(session, contracts, programmes)
    patient_categories = _by_code(session, rb.PatientCategory)
    patients = make_patients(session, rng, units, patient_categories)
    for patient in (p for ps in patients.values() for p in ps):
        check_patient(session, patient)
    attachments = _attachments(rng, units, programmes, patients, patient_categories)
    session.add_all(attachments)
    session.flush()
    for attachment in attachments:
        check_attachment(session, attachment)
    return {
        "organisations": len(parties["organisation"]), "insurers": len(parties["insurer"]),
        "individuals": len(parties["individual"]), "contracts": len(contracts),
        "programmes": len(programmes),
        "programme_services": sum(len(p.services) for p in programmes.values()),
        "guarantees": len(guarantees),
        "patients": sum(map(len, patients.values())), "attachments": len(attachments),
    }
