"""The sixteen reference books, one declaration each (section «Справочники»)."""

from __future__ import annotations

import re

from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext as _
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
from services.errors import ValidationError
from views.formatters import choice_label
from views.refbook import RefBook, register_refbook

HEX = re.compile(r"#[0-9A-Fa-f]{6}")
CODE_NAME = ("code", "name", "active")


def swatch(value) -> Markup:
    """Return the colour as a small coloured square and its code."""
    if not value:
        return Markup("")
    safe = escape(value)
    return Markup(f'<span style="display:inline-block;width:1.2em;height:1.2em;'
                  f'background:{safe};border:1px solid #999;vertical-align:middle"></span> {safe}')


def _check_colour(_session, item: Colour) -> None:
    if not item.hex or not HEX.fullmatch(item.hex.strip()):
        raise ValidationError(_("Цвет задаётся в формате #RRGGBB, например #1E90FF"), field="hex")
    item.hex = item.hex.strip().upper()


def _check_rate(_session, item: ExchangeRate) -> None:
    if item.value is None or item.value <= 0:
        raise ValidationError(_("Курс должен быть больше нуля"), field="value")


def _check_tax(_session, item: Tax) -> None:
    if item.rate is None or not 0 <= item.rate <= 100:
        raise ValidationError(_("Ставка налога — от 0 до 100 %"), field="rate")


def _check_section(_session, item: PaymentSection) -> None:
    if item.register_section is None or item.register_section <= 0:
        raise ValidationError(_("Номер секции ФР должен быть больше нуля"),
                              field="register_section")


def _check_discount(_session, item: Discount) -> None:
    if (item.percent is None) == (item.amount is None):
        raise ValidationError(_("Укажите либо процент, либо сумму скидки (надбавки)"))
    if item.percent is not None and not 0 < item.percent <= 100:
        raise ValidationError(_("Процент — больше 0 и не больше 100"), field="percent")
    if item.amount is not None and item.amount <= 0:
        raise ValidationError(_("Сумма должна быть больше нуля"), field="amount")
    if item.valid_to is not None and item.valid_from and item.valid_to < item.valid_from:
        raise ValidationError(_("Дата окончания раньше даты начала"), field="valid_to")


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
            ("code", "name", "register_section", "active"), validate=_check_section),
    RefBook(PatientCategory, "refbook.patient_categories", "PatientCategories", "refbooks",
            CODE_NAME),
    RefBook(Currency, "refbook.currencies", "Currencies", "refbooks",
            ("code", "name", "symbol", "active")),
    RefBook(ExchangeRate, "refbook.exchange_rates", "ExchangeRates", "refbooks",
            ("currency", "rate_type", "on_date", "value"), order=("on_date", "desc"),
            search_columns=("currency", "rate_type", "on_date"), validate=_check_rate),
    RefBook(RateType, "refbook.rate_types", "RateTypes", "refbooks", CODE_NAME),
    RefBook(Tax, "refbook.taxes", "Taxes", "refbooks", ("code", "name", "rate", "active"),
            validate=_check_tax),
    RefBook(Discount, "refbook.discounts", "Discounts", "refbooks",
            ("code", "name", "kind", "percent", "amount", "valid_from", "valid_to", "active"),
            edit_columns=("code", "name", "kind", "percent", "amount", "min_total", "max_amount",
                          "valid_from", "valid_to", "active"),
            formatters={"kind": choice_label(DISCOUNT_KINDS)},
            extra=_choices("kind", _l("Вид"), DISCOUNT_KINDS), validate=_check_discount),
    RefBook(RiskType, "refbook.risk_types", "RiskTypes", "refbooks", CODE_NAME),
    RefBook(ExportCode, "refbook.export_codes", "ExportCodes", "refbooks",
            ("code", "name", "account", "active")),
    RefBook(Colour, "refbook.colours", "Colours", "refbooks", ("code", "name", "hex", "active"),
            formatters={"hex": swatch}, validate=_check_colour),
]

for _book in REFBOOKS:
    register_refbook(_book)
