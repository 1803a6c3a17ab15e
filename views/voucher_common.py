"""What the voucher screens share: the governing right, who sees which vouchers
(«Доступ к талонам других пользователей», «Редактирование талонов из ЭМК»), the
«Подтверждаю» box and the lookups of diagnoses and vouchers.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, or_, select
from wtforms import BooleanField

from models.staff import Diagnosis, Employee
from models.vouchers import (
    Voucher,
    VoucherLine,
)
from security.effective import current
from services.voucher_rules import (
    EMR_RIGHT,
)
from views.lookup import Lookup

RIGHT = "voucher.other_vouchers"
#: The pager counts at most this many vouchers or lines (see UchetInterface.query_count).
COUNT_CAP = 10_000


def confirmed() -> bool:
    """Return True when the user confirmed the warnings (form box or ?confirm=1)."""
    value = request.values.get("confirm", "") if request else ""
    return value.lower() in ("1", "y", "yes", "true", "on")


def visible_vouchers(rights):
    """Return the clause keeping the vouchers a user sees beyond his branch scope (None:
    no restriction): without «Доступ к талонам других пользователей» those he created
    or where he is the main doctor; without «Редактирование талонов из ЭМК» none of
    the vouchers formed in the EMR."""
    if rights.is_admin:
        return None
    clauses = []
    if not rights.flag("voucher.others_access"):
        doctor_of = select(Employee.id).where(Employee.user_id == rights.user_id)
        clauses.append(or_(Voucher.created_by_id == rights.user_id,
                           Voucher.doctor_id.in_(doctor_of.scalar_subquery())))
    if not rights.at_least(EMR_RIGHT, "view"):
        clauses.append(Voucher.source != "emr")
    return and_(*clauses) if clauses else None


class FilterOthersVouchers(BaseFilter):
    """Without «Доступ к талонам других пользователей» a user sees the vouchers he
    created and those where he is the main doctor."""

    name = "Свои талоны"
    arg_name = "uchet_own_vouchers"

    def apply(self, query, value):
        clause = visible_vouchers(current())
        return query if clause is None else query.filter(clause)


class FilterOthersLines(FilterOthersVouchers):
    """The lines of the vouchers a user may see (see FilterOthersVouchers)."""

    arg_name = "uchet_own_voucher_lines"

    def apply(self, query, value):
        clause = visible_vouchers(current())
        if clause is None:
            return query  # no "IN (every voucher)" for those who see them all
        # Correlated: a page of lines probes its vouchers by key, instead of building
        # the set of every visible voucher first.
        return query.filter(exists().where(Voucher.id == VoucherLine.voucher_id, clause))


def _diagnosis_where(words: list[str], _dates) -> list:
    """Diagnoses whose code starts with, or whose name holds, the typed text."""
    text = " ".join(words).replace("\\", "").replace("%", "").replace("_", "")
    return [or_(Diagnosis.code.ilike(text + "%"), Diagnosis.name.ilike("%" + text + "%"))]


def _voucher_where(words: list[str], _dates) -> list:
    """The voucher whose number (id) is typed, if the user may see it."""
    number = words[0].lstrip("№") if words else ""
    if not (number.isdecimal() and len(number) < 18):
        return [false()]
    visible = visible_vouchers(current())
    return [Voucher.id == int(number), *([] if visible is None else [visible])]


DIAGNOSIS_LOOKUP = Lookup(Diagnosis, _diagnosis_where, lambda: [Diagnosis.code])
VOUCHER_LOOKUP = Lookup(Voucher, _voucher_where, lambda: [Voucher.id])


CONFIRM = BooleanField(_l("Подтверждаю"), description=_l(
    "Отметьте, чтобы сохранить, несмотря на предупреждения"))

