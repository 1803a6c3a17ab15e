"""What the voucher screens share: the governing right, the «Подтверждаю» box and
the lookups of diagnoses and vouchers. Who sees which vouchers («Доступ к талонам
других пользователей», «Редактирование талонов из ЭМК») is the voucher's scope
declaration (`models.vouchers.seen_by`), applied by the one scope filter.
"""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_
from wtforms import BooleanField

from models.staff import Diagnosis
from models.vouchers import Voucher
from views.lookup import Lookup

RIGHT = "voucher.other_vouchers"
#: The pager counts at most this many vouchers or lines (see UchetInterface.query_count).
COUNT_CAP = 10_000


def confirmed() -> bool:
    """Return True when the user confirmed the warnings (form box or ?confirm=1)."""
    value = request.values.get("confirm", "") if request else ""
    return value.lower() in ("1", "y", "yes", "true", "on")


def _diagnosis_where(words: list[str], _dates) -> list:
    """Diagnoses whose code starts with, or whose name holds, the typed text."""
    text = " ".join(words).replace("\\", "").replace("%", "").replace("_", "")
    return [or_(Diagnosis.code.ilike(text + "%"), Diagnosis.name.ilike("%" + text + "%"))]


def _voucher_where(words: list[str], _dates) -> list:
    """The voucher whose number (id) is typed (the lookup keeps it if the user may see it)."""
    number = words[0].lstrip("№") if words else ""
    if not (number.isdecimal() and len(number) < 18):
        return [false()]
    return [Voucher.id == int(number)]


DIAGNOSIS_LOOKUP = Lookup(Diagnosis, _diagnosis_where, lambda: [Diagnosis.code])
VOUCHER_LOOKUP = Lookup(Voucher, _voucher_where, lambda: [Voucher.id])


CONFIRM = BooleanField(_l("Подтверждаю"), description=_l(
    "Отметьте, чтобы сохранить, несмотря на предупреждения"))

