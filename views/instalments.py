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
from security.scope import row_clause
from services.contracts import fmt_date, money, replace_schedule, schedule_from_template
from services.errors import UchetError, ValidationError
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
        try:
            due = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise ValidationError(_("Строка %(n)s: укажите дату платежа", n=number)) from None
        try:
            amount = Decimal(raw_amount.replace(",", "."))
        except InvalidOperation:
            raise ValidationError(_("Строка %(n)s: сумма «%(v)s» — не число", n=number,
                                    v=raw_amount)) from None
        if not amount.is_finite():
            raise ValidationError(_("Строка %(n)s: сумма «%(v)s» — не число", n=number,
                                    v=raw_amount))
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
        contract = self._db().scalar(select(Contract).where(
            Contract.id == contract_id, row_clause(Contract, current().scope)))
        if contract is None:
            abort(404)
        return contract

    def _page(self, contract, rows, status=200):
        schemes = self._db().scalars(
            select(PrepaymentSchemeTemplate)
            .where(PrepaymentSchemeTemplate.active.is_(True),
                   row_clause(PrepaymentSchemeTemplate, current().scope))
            .order_by(PrepaymentSchemeTemplate.name)).all()
        rows = [*rows, *[("", "")] * BLANK_ROWS]
        return self.render_template("uchet/instalment_schedule.html", contract=contract,
                                    rows=rows, schemes=schemes, money=money,
                                    fmt_date=fmt_date), status

    @expose("/<int:contract_id>", methods=["GET"])
    @has_access
    def edit(self, contract_id: int):
        """Show the schedule with room for more payments."""
        contract = self._contract(contract_id)
        rows = [(line.due_date.isoformat(), f"{line.amount:.2f}") for line in contract.instalments]
        return self._page(contract, rows)

    @expose("/<int:contract_id>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def save(self, contract_id: int):
        """Replace the schedule (or fill it from a template) in one transaction."""
        contract = self._contract(contract_id)
        typed = list(zip(request.form.getlist("due_date"), request.form.getlist("amount"),
                         strict=False))[:MAX_ROWS]
        session = self._db()
        try:
            check_in_scope(session, contract)
            if request.form.get("scheme"):
                scheme = session.scalar(select(PrepaymentSchemeTemplate).where(
                    PrepaymentSchemeTemplate.id == request.form.get("scheme", type=int),
                    row_clause(PrepaymentSchemeTemplate, current().scope)))
                if scheme is None:
                    raise ValidationError(_("Выберите типовую схему из списка"))
                lines = schedule_from_template(contract, scheme)
            else:
                lines = parse_rows(request.form)
            replace_schedule(session, contract, lines)
            session.commit()
        except UchetError as exc:
            session.rollback()
            flash(str(exc), "danger")
            # Everything typed comes back, so nothing is lost to a refusal.
            return self._page(self._contract(contract_id), typed, 400)
        flash(_("Схема рассрочки договора %(c)s сохранена: платежей %(n)s",
                c=contract.number, n=len(lines)), "success")
        return redirect(url_for("ContractView.show", pk=contract.id))


register(InstalmentScheduleView)
