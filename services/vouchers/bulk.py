"""Actions on many vouchers at once.

«Пересчет талонов»: lines priced and paid again as if entered today — the payer
re-resolved from the patient's attachments, the price read from the price list
valid on the service date. Paid, invoiced and cancelled lines stay as they are
(money is reversed, never silently changed); lines under a network contract need
«Разрешить пересчет талонов по сетевым прикреплениям».

«Поточное изменение врача»: one doctor set on the chosen vouchers, each passing
the voucher rules (closed period, other doctors', a voucher with services), all
or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from core.errors import UchetError, ValidationError
from models.staff import Employee
from models.vouchers import Voucher, VoucherLine
from services.vouchers.lines import check_line
from services.vouchers.rules import check_doctor, check_header

RIGHT = "voucher.recalculate"
DOCTOR_RIGHT = "voucher.bulk_change_doctor"
NETWORK_RIGHT = "voucher.recalculate_network"
KEPT_STATES = ("paid", "invoiced", "cancelled")


@dataclass
class Recalculated:
    """What a recalculation did: lines changed, lines left alone and why."""

    changed: int = 0
    unchanged: int = 0
    kept: int = 0  # paid, invoiced or cancelled: not recalculated
    skipped: list[str] = field(default_factory=list)


def _snapshot(line: VoucherLine) -> tuple:
    return (line.payer_kind, line.attachment_id, line.contract_id, line.price_type_id,
            line.price, line.amount)


def recalculate(session, vouchers: list[Voucher], rights, user_id: int | None
                ) -> Recalculated:
    """Re-price and re-resolve the payers of the vouchers' open lines (flushed, not
    committed). A voucher a rule refuses (closed period, another doctor's…) is skipped
    whole, with the reason.

    Raises ValidationError without «Разрешить пересчет талонов».
    """
    if not rights.flag(RIGHT):
        raise ValidationError(_("Пересчитывает талоны только пользователь с правом "
                                "«Разрешить пересчет талонов»"))
    ignore = rights.flag("voucher.bulk_repost_ignore_limits")
    done = Recalculated()
    for voucher in vouchers:
        before = {line.id: _snapshot(line) for line in voucher.lines}
        try:
            with session.begin_nested():
                with session.no_autoflush:  # lines are half-cleared until checked
                    _reprice(session, voucher, rights, user_id, ignore)
                session.flush()
        except UchetError as exc:
            done.skipped.append(_("Талон %(v)s: %(why)s", v=voucher, why=exc))
            continue
        for line in voucher.lines:
            if line.state in KEPT_STATES:
                done.kept += 1
            elif _snapshot(line) != before.get(line.id):
                done.changed += 1
            else:
                done.unchanged += 1
    return done


def _reprice(session, voucher: Voucher, rights, user_id: int | None, ignore: bool) -> None:
    for line in voucher.lines:
        if line.state in KEPT_STATES:
            continue
        if line.contract is not None and line.contract.network \
                and not rights.flag(NETWORK_RIGHT):
            continue
        line.payer_kind, line.attachment, line.contract = None, None, None
        line.price_type, line.price = None, None
        check_line(session, line, rights, user_id, confirmed=True, ignore_limits=ignore)


def change_doctor(session, vouchers: list[Voucher], doctor: Employee | None, rights,
                  user_id: int | None) -> int:
    """Set `doctor` as the main doctor of every voucher (flushed, not committed);
    returns how many changed. All or nothing: the first refusal stops it.

    Raises ValidationError naming the voucher and the rule, or asking for a doctor
    when `doctor` is None (none chosen, or not one the user may see).
    """
    if doctor is None:
        raise ValidationError(_("Выберите врача из списка"), field="doctor")
    if not rights.flag(DOCTOR_RIGHT):
        raise ValidationError(_("Врача в списке талонов меняет только пользователь с правом "
                                "«Поточное изменение врача в талонах»"))
    check_doctor(doctor.is_doctor, doctor.active, doctor)
    changed = 0
    for voucher in vouchers:
        if voucher.doctor_id == doctor.id:
            continue
        voucher.doctor = doctor
        voucher.version = (voucher.version or 0) + 1
        try:
            with session.no_autoflush:
                check_header(session, voucher, rights, user_id)
        except ValidationError as exc:
            raise ValidationError(_("Талон %(v)s: %(why)s", v=voucher, why=exc)) from None
        changed += 1
    session.flush()
    return changed
