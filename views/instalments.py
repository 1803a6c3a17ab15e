"""«Схема рассрочки оплат»: a prepaid contract's whole instalment schedule, entered
or filled from a prepayment scheme template and saved at once, so that it always
adds up to the contract amount. Needs «Изменение схем рассрочек в договорах
пациентов»; the contract must be in the user's scope (otherwise 404).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from sqlalchemy import select

from models.contracts import Contract, PrepaymentSchemeTemplate
from security.effective import current
from security.rowscope import check_in_scope
from security.scope import scoped
from services.contracts import MONEY_LIMIT, fmt_date, money
from services.dates import parse_date
from services.errors import UchetError, ValidationError
from services.instalments import clear_schedule, replace_schedule, schedule_from_template
from views.registry import register

BLANK_ROWS = 3
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
        due = parse_date(raw_date)
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


class InstalmentScheduleView(BaseView):
    """Edit a contract's instalment schedule as a whole."""

    route_base = "/instalment-schedule"
    default_view = "edit"
    governing_right = "contract.instalment_schemes"
    base_permissions = ["can_edit"]

    def _db(self):
        return self.appbuilder.session

    def _contract(self, contract_id: int) -> Contract:
        contract = self._db().scalar(scoped(
            select(Contract).where(Contract.id == contract_id), current()))
        if contract is None:
            abort(404)
        return contract

    def _page(self, contract, rows, status=200, amount=None):
        schemes = self._db().scalars(scoped(
            select(PrepaymentSchemeTemplate)
            .where(PrepaymentSchemeTemplate.active.is_(True))
            .order_by(PrepaymentSchemeTemplate.name), current())).all()
        rows = [*rows, *[("", "")] * BLANK_ROWS]
        return self.render_template("uchet/instalment_schedule.html", contract=contract,
                                    rows=rows, schemes=schemes, money=money,
                                    amount=amount if amount is not None
                                    else f"{contract.amount or 0:.2f}",
                                    may_change_amount=self.appbuilder.sm.has_access(
                                        "can_edit", "ContractView"),
                                    fmt_date=fmt_date), status

    @expose("/<int:contract_id>", methods=["GET"])
    @has_access
    def edit(self, contract_id: int):
        """Show the schedule with room for more payments."""
        contract = self._contract(contract_id)
        rows = [(line.due_date, f"{line.amount:.2f}") for line in contract.instalments]
        return self._page(contract, rows)

    def _new_amount(self, contract: Contract) -> Decimal | None:
        """Return the contract amount typed on the page when it differs from the stored
        one (None otherwise). Changing it needs the right to edit the contract.

        Raises ValidationError for an amount that is not a number or not allowed."""
        raw = request.form.get("contract_amount", "").strip().replace(" ", "").replace(",", ".")
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
        if not self.appbuilder.sm.has_access("can_edit", "ContractView"):
            raise ValidationError(_("Сумму договора меняет только пользователь с правом "
                                    "изменять договоры"))
        return amount

    @expose("/<int:contract_id>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def save(self, contract_id: int):
        """Replace the schedule (or fill it from a template, or delete it), with the
        contract's new amount when one is typed, in one transaction."""
        contract = self._contract(contract_id)
        typed = list(zip(request.form.getlist("due_date"), request.form.getlist("amount"),
                         strict=False))[:MAX_ROWS]
        session = self._db()
        try:
            check_in_scope(session, contract)
            if request.form.get("clear"):
                removed = clear_schedule(session, contract)
                session.commit()
                flash(_("Схема рассрочки договора %(c)s удалена: платежей %(n)s",
                        c=contract.number, n=removed), "success")
                return redirect(url_for("ContractView.show", pk=contract.id))
            amount = self._new_amount(contract)
            if request.form.get("scheme"):
                scheme = session.scalar(scoped(select(PrepaymentSchemeTemplate).where(
                    PrepaymentSchemeTemplate.id == request.form.get("scheme", type=int)),
                    current()))
                if scheme is None:
                    raise ValidationError(_("Выберите типовую схему из списка"))
                lines = schedule_from_template(contract, scheme)
            else:
                lines = parse_rows(request.form)
            replace_schedule(session, contract, lines, amount=amount)
            session.commit()
        except UchetError as exc:
            session.rollback()
            flash(str(exc), "danger")
            # Everything typed comes back, so nothing is lost to a refusal.
            return self._page(self._contract(contract_id), typed, 400,
                              amount=request.form.get("contract_amount"))
        flash(_("Схема рассрочки договора %(c)s сохранена: платежей %(n)s",
                c=contract.number, n=len(lines)), "success")
        return redirect(url_for("ContractView.show", pk=contract.id))


register(InstalmentScheduleView)
