"""Rules of contracts, their programmes, guarantees and instalment schedules.

Every check raises ValidationError with a Russian message naming the rule and
changes nothing; screens, APIs and services call the same functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from models.base import fk_value
from models.contracts import (
    CONTRACT_KINDS,
    PAYMENT_SCHEMES,
    Contract,
    InstalmentLine,
    PaymentGuarantee,
    PrepaymentSchemeTemplate,
)
from models.patients import Attachment
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
from services.errors import ValidationError

NETWORK_RIGHT = "contract.network_contracts"
COST_RIGHT = "contract.programme_cost_manual"
#: Which payer each kind of contract needs (the others must stay empty).
PAYERS = {
    "oms": ("insurer",),
    "dms": ("insurer",),
    "organisation": ("organisation",),
    "prepaid": ("individual", "organisation"),
    "deposit": ("individual",),
}
PAYER_FIELDS = ("insurer", "organisation", "individual")
KOPECK = Decimal("0.01")


def money(value: Decimal | None) -> str:
    """Return an amount as the user's locale writes it (1 000,00 in Russian)."""
    return format_decimal(value or 0, format="#,##0.00")


def fmt_date(value: dt.date | None) -> str:
    """Return a date as dd.mm.yyyy, or «бессрочно» for an open end."""
    return value.strftime("%d.%m.%Y") if value else _("бессрочно")


def _check_period(start: dt.date | None, end: dt.date | None, field: str = "valid_to") -> None:
    if start is not None and end is not None and end < start:
        raise ValidationError(_("Дата окончания раньше даты начала"), field=field)


def within(start: dt.date, end: dt.date | None, outer_start: dt.date,
           outer_end: dt.date | None) -> bool:
    """Return True when [start, end] lies inside [outer_start, outer_end] (None = open end)."""
    if start < outer_start:
        return False
    if outer_end is None:
        return True
    return end is not None and end <= outer_end


def _changed(item, key: str) -> bool:
    state = sa_inspect(item)
    return state.transient or state.pending or state.attrs[key].history.has_changes()


def check_contract(session, contract: Contract, rights) -> None:
    """Refuse a contract whose kind, payer, amount, scheme or branches do not fit.

    Raises ValidationError.
    """
    if contract.kind not in CONTRACT_KINDS:
        raise ValidationError(_("Укажите вид договора"), field="kind")
    if contract.payment_scheme not in PAYMENT_SCHEMES:
        raise ValidationError(_("Укажите способ оплаты"), field="payment_scheme")
    _check_period(contract.valid_from, contract.valid_to)
    allowed = PAYERS[contract.kind]
    given = [f for f in PAYER_FIELDS if fk_value(contract, f"{f}_id") is not None]
    if len(given) != 1 or given[0] not in allowed:
        labels = {"insurer": _("страховую компанию"), "organisation": _("организацию"),
                  "individual": _("физическое лицо")}
        raise ValidationError(
            _("Для договора вида «%(kind)s» укажите плательщика: %(payer)s",
              kind=CONTRACT_KINDS[contract.kind],
              payer=_(" или ").join(labels[a] for a in allowed)),
            field=allowed[0])
    if contract.payment_scheme == "instalments" and contract.kind != "prepaid":
        raise ValidationError(_("Рассрочка оплаты бывает только у предоплатного договора"),
                              field="payment_scheme")
    if contract.kind in ("prepaid", "deposit"):
        if contract.amount is None or contract.amount <= 0:
            raise ValidationError(_("Укажите сумму договора больше нуля"), field="amount")
        if contract.payment_scheme == "postpaid":
            raise ValidationError(_("Предоплатный и депозитный договоры оплачиваются вперёд"),
                                  field="payment_scheme")
    elif contract.amount is not None and contract.amount <= 0:
        raise ValidationError(_("Сумма договора должна быть больше нуля"), field="amount")
    _check_network(contract, rights)
    if contract.id is not None:
        _check_existing_parts(session, contract)


