"""Prepaid vouchers formed from referrals («Сформировать талоны»); the vouchers formed
are EMR vouchers (see services.vouchers.rules.check_emr_access).

A referral is formed once: it then names its voucher. Referrals of one patient in
one branch for one date make one voucher; every line goes through the same rules
as a line typed on the voucher card (price, payer, limits), so a prepaid voucher is
priced and paid for exactly as the registrar would have done by hand.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update

from core.errors import ConfirmationRequired, ValidationError
from models.base import fk_value, stored_value
from models.referrals import Referral
from models.vouchers import Voucher, VoucherLine
from services.admin.params import parameters_for
from services.dates import local_now
from services.vouchers.lines import check_line
from services.vouchers.rules import EMR_RIGHT, check_header

CREATE_RIGHT = "voucher.emr_create_prepaid"
DATE_RIGHT = "voucher.prepaid_date"


#: What a voucher formed from a referral took from it: these no longer change.
FORMED_FIELDS = ("patient_id", "branch_id", "service_id", "quantity", "appointment_date")


def check_referral_save(session, referral: Referral, rights) -> None:
    """Save rule: a new referral is its author's; one already formed into a voucher
    keeps what the voucher took.

    Raises ValidationError.
    """
    if not sa_inspect(referral).persistent:
        referral.created_by_id = rights.user_id
        return
    if stored_value(referral, "voucher_id") is not None and any(
            stored_value(referral, key) != fk_value(referral, key) for key in FORMED_FIELDS):
        raise ValidationError(_("Направление уже оформлено талоном %(v)s: пациент, филиал, "
                                "услуга, количество и дата записи не меняются",
                                v=referral.voucher))


def check_referral_delete(session, referral: Referral) -> None:
    """Delete rule: a referral formed into a voucher stays while the voucher does.

    Raises ValidationError.
    """
    if fk_value(referral, "voucher_id") is not None:
        raise ValidationError(_("Направление оформлено талоном %(v)s: сначала удалите талон",
                                v=referral.voucher))


def voucher_date(session, referral: Referral, rights, today: dt.date) -> dt.date:
    """Return the date a prepaid voucher formed from the referral takes, as «Предоплатный
    талон создавать на дату» says: today, the appointment date, or the network's
    parameter (itself today or the appointment date).

    Raises ValidationError when the appointment date is wanted and the referral has none.
    """
    rule = rights.value(DATE_RIGHT) or "module_params"
    if rule == "module_params":
        params = parameters_for(session, fk_value(referral, "branch_id"))
        rule = params.prepaid_date if params is not None else "current_date"
    if rule != "record_date":
        return today
    if referral.appointment_date is None:
        raise ValidationError(_("У направления %(r)s нет даты записи: талон создаётся на дату "
                                "записи", r=referral))
    return referral.appointment_date


@dataclass
class Formed:
    """What forming did: the vouchers made and the warnings their rules raised."""

    vouchers: list[Voucher] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def form_vouchers(session, referrals: list[Referral], rights, user_id: int | None, *,
                  confirmed: bool = False, today: dt.date | None = None) -> Formed:
    """Form prepaid vouchers from the referrals (flushed, not committed: the command
    boundary commits). Returns the vouchers and the warnings the user confirmed.

    Raises ConfirmationRequired with the warnings unless `confirmed`.

    Raises ValidationError without «Создание предоплатных талонов из ЭМК» and the
    «создание» level of «Редактирование талонов из ЭМК», for an empty choice, for a
    referral already formed, or for the first rule a voucher or line breaks.
    """
    rights.require(CREATE_RIGHT, refusal=_l("Предоплатные талоны из направлений формирует "
                                            "только пользователь с правом «%(right)s»"))
    rights.require(EMR_RIGHT, "create", refusal=_l(
        "Талоны из направлений становятся талонами ЭМК: нужен уровень «создание» права "
        "«%(right)s»"))
    if not referrals:
        raise ValidationError(_("Выберите направления"))
    referrals = list({r.id: r for r in referrals}.values())  # a row ticked twice is one
    formed = [r for r in referrals if fk_value(r, "voucher_id") is not None]
    if formed:
        raise ValidationError(_("Направление %(r)s уже оформлено талоном %(v)s",
                                r=formed[0], v=formed[0].voucher))
    today = today or local_now().date()
    groups: dict[tuple, list[Referral]] = defaultdict(list)
    for referral in sorted(referrals, key=lambda r: r.id):
        day = voucher_date(session, referral, rights, today)
        groups[(referral.patient_id, referral.branch_id, day)].append(referral)
    result = Formed()
    for (patient_id, branch_id, day), group in groups.items():
        voucher = Voucher(kind="prepaid", service_date=day,
                          branch_id=branch_id, patient_id=patient_id,
                          diagnosis_id=next((r.diagnosis_id for r in group if r.diagnosis_id),
                                            None),
                          created_by_id=user_id, version=1,
                          note=_("Из направлений: %(r)s", r=", ".join(str(r) for r in group)))
        _note(result, check_header(session, voucher, rights, user_id, today=today))
        session.add(voucher)
        session.flush()
        for referral in group:
            line = VoucherLine(voucher=voucher, service_id=referral.service_id,
                               quantity=referral.quantity, state="rendered")
            session.add(line)
            with session.no_autoflush:  # the line is priced by the rule before it is written
                _note(result, check_line(session, line, rights, user_id,
                                         confirmed=confirmed, today=today))
            _claim(session, referral, voucher)
        # Marked as formed in the EMR once its lines are in: forming is creation, and
        # «Редактирование талонов из ЭМК» governs the later changes only.
        voucher.source = "emr"
        session.flush()
        result.vouchers.append(voucher)
    if result.warnings and not confirmed:
        raise ConfirmationRequired(result.warnings)
    return result


def _claim(session, referral: Referral, voucher: Voucher) -> None:
    """Make the referral name the voucher, unless another request formed it meanwhile
    (two clicks on «Подтверждаю»). A conditional no-op UPDATE takes the row's lock
    (SQLite: the database's) and finds the referral still free; a second request
    waits for the first to commit and then finds it taken. The link itself is set
    through the ORM, so the journal records it.

    Raises ValidationError when the referral is already formed.
    """
    claimed = session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.voucher_id.is_(None))
        .values(voucher_id=Referral.voucher_id).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ValidationError(_("Направление %(r)s уже оформлено другим талоном: обновите "
                                "список", r=referral))
    referral.voucher = voucher


def _note(result: Formed, warnings: list[str]) -> None:
    for warning in warnings:
        if warning not in result.warnings:
            result.warnings.append(warning)
