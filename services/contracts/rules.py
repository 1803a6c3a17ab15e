"""Rules of contracts, their programmes, guarantees and instalment schedules.

Every check raises ValidationError with a Russian message naming the rule and
changes nothing; screens, APIs and services call the same functions.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from string import Formatter

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from core.errors import Forbidden, ValidationError
from models.base import fk_value
from models.contracts import (
    CONTRACT_KINDS,
    PAYMENT_SCHEMES,
    Contract,
    InstalmentLine,
    InsuranceTerms,
    PaymentGuarantee,
    PrepaymentSchemeStep,
)
from models.patients import Attachment
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
from security.effective import right_label

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
#: Amounts the Numeric(14, 2) money columns can hold are below this.
MONEY_LIMIT = Decimal(10) ** 12
CODE_ATTEMPTS = 100
#: Format specs a code pattern may use on {n}: zero-padding, at most 9 wide.
PATTERN_SPEC = re.compile(r"(0?[1-9])?d?")


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


def changed(item, *keys: str) -> bool:
    """Return True for a row not yet stored or when any of the attributes `keys`
    (a relationship and its foreign-key column, say) changed in this session."""
    state = sa_inspect(item)
    return state.transient or state.pending or any(
        state.attrs[key].history.has_changes() for key in keys)


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
    if rights.allows(NETWORK_RIGHT):
        return
    # Without the right nothing about networking may change, in either direction:
    # un-networking a contract takes it away from the branches that serve it.
    if sa_inspect(contract).persistent:
        touched = changed(contract, "network", "branches")
    else:
        touched = bool(contract.network or contract.branches)
    if touched:
        raise rights.refused(NETWORK_RIGHT, field="network", refusal=_l(
            "Сетевые договоры заводит и меняет только пользователь с правом «%(right)s»"))


def _outside(start_column, end_column, contract: Contract):
    """Return the clause of rows of `model` whose period leaves the contract's."""
    beyond = start_column < contract.valid_from
    if contract.valid_to is not None:
        beyond = beyond | (end_column > contract.valid_to)
        if end_column is not start_column:
            beyond = beyond | end_column.is_(None)
    return beyond


