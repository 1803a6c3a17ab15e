"""The rules of a voucher's lines: state changes, who pays, the price, discounts,
programme limits and deposits, as the seed's voucher rights set them.

`check_line` is called before a line is saved (screen, API, recalculation); it
fills in what the user left to the system (payer, price type, price, amount,
the voucher's date and branch) and returns warnings to confirm. Refusals raise
ValidationError in Russian; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from core.errors import NotFound, ValidationError
from models.base import fk_value, lock_row, stored_value
from models.contracts import Contract
from models.patients import Attachment
from models.pricelist import Service
from models.refbooks import Department, PriceType
from models.vouchers import LINE_STATES, Voucher, VoucherLine
from security.policies import Policies
from security.scope import scoped
from services.contracts.rules import money
from services.dates import local_now, utc_now
from services.vouchers.limits import check_limits
from services.vouchers.payers import (
    check_attachment_day,
    check_insurance_mark,
    check_insurance_mix,
    check_payer_choice,
    check_unattached_contract,
    payer_price_type,
    without_attachment,
)
from services.vouchers.pricing import line_amount, line_price, resolve_payer
from services.vouchers.rules import check_dates, check_emr_access, check_ownership

ALL_SERVICES_RIGHT = "voucher.all_department_services"
#: (from, to) -> the right that allows the change of a line's state.
TRANSITIONS = {
    ("rendered", "blocked"): "voucher.block_services",
    ("blocked", "rendered"): "voucher.block_services",
    ("rendered", "cancelled"): "voucher.cancel_services",
    ("cancelled", "rendered"): "voucher.cancel_services",
    ("rendered", "paid"): "voucher.manual_payment",
    ("paid", "rendered"): "voucher.manual_payment_cancel",
}
SETTLED = ("paid", "invoiced")
PRICE_FIELDS = ("service_id", "quantity", "price", "discount", "price_type_id",
                "payer_kind", "attachment_id", "contract_id")


def _changed(item, key: str) -> bool:
    """Return True when a new row has the value or a stored row's value changed (a form
    sets the relationship, so foreign keys are read through it)."""
    state = sa_inspect(item)
    if not state.persistent:
        return fk_value(item, key) is not None
    return stored_value(item, key) != fk_value(item, key)


def check_state(line: VoucherLine, rights) -> None:
    """Refuse a state change the user has no right to, and any change to a paid or
    invoiced line other than cancelling a manual payment.

    Raises ValidationError.
    """
    old = stored_value(line, "state") or "rendered"
    new = line.state or "rendered"
    if not sa_inspect(line).persistent:
        if new != "rendered":
            raise ValidationError(_("Новая услуга добавляется в состоянии «Оказана»"),
                                  field="state")
        return
    if old in SETTLED and any(_changed(line, key) for key in PRICE_FIELDS):
        raise ValidationError(_("Оплаченная или выставленная в счёт услуга не меняется: "
                                "сначала отмените оплату"))
    if old == new:
        return
    right = TRANSITIONS.get((old, new))
    if right is None:
        raise ValidationError(_("Состояние услуги не меняется с «%(a)s» на «%(b)s»",
                                a=LINE_STATES.get(old, old), b=LINE_STATES.get(new, new)),
                              field="state")
    if not rights.flag(right):
        from security.catalogue import load_catalogue

        raise ValidationError(_("Нужно право «%(r)s»", r=load_catalogue().rights[right].ru),
                              field="state")


def _check_new_line(session, line: VoucherLine, voucher: Voucher, rights) -> None:
    if rights.value("voucher.forbid_add_to_invoiced") == "yes" and voucher.id is not None:
        invoiced = session.scalar(select(func.count()).select_from(VoucherLine).where(
            VoucherLine.voucher_id == voucher.id, VoucherLine.state == "invoiced"))
        if invoiced:
            raise ValidationError(_("По услугам талона уже выставлен счёт: новые услуги в "
                                    "него не добавляются"), field="service")
    if rights.value("voucher.control_branches") == "yes":
        department_branch = session.scalar(
            select(Department.branch_id).join(Service, Service.department_id == Department.id)
            .where(Service.id == fk_value(line, "service_id")))
        check_service_branch(department_branch, fk_value(voucher, "branch_id"), rights)


def check_service_branch(department_branch: int | None, branch_id: int, rights) -> None:
    """With «Контролировать филиалы при добавлении услуг» refuse a service whose
    department is in another branch than the voucher's (plain values: the import's too).

    Raises ValidationError.
    """
    if rights.value("voucher.control_branches") == "yes" and department_branch is not None \
            and department_branch != branch_id:
        raise ValidationError(_("Услуга оказывается в другом филиале: в талон добавляются "
                                "только услуги филиала талона"), field="service")


def _check_service(session, line: VoucherLine, voucher: Voucher, rights) -> None:
    """Without «Показывать услуги всех отделений» a voucher of a department takes only
    that department's services (a service without a department fits every voucher).

    Raises ValidationError.
    """
    department_id = fk_value(voucher, "department_id")
    if department_id is None or rights.allows(ALL_SERVICES_RIGHT):
        return
    own = session.scalar(select(Service.department_id).where(
        Service.id == fk_value(line, "service_id")))
    if own is not None and own != department_id:
        raise rights.refused(ALL_SERVICES_RIGHT, field="service", refusal=_l(
            "Услуга относится к другому отделению: в талон отделения добавляются только его "
            "услуги (право «%(right)s»)"))


def offered_services(voucher: Voucher | None, rights) -> list:
    """Return the WHERE clauses on Service keeping the services a new line of `voucher`
    may take: active ones, without «Показывать услуги всех отделений» those of the
    voucher's department or of none (`_check_service`), with «Контролировать филиалы
    при добавлении услуг» those of the voucher's branch or of no department
    (`_check_new_line`)."""
    clauses = [Service.active.is_(True)]
    department_id = fk_value(voucher, "department_id") if voucher is not None else None
    if department_id is not None and not rights.flag("voucher.all_department_services"):
        clauses.append(Service.department_id.is_(None)
                       | (Service.department_id == department_id))
    branch_id = fk_value(voucher, "branch_id") if voucher is not None else None
    if branch_id is not None and rights.value("voucher.control_branches") == "yes":
        clauses.append(Service.department_id.is_(None) | Service.department_id.in_(
            select(Department.id).where(Department.branch_id == branch_id)))
    return clauses


def _check_insurance(session, line: VoucherLine, voucher: Voucher, rights) -> None:
    """With «Разделение услуг по признаку ОМС/ДМС» an OMS contract pays only for services
    marked OMS, a DMS contract only for those marked DMS, and one voucher never holds
    both OMS and DMS lines (they go to different registers).

    Raises ValidationError.
    """
    if not rights.flag("params.split_oms_dms") or line.payer_kind == "patient":
        return
    kind = session.scalar(select(Contract.kind).where(
        Contract.id == fk_value(line, "contract_id")))
    if kind not in ("oms", "dms"):
        return
    marked = session.scalar(select(Service.insurance).where(
        Service.id == fk_value(line, "service_id")))
    check_insurance_mark(kind, marked)
    other = "dms" if kind == "oms" else "oms"
    with session.no_autoflush:
        mixed = session.scalar(select(func.count()).select_from(VoucherLine).join(
            Contract, Contract.id == VoucherLine.contract_id).where(
            VoucherLine.voucher_id == voucher.id, Contract.kind == other,
            VoucherLine.id != (line.id or 0), VoucherLine.state != "cancelled"))
    check_insurance_mix(kind, bool(mixed))


def _resolve(session, line: VoucherLine, voucher: Voucher, rights, split: bool = False
             ) -> None:
    """Fill the payer of a line left to the system; check a payer the user chose (a
    part split off to the patient is chosen under «Разрешить разбивать оплаты»)."""
    chosen = line.payer_kind or None
    payer_changed = any(_changed(line, key) for key in ("payer_kind", "attachment_id",
                                                         "contract_id"))
    if sa_inspect(line).persistent and not payer_changed:
        if not _changed(line, "service_id"):
            return  # a stored payer stays (a limit may have moved it to the patient)
        chosen = None  # another service: its payer is found again
    if voucher.kind == "deposit":
        # A deposit voucher is paid from its contract's advance, whatever else applies.
        line.payer_kind, line.attachment = "contract", None
        line.contract = voucher.contract or session.get(Contract, voucher.contract_id)
        return
    auto = resolve_payer(session, fk_value(voucher, "patient_id"),
                         fk_value(line, "service_id"), voucher.service_date)
    if chosen is None:
        line.payer_kind, line.attachment = auto.kind, auto.attachment
        line.contract = session.get(Contract, auto.contract_id) if auto.contract_id else None
        return
    attachment_id = fk_value(line, "attachment_id")
    check_payer_choice(chosen, auto.kind, auto.attachment.id if auto.attachment else None,
                       attachment_id, rights, split)
    if chosen == "patient":
        line.attachment, line.contract = None, None
    elif chosen == "attachment":
        attachment = session.get(Attachment, attachment_id) if attachment_id else None
        if attachment is None or attachment.patient_id != fk_value(voucher, "patient_id"):
            raise ValidationError(_("Выберите прикрепление этого пациента"),
                                  field="attachment")
        check_attachment_day(attachment.valid_from, attachment.valid_to, voucher.service_date)
        line.attachment, line.contract = attachment, attachment.programme.contract
    else:
        check_unattached_contract(fk_value(line, "contract_id"), rights)
        line.attachment = None


def _check_deposit(session, line: VoucherLine, voucher: Voucher, rights) -> None:
    """Refuse lines beyond the deposit contract's amount without «Разрешить превышение
    суммы на депозитном договоре»."""
    if rights.flag("voucher.deposit_exceed"):
        return
    contract = voucher.contract or session.get(Contract, voucher.contract_id)
    if contract is None or contract.amount is None:
        return
    lock_row(session, Contract, contract.id)  # one save at a time spends the deposit
    spent = select(func.coalesce(func.sum(VoucherLine.amount), 0)).join(
        Voucher, Voucher.id == VoucherLine.voucher_id).where(
        Voucher.contract_id == contract.id, VoucherLine.state != "cancelled")
    if line.id is not None:
        spent = spent.where(VoucherLine.id != line.id)
    with session.no_autoflush:
        used = Decimal(session.scalar(spent))
    if used + line.amount > contract.amount:
        raise ValidationError(
            _("Сумма услуг превысит сумму депозитного договора %(c)s: осталось %(n)s",
              c=contract.number, n=money(contract.amount - used)), field="price")


def _payer_price_type(session, line: VoucherLine) -> int | None:
    from services.vouchers.pricing import paid_price_type

    programme_type = contract_type = None
    if line.payer_kind == "attachment":
        attachment = line.attachment or session.get(Attachment, line.attachment_id)
        programme_type = attachment.programme.price_type_id
    elif line.payer_kind == "contract":
        contract = session.get(Contract, fk_value(line, "contract_id"))
        if contract is not None and contract.price_category is not None:
            contract_type = contract.price_category.price_type_id
    # The paid type is read only when it is the answer (a query fewer per line).
    paid = None if line.payer_kind == "attachment" or contract_type else paid_price_type(session)
    return payer_price_type(line.payer_kind, programme_type, contract_type,
                            paid.id if paid else None)


def _price(session, line: VoucherLine, voucher: Voucher, rights) -> None:
    """Fill the price type, category and price from the price list; check typed ones."""
    wanted = _payer_price_type(session, line)
    given = fk_value(line, "price_type_id")
    if given is not None and given != wanted and _changed(line, "price_type_id"):
        rights.require("voucher.change_price_type", field="price_type", refusal=_l(
            "Тип цены меняет только пользователь с правом «%(right)s»"))
    keep_given = given is not None and (_changed(line, "price_type_id") or not _reprice(line))
    price_type_id = given if keep_given else wanted
    category, listed = line_price(session, fk_value(line, "service_id"), price_type_id,
                                  fk_value(voucher, "branch_id"), voucher.service_date)
    line.price_type, line.category = session.get(PriceType, price_type_id), category
    typed = line.price
    if typed is None or (not _changed(line, "price") and _reprice(line)):
        line.price = listed
    elif _changed(line, "price"):
        check_typed_price(typed, listed, voucher.kind, rights)
    line.discount = line.discount or Decimal(0)
    check_discount(line.discount, rights, changed=_changed(line, "discount"))
    line.amount = line_amount(line.price, line.quantity, line.discount)


def check_typed_price(typed: Decimal, listed: Decimal | None, kind: str, rights) -> None:
    """Refuse a price other than the list's without «Разрешить изменение цены
    услуги/товара» (its deposit variant in a deposit voucher).

    Raises ValidationError.
    """
    if typed == listed:
        return
    right = "voucher.change_price_deposit" if kind == "deposit" else "voucher.change_price"
    if not rights.flag(right):
        raise ValidationError(_("Цену услуги меняет только пользователь с правом «%(r)s»",
                                r=_("Разрешить изменение цены услуги/товара в депозитном "
                                    "талоне") if kind == "deposit"
                                else _("Разрешить изменение цены услуги/товара")),
                              field="price")


def check_discount(discount: Decimal, rights, changed: bool) -> None:
    """Refuse a discount or markup without «Разрешить применение скидки/надбавки», and
    one of 100 % or more (a markup of 1000 % or more).

    Raises ValidationError.
    """
    if discount and changed and not rights.flag("voucher.apply_discount"):
        raise ValidationError(_("Скидку или надбавку даёт только пользователь с правом "
                                "«Разрешить применение скидки/надбавки»"), field="discount")
    if not Decimal(-1000) < discount < Decimal(100):
        raise ValidationError(
            _("Скидка — меньше 100 процентов, надбавка — меньше 1000 процентов"),
            field="discount")


def _reprice(line: VoucherLine) -> bool:
    """A new line, or one whose service, payer or price type changed, takes the list price."""
    return not sa_inspect(line).persistent or any(
        _changed(line, key) for key in ("service_id", "price_type_id", "payer_kind",
                                        "attachment_id", "contract_id"))


def check_line(session, line: VoucherLine, rights, user_id: int | None, *,
               confirmed: bool = False, today: dt.date | None = None,
               ignore_limits: bool = False, split: bool = False,
               checks: Policies | None = None) -> list[str]:
    """Check and complete a voucher line before it is saved. Returns the warnings the
    user has to confirm (empty once `confirmed` carried them out), also recorded in
    `checks`, the save's policy decisions, when given. `split` marks the part of a
    line split off to the patient (services.vouchers.split checked the right).

    Raises ValidationError.
    """
    voucher = line.voucher or session.get(Voucher, line.voucher_id)
    if voucher is None:
        raise ValidationError(_("Укажите талон"), field="voucher")
    if sa_inspect(line).persistent and _changed(line, "voucher_id"):
        raise ValidationError(_("Услуга не переносится в другой талон"), field="voucher")
    if fk_value(line, "service_id") is None:
        raise ValidationError(_("Укажите услугу"), field="service")
    if line.quantity is None and not sa_inspect(line).persistent:
        line.quantity = 1  # the column's default, which the API leaves unset until flush
    if line.quantity is None or line.quantity <= 0:
        raise ValidationError(_("Количество — целое число больше нуля"), field="quantity")
    check_emr_access(voucher, rights, "edit")
    check_dates(session, voucher, rights, today or local_now().date(), utc_now())
    check_ownership(session, voucher, rights, user_id)
    check_state(line, rights)
    if not sa_inspect(line).persistent:
        _check_new_line(session, line, voucher, rights)
    if _changed(line, "service_id"):
        _check_service(session, line, voucher, rights)
    line.service_date, line.branch_id = voucher.service_date, fk_value(voucher, "branch_id")
    if stored_value(line, "state") in SETTLED:
        return []
    _resolve(session, line, voucher, rights, split)
    _check_insurance(session, line, voucher, rights)
    if checks is None:
        checks = Policies(rights=rights, confirmed=confirmed, name_rights=False)
    if line.payer_kind == "patient" and voucher.kind == "regular" and not split:
        without_attachment(checks)
    _price(session, line, voucher, rights)
    if voucher.kind == "deposit" and line.state != "cancelled":
        _check_deposit(session, line, voucher, rights)
    if line.state != "cancelled":
        payer = line.payer_kind
        check_limits(session, line, voucher, checks, ignore=ignore_limits)
        if line.payer_kind != payer:
            _price(session, line, voucher, rights)  # moved to the patient: his price
    return checks.warnings


def check_line_save(session, line: VoucherLine, rights, *, confirmed: bool) -> None:
    """Save rule of a line (screen, API): its voucher must be one the user sees
    (`security.scope.scoped`), then the line rules; their warnings pass once
    `confirmed`, and are journaled then.

    Raises NotFound (a voucher the user does not see), ValidationError, Forbidden,
    or ConfirmationRequired with the warnings.
    """
    voucher_id = fk_value(line, "voucher_id")
    if voucher_id is not None and session.scalar(
            scoped(select(Voucher.id).where(Voucher.id == voucher_id), rights)) is None:
        raise NotFound(_("Талон не найден"), field="voucher")
    checks = Policies(rights=rights, confirmed=confirmed, name_rights=False)
    check_line(session, line, rights, rights.user_id, confirmed=confirmed, checks=checks)
    checks.settle(session, Voucher.__tablename__, voucher_id)


def check_line_delete(session, line: VoucherLine, rights) -> None:
    """Delete rule of a line: the right to delete services, never a paid or invoiced
    one, and the voucher's own rules (EMR, dates, another doctor's voucher).

    Raises ValidationError or Forbidden.
    """
    if line.state in SETTLED:
        raise ValidationError(_("Оплаченная или выставленная в счёт услуга не удаляется: "
                                "она отменяется"))
    rights.require("voucher.delete_services", refusal=_l(
        "Услуги удаляет только пользователь с правом «%(right)s»"))
    check_emr_access(line.voucher, rights, "edit")
    check_dates(session, line.voucher, rights, local_now().date(), utc_now())
    check_ownership(session, line.voucher, rights, rights.user_id)
