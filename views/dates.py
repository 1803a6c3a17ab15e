"""Russian date fields for every generated form: typed and shown as ДД.ММ.ГГГГ
(date-times ДД.ММ.ГГГГ ЧЧ:ММ in the configured zone) with a Russian calendar
(uchet.js), a Russian message for a date that is not one, and the typed text kept.

FAB builds its forms with WTForms' DateField and a widget that prints the stored
value as ISO and drops what was typed on an error; `russian_form()` swaps those
fields, and names FAB's empty choice, in one place for every UchetModelView.
"""

from __future__ import annotations

from flask_appbuilder.fields import QuerySelectField
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import DateField, DateTimeField, Field
from wtforms.fields.core import UnboundField
from wtforms.widgets import html_params

from services.dates import (
    DATE_SHOWN,
    DATETIME_SHOWN,
    parse_date,
    parse_local_datetime,
    to_local,
)

#: The empty choice of a link that may stay empty (FAB shows its value «__None»).
NOTHING_CHOSEN = _l("— не выбрано —")


class RussianDateWidget:
    """A text input with a calendar button; `kind` is "date" or "datetime"."""

    template = ('<div class="input-group date uchet-date" data-kind="%(kind)s">'
                '<span class="input-group-addon"><i class="fa fa-calendar cursor-hand"></i>'
                '</span><input %(params)s></div>')

    def __init__(self, kind: str = "date"):
        self.kind = kind

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs.setdefault("placeholder", field.placeholder)
        kwargs["class"] = ("form-control " + kwargs.get("class", "")).strip()
        params = html_params(type="text", value=field._value(), autocomplete="off", **kwargs)
        return Markup(self.template % {"kind": self.kind, "params": params})


class RussianDateField(Field):
    """A date typed as ДД.ММ.ГГГГ (ISO accepted too); a non-date is refused with a
    Russian message and stays in the field as typed."""

    widget = RussianDateWidget("date")
    placeholder = _l("ДД.ММ.ГГГГ")
    message = _l("Введите дату в виде ДД.ММ.ГГГГ, например 01.12.2026")

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime(DATE_SHOWN) if self.data else ""

    def _parse(self, text: str):
        return parse_date(text)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = self._parse(text) if text else None
        if text and self.data is None:
            raise ValueError(str(self.message))


class RussianDateTimeField(RussianDateField):
    """A moment typed as ДД.ММ.ГГГГ ЧЧ:ММ in the configured zone, kept as UTC."""

    widget = RussianDateWidget("datetime")
    placeholder = _l("ДД.ММ.ГГГГ ЧЧ:ММ")
    message = _l("Введите дату и время в виде ДД.ММ.ГГГГ ЧЧ:ММ, например 01.12.2026 09:30")

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(DATETIME_SHOWN) if self.data else ""

    def _parse(self, text: str):
        return parse_local_datetime(text)


def _russian(unbound: UnboundField) -> UnboundField | None:
    """Return the Russian replacement of a FAB form field, or None to keep it."""
    cls, kwargs = unbound.field_class, dict(unbound.kwargs)
    if issubclass(cls, DateTimeField) and not issubclass(cls, RussianDateField):
        kwargs.pop("widget", None)
        kwargs.pop("format", None)
        target = RussianDateField if issubclass(cls, DateField) else RussianDateTimeField
        return UnboundField(target, *unbound.args, **kwargs)
    if issubclass(cls, QuerySelectField) and kwargs.get("allow_blank") \
            and not kwargs.get("blank_text"):
        kwargs["blank_text"] = NOTHING_CHOSEN
        return UnboundField(cls, *unbound.args, **kwargs)
    return None


def russian_form(form_class):
    """Swap the date fields of a generated form class for Russian ones and name
    its empty choices; returns the same class (changed in place)."""
    if form_class is None:
        return None
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField):
            replacement = _russian(unbound)
            if replacement is not None:
                # Keeps the field's place in the form (WTForms orders by creation counter).
                replacement.creation_counter = unbound.creation_counter
                setattr(form_class, name, replacement)
    return form_class