def _check_existing_parts(session, contract: Contract) -> None:
    """A stored contract's new dates and amount must still fit what hangs under it:
    attachments, guarantee letters and instalment due dates."""
    checks = (
        (select(func.count()).select_from(Attachment).join(Programme).where(
            Programme.contract_id == contract.id,
            _outside(Attachment.valid_from, Attachment.valid_to, contract)),
         _("Прикреплений вне нового срока договора: %(n)s. Сначала измените их")),
        (select(func.count()).select_from(PaymentGuarantee).where(
            PaymentGuarantee.contract_id == contract.id,
            _outside(PaymentGuarantee.valid_from, PaymentGuarantee.valid_to,
                     contract)),
         _("Гарантийных писем вне нового срока договора: %(n)s. Сначала измените их")),
        (select(func.count()).select_from(InstalmentLine).where(
            InstalmentLine.contract_id == contract.id,
            _outside(InstalmentLine.due_date, InstalmentLine.due_date,
                     contract)),
         _("Платежей рассрочки вне нового срока договора: %(n)s. Сначала измените схему")),
    )
    for query, text in checks:
        outside = session.scalar(query)
        if outside:
            raise ValidationError(text % {"n": outside}, field="valid_to")
    lines = list(session.scalars(select(InstalmentLine)
                                 .where(InstalmentLine.contract_id == contract.id)))
    if lines:
        if contract.payment_scheme != "instalments":
            raise ValidationError(_("У договора есть схема рассрочки: сначала удалите её на "
                                    "странице «Схема рассрочки»"), field="payment_scheme")
        total = sum((line.amount for line in lines), Decimal(0))
        if total != contract.amount:
            raise ValidationError(
                _("Сумма договора %(amount)s не совпадает со схемой рассрочки (%(total)s): "
                  "меняйте сумму вместе со схемой на странице «Схема рассрочки»",
                  amount=money(contract.amount), total=money(total)),
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
    _check_move(session, programme)
    if not (programme.code or "").strip():
        programme.code = _code_from_template(session, programme, contract)
    if not rights.flag(COST_RIGHT):
        _keep_policy_cost(session, programme, contract)


def check_code_pattern(_session, template: ProgrammeCodeTemplate) -> None:
    """Refuse a programme code pattern with fields other than {contract} and {n}, or
    format specs beyond zero-padding to at most 9 digits ({n:03}); a spec like
    {n:>999999999} would build a gigabyte string on every save.

    Raises ValidationError.
    """
    try:
        fields = list(Formatter().parse(template.pattern or ""))
    except ValueError:
        fields = None
    ok = fields is not None and all(
        name is None or (name in ("contract", "n") and not conversion
                         and PATTERN_SPEC.fullmatch(spec or "")
                         and (not spec or name == "n"))
        for _text, name, spec, conversion in fields)
    if not ok:
        raise ValidationError(
            _("Шаблон кода «%(p)s» понимает только {contract} и {n}", p=template.pattern),
            field="pattern")


def _code_from_template(session, programme: Programme, contract: Contract) -> str:
    template = programme.code_template or (
        session.get(ProgrammeCodeTemplate, programme.code_template_id)
        if programme.code_template_id else None)
    if template is None:
        raise ValidationError(_("Укажите код программы или шаблон кода"), field="code")
    try:
        check_code_pattern(session, template)
    except ValidationError as exc:
        exc.field = "code_template"
        raise
    limit = Programme.__table__.c.code.type.length
    count = session.scalar(select(func.count()).select_from(Programme)
                           .where(Programme.contract_id == contract.id)) or 0
    # The next free number: codes of deleted or renamed programmes may be taken.
    for number in range(count + 1, count + 1 + CODE_ATTEMPTS):
        code = template.pattern.format(contract=contract.number, n=number).strip()
        if not code:
            break
        if len(code) > limit:
            raise ValidationError(
                _("Код по шаблону длиннее %(n)s знаков: укажите код вручную", n=limit),
                field="code")
        query = select(func.count()).select_from(Programme).where(Programme.code == code)
        if programme.id is not None:
            query = query.where(Programme.id != programme.id)
        if not session.scalar(query):
            return code
        if "{n" not in template.pattern:
            break
    raise ValidationError(
        _("По шаблону «%(p)s» не получается свободный код: укажите код вручную",
          p=template.pattern), field="code")


def _keep_policy_cost(session, programme: Programme, contract: Contract) -> None:
    """Without «Ручное изменение стоимости медпрограммы» the cost comes from the
    contract's insurance terms and cannot be typed in; a programme moved to another
    contract takes that contract's cost."""
    state = sa_inspect(programme)
    history = state.attrs["policy_cost"].history
    moved = state.persistent and changed(programme, "contract", "contract_id")
    if state.persistent and not moved:
        if not history.has_changes():
            return
        allowed = history.deleted[0]
    else:
        terms = contract.insurance_terms
        allowed = terms.policy_cost if terms is not None else None
        if moved and not history.has_changes():
            programme.policy_cost = allowed  # the old contract's cost was not typed in
    if programme.policy_cost is None or programme.policy_cost == allowed:
        programme.policy_cost = allowed
        return
    raise Forbidden(_("Стоимость полиса меняется вручную только с правом «%(right)s»",
                      right=right_label(COST_RIGHT)), field="policy_cost")


def _check_move(session, programme: Programme) -> None:
    """A programme in use stays under its contract: its attachments and guarantee
    letters were checked against that contract's dates and payer."""
    if not sa_inspect(programme).persistent or not changed(programme, "contract", "contract_id"):
        return
    attached = session.scalar(select(func.count()).select_from(Attachment)
                              .where(Attachment.programme_id == programme.id)) or 0
    guaranteed = session.scalar(
        select(func.count()).select_from(PaymentGuarantee)
        .where(PaymentGuarantee.programmes.any(Programme.id == programme.id))) or 0
    if attached or guaranteed:
        raise ValidationError(
            _("Программу нельзя перенести в другой договор: прикреплений %(a)s, "
              "гарантийных писем %(g)s", a=attached, g=guaranteed), field="contract")


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


def check_scheme_step(_session, step: PrepaymentSchemeStep) -> None:
    """Raise ValidationError for a share outside (0, 100] or a negative day count."""
    if step.share is None or not 0 < step.share <= 100:
        raise ValidationError(_("Доля этапа — больше нуля и не больше 100 процентов"),
                              field="share")
    if step.days_after_start is None or step.days_after_start < 0:
        raise ValidationError(_("Число дней не может быть отрицательным"),
                              field="days_after_start")


def check_insurance_terms(_session, terms: InsuranceTerms) -> None:
    """Raise ValidationError for an insurance period under a month or a negative
    policy cost."""
    if terms.period_months is None or terms.period_months <= 0:
        raise ValidationError(_("Страховой период должен быть не меньше месяца"),
                              field="period_months")
    if terms.policy_cost is not None and terms.policy_cost < 0:
        raise ValidationError(_("Стоимость полиса не может быть отрицательной"),
                              field="policy_cost")
