"""The rules of single reference books (their shared rules, unique codes and
references, are in `services.refbooks.rules`): colours, exchange rates, taxes, fiscal
register sections, discounts."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from core.errors import ValidationError
from models.refbooks import Colour, Discount, ExchangeRate, PaymentSection, Tax

HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def check_colour(_session, item: Colour) -> None:
    """Raise ValidationError unless the colour is #RRGGBB; store it in capitals."""
    if not item.hex or not HEX.fullmatch(item.hex.strip()):
        raise ValidationError(_("Цвет задаётся в формате #RRGGBB, например #1E90FF"), field="hex")
    item.hex = item.hex.strip().upper()


def check_exchange_rate(_session, item: ExchangeRate) -> None:
    """Raise ValidationError for a rate that is not above zero."""
    if item.value is None or item.value <= 0:
        raise ValidationError(_("Курс должен быть больше нуля"), field="value")


def check_tax(_session, item: Tax) -> None:
    """Raise ValidationError for a tax rate outside 0–100 %."""
    if item.rate is None or not 0 <= item.rate <= 100:
        raise ValidationError(_("Ставка налога — от 0 до 100 %"), field="rate")


def check_payment_section(_session, item: PaymentSection) -> None:
    """Raise ValidationError for a fiscal register section that is not above zero."""
    if item.register_section is None or item.register_section <= 0:
        raise ValidationError(_("Номер секции ФР должен быть больше нуля"),
                              field="register_section")


def check_discount(_session, item: Discount) -> None:
    """Raise ValidationError unless exactly one of percent (0–100] and amount (> 0)
    is given, within a coherent period."""
    if (item.percent is None) == (item.amount is None):
        raise ValidationError(_("Укажите либо процент, либо сумму скидки (надбавки)"))
    if item.percent is not None and not 0 < item.percent <= 100:
        raise ValidationError(_("Процент — больше 0 и не больше 100"), field="percent")
    if item.amount is not None and item.amount <= 0:
        raise ValidationError(_("Сумма должна быть больше нуля"), field="amount")
    if item.valid_to is not None and item.valid_from and item.valid_to < item.valid_from:
        raise ValidationError(_("Дата окончания раньше даты начала"), field="valid_to")
