"""What every saved value must satisfy, whatever screen or API it came through:
text trimmed and present where the column requires it, no longer than the column,
numbers within what the column can store. Each refusal is a Russian message
naming the field; without it the database would refuse with an error in English
(a 422 or a flashed driver message) or, for SQLite, silently keep a value that
PostgreSQL would refuse.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String, Text
from sqlalchemy import inspect as sa_inspect

from core.errors import ValidationError
from services.inn import valid_inn

INT_LIMITS = ((BigInteger, 2**63 - 1), (SmallInteger, 2**15 - 1), (Integer, 2**31 - 1))


def _label(column, key: str):
    return column.info.get("label", key)


def _integer_limit(column_type) -> int | None:
    for kind, limit in INT_LIMITS:
        if isinstance(column_type, kind):
            return limit
    return None


def _check_number(column, key: str, value) -> None:
    column_type = column.type
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        if not isinstance(value, Decimal) or column_type.precision is None:
            return
        if not value.is_finite():
            raise ValidationError(_("Поле «%(f)s»: укажите число", f=_label(column, key)),
                                  field=key)
        scale = column_type.scale or 0
        # copy_abs is exact; abs() rounds to the context and overflows on 1e1000000.
        if value.copy_abs() >= Decimal(10) ** (column_type.precision - scale):
            raise ValidationError(_("Поле «%(f)s»: слишком большое число", f=_label(column, key)),
                                  field=key)
        if value != value.quantize(Decimal(1).scaleb(-scale)):
            raise ValidationError(
                _("Поле «%(f)s»: не больше %(n)s знаков после запятой",
                  f=_label(column, key), n=scale), field=key)
        return
    limit = _integer_limit(column_type)
    if limit is not None and isinstance(value, int) and not isinstance(value, bool) \
            and abs(value) > limit:
        raise ValidationError(_("Поле «%(f)s»: слишком большое число", f=_label(column, key)),
                              field=key)


def _changed(item, key: str) -> bool:
    """Return True for a new row's value or a stored row's changed one (a number
    stored before the check came in does not block other edits of its row)."""
    state = sa_inspect(item)
    return not state.persistent or state.attrs[key].history.has_changes()


def _checked_inn(column, key: str, value: str) -> str | None:
    """Return the ИНН to store: None for an empty one (an empty ИНН is no ИНН, and
    must match nothing, e.g. no other client's contracts in the cabinet).

    Raises ValidationError at the field unless it has 10 or 12 digits whose check
    digits agree."""
    if not value:
        return None
    if not valid_inn(value):
        raise ValidationError(
            _("Поле «%(f)s»: ИНН — 10 цифр (организация) или 12 цифр (физическое лицо, "
              "ИП) с верными контрольными цифрами", f=_label(column, key)), field=key)
    return value


def normalise_values(item) -> None:
    """Trim the text columns of `item` and refuse numbers or text its columns cannot hold.

    Raises ValidationError naming the first field at fault.
    """
    for attr in sa_inspect(type(item)).column_attrs:
        column, key = attr.columns[0], attr.key
        value = getattr(item, key, None)
        if value is None:
            continue
        if isinstance(value, str) and isinstance(column.type, String) \
                and not isinstance(column.type, Text):
            stripped = value.strip()
            if column.info.get("inn") and _changed(item, key):
                stripped = _checked_inn(column, key, stripped)
            if stripped != value:
                setattr(item, key, stripped)
            if stripped is None:
                continue
            length = column.type.length
            if length and len(stripped) > length:
                raise ValidationError(
                    _("Поле «%(f)s»: не длиннее %(n)s знаков", f=_label(column, key), n=length),
                    field=key)
        else:
            _check_number(column, key, value)


def check_required_text(item) -> None:
    """Refuse an empty text in a column that may not be empty (e.g. "  " sent to an API).

    Raises ValidationError naming the field.
    """
    for attr in sa_inspect(type(item)).column_attrs:
        column, key = attr.columns[0], attr.key
        if column.nullable or not isinstance(column.type, String):
            continue
        if column.default is not None and column.default.arg == "":
            continue  # filled by a flush hook (e.g. a patient's search key)
        value = getattr(item, key, None)
        if isinstance(value, str) and not value.strip():
            raise ValidationError(_("Заполните поле «%(f)s»", f=_label(column, key)), field=key)
