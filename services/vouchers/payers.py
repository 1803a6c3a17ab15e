"""Who pays for a voucher line when a person (or a file) chooses: the rules of a
chosen payer, on plain values so that the voucher screen (services.vouchers.lines)
and «Импорт талонов» (services.imports.voucher_spec) share them."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from models.vouchers import PAYER_KINDS
from security.policies import Policies
from services.vouchers.pricing import valid_on


def check_payer_choice(chosen: str, auto_kind: str, auto_attachment_id: int | None,
                       attachment_id: int | None, rights, split: bool = False) -> None:
    """Refuse an unknown payer, and a payer other than the one the system finds
    (`auto_kind`, `auto_attachment_id`) without «Разрешить проводить услуги по
    выбранному прикреплению / за счет пациента» (a part split off to the patient is
    «Разрешить разбивать оплаты»'s). Plain values: the voucher import's too.

    Raises ValidationError, Forbidden.
    """
    if chosen not in PAYER_KINDS:
        raise ValidationError(_("Неизвестный плательщик"), field="payer_kind")
    same = chosen == auto_kind and attachment_id == auto_attachment_id
    if not same and not split:
        rights.require("voucher.post_by_attachment", field="payer_kind", refusal=_l(
            "Плательщика выбирает только пользователь с правом «%(right)s»"))


def check_attachment_day(valid_from: dt.date, valid_to: dt.date | None,
                         day: dt.date) -> None:
    """Refuse a chosen attachment that is not valid on the voucher's date.

    Raises ValidationError."""
    if not valid_on(valid_from, valid_to, day):
        raise ValidationError(_("Прикрепление не действует на дату талона"),
                              field="attachment")


def check_unattached_contract(contract_id: int | None, rights) -> None:
    """Refuse a line paid by a contract without the contract, or without «Разрешить
    проводить услуги за счет договора, к которому пациент не прикреплен».

    Raises ValidationError, Forbidden."""
    if contract_id is None:
        raise ValidationError(_("Укажите договор-плательщик"), field="contract")
    rights.require("voucher.post_unattached_contract", field="contract", refusal=_l(
        "За счёт договора без прикрепления проводит только пользователь с правом "
        "«%(right)s»"))


def payer_price_type(kind: str, programme_type: int | None, contract_type: int | None,
                     paid_type: int | None) -> int | None:
    """Return the price type of a line's payer: the attachment's programme's, the
    paying contract's price category's (when it has one), else the paid one."""
    if kind == "attachment":
        return programme_type
    if kind == "contract" and contract_type is not None:
        return contract_type
    return paid_type


def without_attachment(checks: Policies) -> None:
    """Apply «Проведение услуги без прикрепления» to a line of a regular voucher the
    patient pays (allow / warn / forbid).

    Raises PolicyRefused for a forbidding policy."""
    checks.policy("voucher.without_attachment", True,
                  _("Пациент не прикреплён к программе, покрывающей услугу: услуга платная"),
                  field="service")
    checks.stop_if_refused()


_INSURANCE = {"oms": _l("ОМС"), "dms": _l("ДМС")}


def check_insurance_mark(kind: str, marked: str | None) -> None:
    """With «Разделение услуг по признаку ОМС/ДМС»: refuse a service not marked for the
    paying contract's kind ("oms" / "dms"; marked "both" fits either).

    Raises ValidationError."""
    if marked not in (kind, "both"):
        raise ValidationError(_("Услуга не отмечена признаком %(k)s: по договору %(k)s она "
                                "не проводится", k=_INSURANCE[kind]), field="service")


def check_insurance_mix(kind: str, other_present: bool) -> None:
    """With «Разделение услуг по признаку ОМС/ДМС»: refuse a line of `kind` in a voucher
    that already holds lines of the other kind (they go to different registers).

    Raises ValidationError."""
    if other_present:
        other = "dms" if kind == "oms" else "oms"
        raise ValidationError(_("В талоне уже есть услуги %(o)s: услуги %(k)s оформляются "
                                "отдельным талоном", o=_INSURANCE[other], k=_INSURANCE[kind]),
                              field="payer_kind")
