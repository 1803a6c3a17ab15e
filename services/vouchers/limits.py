"""Programme limits of a line paid under an attachment: the service count and the
treatment cost per insurance period, with the seed's four options for an excess
(forbid, charge the patient, warn and charge the patient, warn) and the right
that forbids moving an excess to the patient; warning thresholds of the
parameters (remaining amount, approaching the count limit).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import func, select

from models.base import fk_value, lock_row
from models.patients import Attachment
from models.programmes import Programme, ProgrammeService
from models.vouchers import Voucher, VoucherLine
from security.policies import Policies
from services.contracts.rules import money


def insurance_period(attachment: Attachment, programme: Programme, on: dt.date
                     ) -> tuple[dt.date, dt.date]:
    """Return the insurance period (first and last day) of the attachment holding `on`:
    periods of `period_months` counted from the attachment's start."""
    return period_of(attachment.valid_from, programme.period_months, on)


def period_of(valid_from: dt.date, period_months: int | None, on: dt.date
              ) -> tuple[dt.date, dt.date]:
    """Return the insurance period (first and last day) holding `on` of an attachment
    starting `valid_from` (plain values: the voucher import's too)."""
    months = max(period_months or 12, 1)
    elapsed = (on.year - valid_from.year) * 12 + on.month - valid_from.month
    start = valid_from + relativedelta(months=elapsed - elapsed % months)
    if start > on:
        start -= relativedelta(months=months)
    return start, start + relativedelta(months=months) - dt.timedelta(days=1)


def _used(session, line: VoucherLine, attachment_id: int, start: dt.date, end: dt.date,
          column, service_id: int | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(column), 0)).where(
        VoucherLine.attachment_id == attachment_id, VoucherLine.service_date >= start,
        VoucherLine.service_date <= end, VoucherLine.state != "cancelled")
    if service_id is not None:
        query = query.where(VoucherLine.service_id == service_id)
    if line.id is not None:
        query = query.where(VoucherLine.id != line.id)
    with session.no_autoflush:
        return Decimal(session.scalar(query))


def _to_patient(line: VoucherLine) -> None:
    """Move the line to the patient's account; the caller prices it again."""
    line.payer_kind = "patient"
    line.attachment = None
    line.contract = None
    line.price_type = None
    line.price_type_id = None
    line.price = None


def excess(checks: Policies, option_code: str, text: str) -> bool:
    """Apply the option for an excess (forbid / charge the patient / warn and charge /
    warn); returns True when the line moves to the patient.

    Raises PolicyRefused when the option or «Запретить перенос превышения на пациента»
    forbids it."""
    option = checks.rights.value(option_code)
    if option == "forbid":
        checks.refuse(option_code, text)
        checks.stop_if_refused()
    to_patient = option in ("charge_patient", "warn_charge_patient")
    if to_patient and checks.rights.value("voucher.forbid_excess_to_patient") == "yes":
        checks.refuse("voucher.forbid_excess_to_patient",
                      _("%(t)s. Перенос превышения на пациента запрещён", t=text))
        checks.stop_if_refused()
    moved = option == "charge_patient" or (option == "warn_charge_patient" and checks.confirmed)
    if option == "warn_charge_patient":
        checks.warn(option_code, _("%(t)s: услуга будет проведена за счёт пациента", t=text))
    elif option != "charge_patient":
        checks.warn(option_code,
                    _("%(t)s: услуга будет проведена по программе сверх лимита", t=text))
    return moved


def check_limits(session, line: VoucherLine, voucher: Voucher, checks: Policies, *,
                 ignore: bool = False) -> None:
    """Apply the programme's limits to a line paid under an attachment, recording
    warnings in `checks` (the save's policy decisions, with the user's rights and
    whether he confirmed); may move the line to the patient (payer_kind becomes
    "patient", price cleared).

    Raises PolicyRefused when the rights forbid the excess. `ignore` skips the
    limits (a bulk recalculation under «Игнорировать превышения ограничений…»).
    """
    rights = checks.rights
    if line.payer_kind != "attachment" or ignore or rights.flag("voucher.post_ignore_limits"):
        return
    attachment = line.attachment or session.get(Attachment, line.attachment_id)
    lock_row(session, Attachment, attachment.id)  # one save at a time spends its limits
    programme = attachment.programme
    start, end = insurance_period(attachment, programme, voucher.service_date)
    service_id = fk_value(line, "service_id")  # a form sets the relationship, not the key
    entry = session.scalar(select(ProgrammeService).where(
        ProgrammeService.programme_id == programme.id,
        ProgrammeService.service_id == service_id))
    max_count = entry.max_count if entry is not None else None
    if max_count is not None:
        used = _used(session, line, attachment.id, start, end, VoucherLine.quantity,
                     service_id)
        if count_limit(checks, programme.name, max_count, used, line.quantity, start, end):
            _to_patient(line)
            return
    if programme.max_cost is not None:
        used = _used(session, line, attachment.id, start, end, VoucherLine.amount)
        if cost_limit(checks, programme.name, programme.max_cost, used, line.amount):
            _to_patient(line)


def count_limit(checks: Policies, programme: str, max_count: int, used, quantity: int,
                start: dt.date, end: dt.date) -> bool:
    """Apply the programme's count limit of a service to a line of `quantity` when
    `used` were taken in the period; returns True when the line moves to the patient
    (warnings recorded in `checks`). Plain values: the voucher import's too.

    Raises PolicyRefused."""
    rights = checks.rights
    left = max_count - used
    if quantity > left:
        return excess(checks, "voucher.programme_count_exceeded",
                      _("Превышен лимит количества услуги по программе «%(p)s»: осталось "
                        "%(n)s за период с %(s)s по %(e)s", p=programme, n=left,
                        s=f"{start:%d.%m.%Y}", e=f"{end:%d.%m.%Y}"))
    threshold = int(rights.value("params.warn_count_limit") or 0)
    if threshold and left - quantity <= threshold:
        checks.warn("params.warn_count_limit", _("По программе «%(p)s» остаётся услуг: "
                                                 "%(n)s", p=programme, n=left - quantity))
    return False


def cost_limit(checks: Policies, programme: str, max_cost: Decimal, used: Decimal,
               amount: Decimal) -> bool:
    """Apply the programme's treatment cost limit to a line of `amount` when `used`
    was spent in the period; returns True when the line moves to the patient.

    Raises PolicyRefused."""
    left = max_cost - used
    if amount > left:
        return excess(checks, "voucher.programme_cost_exceeded",
                      _("Превышена максимальная стоимость лечения по программе «%(p)s»: "
                        "осталось %(n)s", p=programme, n=money(left)))
    threshold = Decimal(checks.rights.value("params.warn_balance") or 0)
    if threshold and left - amount <= threshold:
        checks.warn("params.warn_balance", _("По программе «%(p)s» остаётся %(n)s",
                                             p=programme, n=money(left - amount)))
    return False