def _check_network(contract: Contract, rights) -> None:
    if contract.branches and not contract.network:
        raise ValidationError(_("Филиалы указываются только у сетевого договора"),
                              field="branches")
    touched = _changed(contract, "network") or _changed(contract, "branches")
    if touched and (contract.network or contract.branches) and not rights.flag(NETWORK_RIGHT):
        raise ValidationError(
            _("Сетевые договоры заводит и меняет только пользователь с правом «Сетевые договоры»"),
            field="network")


def _check_existing_parts(session, contract: Contract) -> None:
    """A stored contract's new dates and amount must still fit what hangs under it."""
    beyond = Attachment.valid_from < contract.valid_from
    if contract.valid_to is not None:
        beyond = beyond | Attachment.valid_to.is_(None) | (Attachment.valid_to > contract.valid_to)
    outside = session.scalar(
        select(func.count()).select_from(Attachment).join(Programme)
        .where(Programme.contract_id == contract.id, beyond))
    if outside:
        raise ValidationError(
            _("Прикреплений вне нового срока договора: %(n)s. Сначала измените их", n=outside),
            field="valid_to")
    lines = list(session.scalars(select(InstalmentLine)
                                 .where(InstalmentLine.contract_id == contract.id)))
    if lines:
        if contract.payment_scheme != "instalments":
            raise ValidationError(_("У договора есть схема рассрочки: сначала удалите её"),
                                  field="payment_scheme")
        total = sum((line.amount for line in lines), Decimal(0))
        if total != contract.amount:
            raise ValidationError(
                _("Сумма договора %(amount)s не совпадает со схемой рассрочки (%(total)s): "
                  "измените схему вместе с суммой", amount=money(contract.amount),
                  total=money(total)),
                field="amount")


def check_programme(session, programme: Programme, rights) -> None:
    """Refuse negative limits; fill the code from its template; guard the policy cost.

    Raises ValidationError.
    """
    for key, text in (("max_cost", _("Максимальная стоимость лечения не может быть "
                                     "отрицательной")),
                      ("policy_cost", _("Стоимость полиса не может быть отрицательной"))):
        value = getattr(programme, key)
        if value is not None and value < 0:
            raise ValidationError(text, field=key)
    if programme.period_months is None or programme.period_months <= 0:
        raise ValidationError(_("Страховой период должен быть не меньше месяца"),
                              field="period_months")
    contract = programme.contract or session.get(Contract, programme.contract_id)
    if contract is None:
        raise ValidationError(_("Укажите договор"), field="contract")
    if not (programme.code or "").strip():
        programme.code = _code_from_template(session, programme, contract)
    if not rights.flag(COST_RIGHT):
        _keep_policy_cost(session, programme, contract)


def _code_from_template(session, programme: Programme, contract: Contract) -> str:
    template = programme.code_template or (
        session.get(ProgrammeCodeTemplate, programme.code_template_id)
        if programme.code_template_id else None)
    if template is None:
        raise ValidationError(_("Укажите код программы или шаблон кода"), field="code")
    count = session.scalar(select(func.count()).select_from(Programme)
                           .where(Programme.contract_id == contract.id)) or 0
    try:
        return template.pattern.format(contract=contract.number, n=count + 1)
    except (KeyError, IndexError, ValueError):
        raise ValidationError(
            _("Шаблон кода «%(p)s» понимает только {contract} и {n}", p=template.pattern),
            field="code_template") from None


def _keep_policy_cost(session, programme: Programme, contract: Contract) -> None:
    """Without «Ручное изменение стоимости медпрограммы» the cost comes from the
    contract's insurance terms and cannot be typed in."""
    state = sa_inspect(programme)
    if state.persistent:
        if not state.attrs["policy_cost"].history.has_changes():
            return
        allowed = state.attrs["policy_cost"].history.deleted[0]
    else:
        terms = contract.insurance_terms
        allowed = terms.policy_cost if terms is not None else None
    if programme.policy_cost is None or programme.policy_cost == allowed:
        programme.policy_cost = allowed
        return
    raise ValidationError(
        _("Стоимость полиса меняется вручную только с правом «Ручное изменение стоимости "
          "медпрограммы»"), field="policy_cost")


def check_programme_service(_session, item: ProgrammeService) -> None:
    """Refuse a negative service count limit.

    Raises ValidationError.
    """
    if item.max_count is not None and item.max_count < 0:
        raise ValidationError(_("Лимит количества услуг не может быть отрицательным"),
                              field="max_count")


