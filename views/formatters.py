"""Russian display of values on generated screens: Да/Нет, dd.mm.yyyy in Moscow
time, 5 400,00 for amounts, lists as "a, b", blank for nothing. Stored values stay
exact."""

from __future__ import annotations

from babel.numbers import parse_pattern
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _


def _yes_no(value) -> str:
    if value is None:
        return ""
    return _("Да") if value else _("Нет")


def _datetime(value) -> str:
    return "" if value is None else format_datetime(value, "dd.MM.yyyy HH:mm")


def _date(value) -> str:
    # What format_date(value, "dd.MM.yyyy") gives, without a locale and a pattern
    # looked up per cell (a date has no time zone to convert).
    return "" if value is None else f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def _number(scale: int):
    # Parsed once, not per cell as format_decimal(value, format=...) does; applied
    # with the request's locale (5 400,00 in Russian, 5,400.00 in English).
    pattern = parse_pattern("#,##0." + "0" * scale if scale else "#,##0")

    def _format(value) -> str:
        return "" if value is None else pattern.apply(value, get_locale())

    return _format


def _joined(values) -> str:
    return ", ".join(str(v) for v in values or [])


def _blank(value):
    return "" if value is None else value


def default_formatters(datamodel) -> dict:
    """Return Russian display formatters: Да/Нет, dd.mm.yyyy (Moscow time), blank for None."""
    formatters = {}
    for name in datamodel.get_columns_list():
        if datamodel.is_relation_many_to_many(name) or datamodel.is_relation_one_to_many(name):
            formatters[name] = _joined  # not "[<Unit 1>, <Unit 2>]"
        elif datamodel.is_boolean(name):
            formatters[name] = _yes_no
        elif datamodel.is_datetime(name):
            formatters[name] = _datetime
        elif datamodel.is_date(name):
            formatters[name] = _date
        elif datamodel.is_numeric(name):
            # 5 400,00 in Russian, 5,400.00 in English; the stored value stays exact.
            scale = getattr(datamodel.list_columns[name].type, "scale", None) or 0
            formatters[name] = _number(min(scale, 2))
        else:
            formatters[name] = _blank
    return formatters


def choice_label(options: dict):
    """Return a formatter showing a coded choice by its label ("oms" -> «ОМС»)."""
    return lambda value: options.get(value, value or "")
