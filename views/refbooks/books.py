"""The sixteen reference books, one declaration each (section «Справочники»), with
their demo rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectField

from models.refbooks import (
    BaseDepartment,
    Colour,
    Currency,
    Department,
    DepartmentProfile,
    Discount,
    ExchangeRate,
    ExportCode,
    PatientCategory,
    PaymentMethod,
    PaymentSection,
    PriceCategory,
    PriceType,
    RateType,
    RiskType,
    Tax,
)
from services.refbooks.books import (
    check_colour,
    check_discount,
    check_exchange_rate,
    check_payment_section,
    check_tax,
)
from views.formatters import choice_label
from views.refbook import RefBook, register_refbook, table

D = Decimal
CODE_NAME = ("code", "name", "active")


def swatch(value) -> Markup:
    """Return the colour as a small coloured square and its code."""
    if not value:
        return Markup("")
    safe = escape(value)
    return Markup(f'<span style="display:inline-block;width:1.2em;height:1.2em;'
                  f'background:{safe};border:1px solid #999;vertical-align:middle"></span> {safe}')


FUNDING = {"paid": _l("Платные услуги"), "oms": _l("ОМС"), "dms": _l("ДМС")}
DISCOUNT_KINDS = {"discount": _l("Скидка"), "markup": _l("Надбавка")}


def _choices(column: str, label, options: dict) -> dict:
    field = SelectField(label, choices=list(options.items()))
    return {"add_form_extra_fields": {column: field}, "edit_form_extra_fields": {column: field}}


BRANCHES_ONLY = {"branch": [["kind", FilterEqual, "branch"]],
                 "branches": [["kind", FilterEqual, "branch"]]}
BRANCH_FILTERS = {"add_form_query_rel_fields": BRANCHES_ONLY,
                  "edit_form_query_rel_fields": BRANCHES_ONLY,
                  "add_query_rel_fields": BRANCHES_ONLY,
                  "edit_query_rel_fields": BRANCHES_ONLY}

# Demo rows. The departments (one per department of the org tree), the price
# categories (by region) and the exchange rates are written by demo.refbooks.
# code (= the suffix of the org tree's departments), name, its profile
_BASES = [
    ("THR", "Терапия", "Терапевтический"), ("PRC", "Процедурный кабинет", "Сестринское дело"),
    ("LAB", "Клиническая лабораторная диагностика", "Лабораторная диагностика"),
    ("USD", "Ультразвуковая диагностика", "Ультразвуковая диагностика"),
    ("FD", "Функциональная диагностика", "Функциональная диагностика"),
    ("DNT", "Стоматология", "Стоматология общей практики"), ("PED", "Педиатрия", "Педиатрический"),
    ("GYN", "Гинекология", "Акушерство и гинекология"), ("SRG", "Хирургия", "Хирургический"),
    ("XRY", "Рентгенология", "Рентгенологический")]
BASE_DEPARTMENTS = table("code name", *((c, n) for c, n, _p in _BASES))
DEPARTMENT_PROFILES = table("code name", *((c, p) for c, _n, p in _BASES))
PRICE_TYPES = table("code name funding", ("PAID", "Платные услуги", "paid"), ("OMS", "ОМС", "oms"),
                    ("DMS", "ДМС", "dms"))
PAYMENT_METHODS = table(
    "code name cashless", ("CASH", "Наличные", False), ("CARD", "Банковская карта", True),
    ("SBP", "СБП (Система быстрых платежей)", True), ("BANK", "Безналичный расчёт", True),
    ("DEPOSIT", "Депозит", True))
PAYMENT_SECTIONS = table(
    "code name register_section", ("MED", "Медицинские услуги", 1),
    ("LAB", "Лабораторные исследования", 2), ("OTH", "Прочие услуги", 3))
PATIENT_CATEGORIES = table(
    "code name", ("ADULT", "Взрослые"), ("CHILD", "Дети до 18 лет"), ("PENS", "Пенсионеры"),
    ("STAFF", "Сотрудники сети"), ("VET", "Ветераны боевых действий"),
    ("DISAB", "Инвалиды I и II группы"), ("PREG", "Беременные"),
    ("DMS", "Застрахованные по ДМС"), ("CORP", "Сотрудники клиентов-организаций"))
CURRENCIES = table(
    "code name symbol", ("RUB", "Российский рубль", "₽"), ("USD", "Доллар США", "$"),
    ("EUR", "Евро", "€"), ("KZT", "Казахстанский тенге", "₸"))
RATE_TYPES = table("code name", ("CBR", "ЦБ РФ"), ("INT", "Внутренний"))
TAXES = table("code name rate", ("NOVAT", "Без НДС", D(0)), ("VAT10", "НДС 10%", D(10)),
              ("VAT20", "НДС 20%", D(20)))
RISK_TYPES = table(
    "code name", ("AMB", "Амбулаторно-поликлиническая помощь"),
    ("DENT", "Стоматологическая помощь"), ("HOSP", "Стационарная помощь (плановая)"),
    ("EMRG", "Экстренная госпитализация"), ("HOME", "Помощь на дому"),
    ("LABD", "Лабораторная и инструментальная диагностика"),
    ("REHAB", "Восстановительное лечение"))
EXPORT_CODES = table(
    "code name account", ("PAID", "Медицинские услуги (платные)", "90.01.1"),
    ("DMS", "Медицинские услуги по ДМС", "90.01.2"),
    ("OMS", "Медицинские услуги по ОМС", "90.01.3"), ("TFOMS", "Расчёты с ТФОМС", "76.09"),
    ("LAB", "Лабораторные исследования для организаций", "90.01.4"),
    ("OTHER", "Прочие услуги (облагаемые НДС)", "90.01.5"),
    ("ADV", "Авансы полученные от пациентов", "62.02"))
COLOURS = table(
    "code name hex", ("RED", "Красный", "#E53935"), ("ORANGE", "Оранжевый", "#FB8C00"),
    ("YELLOW", "Жёлтый", "#FDD835"), ("GREEN", "Зелёный", "#43A047"),
    ("TEAL", "Бирюзовый", "#00897B"), ("BLUE", "Синий", "#1E88E5"),
    ("PURPLE", "Фиолетовый", "#8E24AA"), ("GREY", "Серый", "#757575"))


def discounts() -> tuple[dict, ...]:
    """Return the demo discounts and markups, dated within this year and the last."""
    year = dt.date.today().year
    start, prev, end = dt.date(year, 1, 1), dt.date(year - 1, 1, 1), dt.date(year, 12, 31)
    return table(
        "code name kind percent amount min_total max_amount valid_from valid_to",
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
    )


REFBOOKS = [
    RefBook(BaseDepartment, "refbook.base_departments", "BaseDepartments", "refbooks", CODE_NAME,
            samples=BASE_DEPARTMENTS),
    RefBook(DepartmentProfile, "refbook.department_profiles", "DepartmentProfiles", "refbooks",
            CODE_NAME, samples=DEPARTMENT_PROFILES),
    RefBook(Department, "refbook.departments", "Departments", "refbooks",
            ("code", "name", "branch", "base_department", "profile", "active"),
            extra=BRANCH_FILTERS),
    RefBook(PriceType, "refbook.price_types", "PriceTypes", "refbooks",
            ("code", "name", "funding", "active"), formatters={"funding": choice_label(FUNDING)},
            extra=_choices("funding", _l("Источник оплаты"), FUNDING), samples=PRICE_TYPES),
    RefBook(PriceCategory, "refbook.price_categories", "PriceCategories", "refbooks",
            ("code", "name", "price_type", "active"),
            edit_columns=("code", "name", "price_type", "branches", "active"),
            extra=BRANCH_FILTERS),
    RefBook(PaymentMethod, "refbook.payment_methods", "PaymentMethods", "refbooks",
            ("code", "name", "cashless", "active"), samples=PAYMENT_METHODS),
    RefBook(PaymentSection, "refbook.payment_sections", "PaymentSections", "refbooks",
            ("code", "name", "register_section", "active"), validate=check_payment_section,
            samples=PAYMENT_SECTIONS),
    RefBook(PatientCategory, "refbook.patient_categories", "PatientCategories", "refbooks",
            CODE_NAME, samples=PATIENT_CATEGORIES),
    RefBook(Currency, "refbook.currencies", "Currencies", "refbooks",
            ("code", "name", "symbol", "active"), samples=CURRENCIES),
    RefBook(ExchangeRate, "refbook.exchange_rates", "ExchangeRates", "refbooks",
            ("currency", "rate_type", "on_date", "value"), order=("on_date", "desc"),
            search_columns=("currency", "rate_type", "on_date"), validate=check_exchange_rate),
    RefBook(RateType, "refbook.rate_types", "RateTypes", "refbooks", CODE_NAME,
            samples=RATE_TYPES),
    RefBook(Tax, "refbook.taxes", "Taxes", "refbooks", ("code", "name", "rate", "active"),
            validate=check_tax, samples=TAXES),
    RefBook(Discount, "refbook.discounts", "Discounts", "refbooks",
            ("code", "name", "kind", "percent", "amount", "valid_from", "valid_to", "active"),
            edit_columns=("code", "name", "kind", "percent", "amount", "min_total", "max_amount",
                          "valid_from", "valid_to", "active"),
            formatters={"kind": choice_label(DISCOUNT_KINDS)},
            extra=_choices("kind", _l("Вид"), DISCOUNT_KINDS), validate=check_discount,
            samples=discounts),
    RefBook(RiskType, "refbook.risk_types", "RiskTypes", "refbooks", CODE_NAME,
            samples=RISK_TYPES),
    RefBook(ExportCode, "refbook.export_codes", "ExportCodes", "refbooks",
            ("code", "name", "account", "active"), samples=EXPORT_CODES),
    RefBook(Colour, "refbook.colours", "Colours", "refbooks", ("code", "name", "hex", "active"),
            formatters={"hex": swatch}, validate=check_colour, samples=COLOURS),
]

for _book in REFBOOKS:
    register_refbook(_book)