def check_guarantee(session, guarantee: PaymentGuarantee) -> None:
    """Refuse a guarantee outside its contract's validity or naming another contract's
    programmes.

    Raises ValidationError.
    """
    _check_period(guarantee.valid_from, guarantee.valid_to)
    contract = guarantee.contract or session.get(Contract, guarantee.contract_id)
    if contract is None:
        raise ValidationError(_("Укажите договор"), field="contract")
    if guarantee.amount is not None and guarantee.amount < 0:
        raise ValidationError(_("Сумма гарантии не может быть отрицательной"), field="amount")
    if not within(guarantee.valid_from, guarantee.valid_to, contract.valid_from,
                  contract.valid_to):
        raise ValidationError(
            _("Срок гарантии выходит за срок действия договора (с %(start)s по %(end)s)",
              start=fmt_date(contract.valid_from), end=fmt_date(contract.valid_to)),
            field="valid_from")
    for programme in guarantee.programmes:
        if fk_value(programme, "contract_id") != contract.id:
            raise ValidationError(
                _("Программа «%(p)s» относится к другому договору", p=programme.name),
                field="programmes")


def schedule_from_template(contract: Contract, scheme: PrepaymentSchemeTemplate
                           ) -> list[tuple[dt.date, Decimal]]:
    """Return (due date, amount) lines splitting the contract amount by the scheme's
    shares; the last line takes the kopecks rounding leaves over.

    Raises ValidationError when the scheme's shares do not add up to 100 %.
    """
    steps = sorted(scheme.steps, key=lambda s: s.days_after_start)
    if not steps or sum((s.share for s in steps), Decimal(0)) != 100:
        raise ValidationError(_("Доли схемы «%(s)s» в сумме не дают 100 %%", s=scheme.name))
    amount = contract.amount or Decimal(0)
    lines = [(contract.valid_from + dt.timedelta(days=s.days_after_start),
              (amount * s.share / 100).quantize(KOPECK, rounding=ROUND_DOWN)) for s in steps]
    rest = amount - sum((a for _d, a in lines), Decimal(0))
    lines[-1] = (lines[-1][0], lines[-1][1] + rest)
    return lines


def check_schedule(contract: Contract, lines: Iterable[tuple[dt.date, Decimal]]) -> None:
    """Refuse an instalment schedule that does not add up to the contract amount.

    Raises ValidationError naming the first wrong line or the difference.
    """
    if contract.payment_scheme != "instalments":
        raise ValidationError(_("Схема рассрочки бывает только у договора со способом оплаты "
                                "«Предоплата, с рассрочкой оплаты»"))
    lines = list(lines)
    if not lines:
        raise ValidationError(_("Добавьте хотя бы один платёж"))
    for number, (due, amount) in enumerate(lines, start=1):
        if amount is None or amount <= 0:
            raise ValidationError(_("Платёж %(n)s: сумма должна быть больше нуля", n=number))
        if amount != amount.quantize(KOPECK):
            raise ValidationError(_("Платёж %(n)s: не больше двух знаков после запятой",
                                    n=number))
        if not within(due, due, contract.valid_from, contract.valid_to):
            raise ValidationError(
                _("Платёж %(n)s: срок %(d)s вне срока действия договора", n=number,
                  d=fmt_date(due)))
    total = sum((a for _d, a in lines), Decimal(0))
    if total != contract.amount:
        raise ValidationError(
            _("Платежи в сумме дают %(total)s, а сумма договора %(amount)s",
              total=money(total), amount=money(contract.amount)))


def replace_schedule(session, contract: Contract,
                     lines: Iterable[tuple[dt.date, Decimal]]) -> list[InstalmentLine]:
    """Check and store a contract's whole instalment schedule in place of the old one.

    Returns the new lines (flushed, not committed). Raises ValidationError.
    """
    lines = sorted(lines, key=lambda line: line[0])
    check_schedule(contract, lines)
    contract.instalments.clear()
    session.flush()
    contract.instalments.extend(InstalmentLine(due_date=d, amount=a) for d, a in lines)
    session.flush()
    return list(contract.instalments)
