"""«Схема рассрочки оплат»: a prepaid contract's whole instalment schedule, entered
or filled from a prepayment scheme template and saved at once, so that it always
adds up to the contract amount. Needs «Изменение схем рассрочек в договорах
пациентов»; the contract must be in the user's scope (otherwise 404).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from sqlalchemy import select

from models.contracts import Contract, PrepaymentSchemeTemplate
from security.effective import current
from security.rowscope import check_in_scope
from security.scope import scoped
from services.contracts.instalments import (
    MAX_ROWS,
    clear_schedule,
    parse_rows,
    replace_schedule,
    schedule_from_template,
    typed_amount,
)
from services.contracts.rules import fmt_date, money
from views.base import screen_command
from views.registry import register

BLANK_ROWS = 3


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

        def save() -> tuple[bool, int]:
            check_in_scope(session, contract)
            if request.form.get("clear"):
                return True, clear_schedule(session, contract)
            amount = typed_amount(contract, request.form.get("contract_amount", ""),
                                  may_edit=self.appbuilder.sm.has_access("can_edit",
                                                                         "ContractView"))
            if request.form.get("scheme"):
                lines = schedule_from_template(contract, session.scalar(scoped(
                    select(PrepaymentSchemeTemplate).where(
                        PrepaymentSchemeTemplate.id == request.form.get("scheme", type=int)),
                    current())))
            else:
                lines = parse_rows(request.form)
            return False, len(replace_schedule(session, contract, lines, amount=amount))

        def done(outcome: tuple[bool, int]):
            cleared, n = outcome
            if cleared:
                flash(_("Схема рассрочки договора %(c)s удалена: платежей %(n)s",
                        c=contract.number, n=n), "success")
            else:
                flash(_("Схема рассрочки договора %(c)s сохранена: платежей %(n)s",
                        c=contract.number, n=n), "success")
            return redirect(url_for("ContractView.show", pk=contract.id))

        # Everything typed comes back, so nothing is lost to a refusal.
        return screen_command(save, session, done=done, again=lambda _exc: self._page(
            self._contract(contract_id), typed, 400,
            amount=request.form.get("contract_amount")))


register(InstalmentScheduleView)
