"""Instalment schedules of prepaid contracts: filled from a prepayment scheme
template or typed in, stored whole, and single payments checked so that the
schedule always adds up to the contract amount.

Every check raises ValidationError with a Russian message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from core.errors import ValidationError
from models.contracts import Contract, InstalmentLine, PrepaymentSchemeTemplate
from services.contracts.rules import KOPECK, MONEY_LIMIT, changed, fmt_date, money, within
from services.dates import parse_date

MAX_ROWS = 60


def parse_rows(form) -> list[tuple[dt.date, Decimal]]:
    """Return the (due date, amount) lines typed into the form; blank rows are skipped.

    Raises ValidationError naming the row whose date or amount cannot be read.
    """
    dates, amounts = form.getlist("due_date"), form.getlist("amount")
    if len(dates) > MAX_ROWS:
        raise ValidationError(_("Не больше %(n)s платежей", n=MAX_ROWS))
    lines = []
    for number, (raw_date, raw_amount) in enumerate(zip(dates, amounts, strict=False), start=1):
        raw_date, raw_amount = raw_date.strip(), raw_amount.strip().replace(" ", "")
        if not raw_date and not raw_amount:
            continue
        due = parse_date(raw_date)  # ДД.ММ.ГГГГ, as typed on the page
        if due is None:
            raise ValidationError(_("Строка %(n)s: укажите дату платежа", n=number))
        try:
            amount = Decimal(raw_amount.replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Строка %(n)s: сумма «%(v)s» — не число", n=number,
                                    v=raw_amount)) from None
        if not amount.is_finite():
            raise ValidationError(_("Строка %(n)s: сумма «%(v)s» — не число", n=number,
                                    v=raw_amount))
        if amount.copy_abs() >= MONEY_LIMIT:  # exact: abs() overflows on 1e1000000
            raise ValidationError(_("Строка %(n)s: слишком большая сумма", n=number))
        lines.append((due, amount))
    return lines


def typed_amount(contract: Contract, raw: str, *, may_edit: bool) -> Decimal | None:
    """Return the contract amount typed beside the schedule when it differs from the
    stored one (None otherwise). Changing it needs the right to edit the contract
    (`may_edit`).

    Raises ValidationError for an amount that is not a number or not allowed."""
    raw = raw.strip().replace(" ", "").replace(",", ".")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_("Сумма договора «%(v)s» — не число", v=raw))
    if amount == contract.amount:
        return None
    if not may_edit:
        raise ValidationError(_("Сумму договора меняет только пользователь с правом "
                                "изменять договоры"))
    return amount


def schedule_from_template(contract: Contract, scheme: PrepaymentSchemeTemplate | None
                           ) -> list[tuple[dt.date, Decimal]]:
    """Return (due date, amount) lines splitting the contract amount by the scheme's
    shares; the last line takes the kopecks rounding leaves over.

    Raises ValidationError when no scheme was chosen (None: none the user may read)
    or when the scheme's shares do not add up to 100 %.
    """
    if scheme is None:
        raise ValidationError(_("Выберите типовую схему из списка"))
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
        if amount >= MONEY_LIMIT:
            raise ValidationError(_("Платёж %(n)s: слишком большая сумма", n=number))
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


def replace_schedule(session, contract: Contract, lines: Iterable[tuple[dt.date, Decimal]],
                     amount: Decimal | None = None) -> list[InstalmentLine]:
    """Check and store a contract's whole instalment schedule in place of the old one,
    with the contract's new amount when `amount` is given (the two change together).

    Returns the new lines (flushed, not committed). Raises ValidationError.
    """
    if amount is not None and amount != contract.amount:
        if amount <= 0 or amount >= MONEY_LIMIT or amount != amount.quantize(KOPECK):
            raise ValidationError(_("Сумма договора: больше нуля, до копеек, меньше "
                                    "триллиона"), field="amount")
        contract.amount = amount
    lines = sorted(lines, key=lambda line: line[0])
    check_schedule(contract, lines)
    contract.instalments.clear()
    session.flush()
    contract.instalments.extend(InstalmentLine(due_date=d, amount=a) for d, a in lines)
    session.flush()
    return list(contract.instalments)


def clear_schedule(session, contract: Contract) -> int:
    """Delete a contract's whole instalment schedule. Returns how many lines it had."""
    removed = len(contract.instalments)
    contract.instalments.clear()
    session.flush()
    return removed


def check_instalment_line(session, line: InstalmentLine) -> None:
    """A single payment, entered on its own, must fit its contract: a contract paid by
    instalments, a due date within the contract, and a schedule that still adds up to
    the contract amount. A payment stays with its contract.

    Raises ValidationError.
    """
    contract = line.contract or session.get(Contract, line.contract_id)
    if contract is None:
        raise ValidationError(_("Укажите договор"), field="contract")
    if sa_inspect(line).persistent and changed(line, "contract", "contract_id"):
        raise ValidationError(_("Платёж нельзя перенести в другой договор: удалите его и "
                                "добавьте в нужный"), field="contract")
    if line.amount is None or line.amount <= 0:
        raise ValidationError(_("Сумма платежа должна быть больше нуля"), field="amount")
    if contract.payment_scheme != "instalments":
        raise ValidationError(_("Схема рассрочки бывает только у договора со способом оплаты "
                                "«Предоплата, с рассрочкой оплаты»"), field="contract")
    if line.due_date is None or not within(line.due_date, line.due_date, contract.valid_from,
                                           contract.valid_to):
        raise ValidationError(
            _("Срок платежа вне срока действия договора (с %(start)s по %(end)s)",
              start=fmt_date(contract.valid_from), end=fmt_date(contract.valid_to)),
            field="due_date")
    _check_total(session, contract, line.amount, excluding={line.id})


def check_instalment_removal(session, line: InstalmentLine,
                             together: Iterable[int] = ()) -> None:
    """Deleting payments (this one and those deleted `together` with it) must leave
    either no schedule or one that adds up to the contract amount.

    Raises ValidationError.
    """
    contract = line.contract or session.get(Contract, line.contract_id)
    if contract is None:
        return
    _check_total(session, contract, Decimal(0), excluding={line.id, *together},
                 may_vanish=True)


def _check_total(session, contract: Contract, adding: Decimal, excluding: set,
                 may_vanish: bool = False) -> None:
    others = select(func.coalesce(func.sum(InstalmentLine.amount), 0), func.count()).where(
        InstalmentLine.contract_id == contract.id,
        InstalmentLine.id.not_in([i for i in excluding if i is not None]))
    with session.no_autoflush:
        total, left = session.execute(others).one()
    total = Decimal(total) + adding
    if may_vanish and not left:
        return
    if total != contract.amount:
        raise ValidationError(
            _("Платежи в сумме дадут %(total)s, а сумма договора %(amount)s: меняйте схему "
              "целиком на странице «Схема рассрочки» договора", total=money(total),
              amount=money(contract.amount)), field="amount")
