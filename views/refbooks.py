"""The sixteen reference books, one declaration each (section «Справочники»)."""

from __future__ import annotations

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
from services.refbook_rules import (
    check_colour,
    check_discount,
    check_exchange_rate,
    check_payment_section,
    check_tax,
)
from views.formatters import choice_label
from views.refbook import RefBook, register_refbook

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

REFBOOKS = [
    RefBook(BaseDepartment, "refbook.base_departments", "BaseDepartments", "refbooks", CODE_NAME),
    RefBook(DepartmentProfile, "refbook.department_profiles", "DepartmentProfiles", "refbooks",
            CODE_NAME),
    RefBook(Department, "refbook.departments", "Departments", "refbooks",
            ("code", "name", "branch", "base_department", "profile", "active"),
            extra=BRANCH_FILTERS),
    RefBook(PriceType, "refbook.price_types", "PriceTypes", "refbooks",
            ("code", "name", "funding", "active"), formatters={"funding": choice_label(FUNDING)},
            extra=_choices("funding", _l("Источник оплаты"), FUNDING)),
    RefBook(PriceCategory, "refbook.price_categories", "PriceCategories", "refbooks",
            ("code", "name", "price_type", "active"),
            edit_columns=("code", "name", "price_type", "branches", "active"),
            extra=BRANCH_FILTERS),
    RefBook(PaymentMethod, "refbook.payment_methods", "PaymentMethods", "refbooks",
            ("code", "name", "cashless", "active")),
    RefBook(PaymentSection, "refbook.payment_sections", "PaymentSections", "refbooks",
            ("code", "name", "register_section", "active"), validate=check_payment_section),
    RefBook(PatientCategory, "refbook.patient_categories", "PatientCategories", "refbooks",
            CODE_NAME),
    RefBook(Currency, "refbook.currencies", "Currencies", "refbooks",
            ("code", "name", "symbol", "active")),
    RefBook(ExchangeRate, "refbook.exchange_rates", "ExchangeRates", "refbooks",
            ("currency", "rate_type", "on_date", "value"), order=("on_date", "desc"),
            search_columns=("currency", "rate_type", "on_date"), validate=check_exchange_rate),
    RefBook(RateType, "refbook.rate_types", "RateTypes", "refbooks", CODE_NAME),
    RefBook(Tax, "refbook.taxes", "Taxes", "refbooks", ("code", "name", "rate", "active"),
            validate=check_tax),
    RefBook(Discount, "refbook.discounts", "Discounts", "refbooks",
            ("code", "name", "kind", "percent", "amount", "valid_from", "valid_to", "active"),
            edit_columns=("code", "name", "kind", "percent", "amount", "min_total", "max_amount",
                          "valid_from", "valid_to", "active"),
            formatters={"kind": choice_label(DISCOUNT_KINDS)},
            extra=_choices("kind", _l("Вид"), DISCOUNT_KINDS), validate=check_discount),
    RefBook(RiskType, "refbook.risk_types", "RiskTypes", "refbooks", CODE_NAME),
    RefBook(ExportCode, "refbook.export_codes", "ExportCodes", "refbooks",
            ("code", "name", "account", "active")),
    RefBook(Colour, "refbook.colours", "Colours", "refbooks", ("code", "name", "hex", "active"),
            formatters={"hex": swatch}, validate=check_colour),
]

for _book in REFBOOKS:
    register_refbook(_book)
