"""«Транзакции по лицевым счетам» (over all accounts, with «Разрешить доступ к
списку транзакций по всем лицевым счетам»), the integrity page of the money chain,
and the registers' settings («Касса / Настройка»)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models.money import TRANSACTION_KINDS
from models.org import Unit, UnitKind
from models.refbooks import PaymentSection
from security.effective import current
from security.scope import WRITE, scoped
from services.dates import parse_date
from services.money import chain, statements
from services.money.shifts import save_register
from views.base import screen_command
from views.money.api import TransactionApi
from views.money.common import context, int_arg
from views.registry import register


class TransactionsView(BaseView):
    """Transactions over every account of the user's scope."""

    route_base = "/money/transactions"
    default_view = "list"
    governing_right = "payment.all_transactions"
    base_permissions = ["can_list"]

    @expose("/")
    @has_access
    def list(self):
        """The transactions, filtered by dates and kind."""
        since = parse_date(request.args.get("since", "")) if request.args.get("since") else None
        until = parse_date(request.args.get("until", "")) if request.args.get("until") else None
        kind = request.args.get("kind", "")
        rows = statements.all_transactions(self.appbuilder.session, current(), since=since,
                                           until=until,
                                           kind=kind if kind in TRANSACTION_KINDS else "")
        return self.render_template("uchet/money_transactions.html", rows=rows,
                                    args=request.args, **context())


class MoneyIntegrityView(BaseView):
    """The chain of posted money documents: holds, or where it first breaks."""

    route_base = "/money/integrity"
    default_view = "check"
    governing_right = "payment.all_transactions"
    base_permissions = ["can_check"]

    @expose("/")
    @has_access
    def check(self):
        """Verify the chains of the branches the user sees."""
        rights = current()
        session = self.appbuilder.session
        breaks = chain.verify(session, statements.branches_seen(session, rights))
        names = dict(session.execute(select(Unit.id, Unit.name)).all())
        return self.render_template("uchet/money_integrity.html", breaks=breaks, names=names,
                                    **context())


class RegistersView(BaseView):
    """Кассовые аппараты: the list and the settings form."""

    route_base = "/money/registers"
    default_view = "list"
    governing_right = "cash.settings"
    base_permissions = ["can_list"]

    def _page(self, status=200, typed=None):
        session, rights = self.appbuilder.session, current()
        return self.render_template(
            "uchet/money_registers.html", rows=statements.registers(session, rights),
            branches=session.scalars(scoped(select(Unit).where(Unit.kind == UnitKind.branch)
                                            .order_by(Unit.name), rights, WRITE)).all(),
            sections=session.scalars(select(PaymentSection).order_by(
                PaymentSection.register_section)).all(),
            typed=typed or {}, **context()), status

    @expose("/")
    @has_access
    def list(self):
        """The registers and their settings."""
        return self._page()

    @expose("/save", methods=["POST"])
    @has_access
    @permission_name("list")
    def save(self):
        """Create a register or change one."""
        form = request.form
        session = self.appbuilder.session

        def done(_register):
            flash(_("Настройки кассы сохранены"), "success")
            return redirect(url_for("RegistersView.list"))

        return screen_command(lambda: save_register(
            session, current(), int_arg("id", form), name=form.get("name", ""),
            serial=form.get("serial", ""), branch_id=int_arg("branch", form) or 0,
            enabled=form.get("enabled") == "y",
            default_section_id=int_arg("default_section", form),
            vat_rate=int(form.get("vat_rate", "-1")) if form.get("vat_rate", "-1").lstrip(
                "-").isdecimal() else -2),
            session, done=done, again=lambda _exc: self._page(400, form.to_dict()))


register(TransactionsView, name="MoneyTransactions", label=_l("Транзакции по лицевым счетам"),
         category="documents", icon="fa-list", apis=(TransactionApi,))
register(MoneyIntegrityView, name="MoneyIntegrity", label=_l("Неизменность оплат"),
         category="documents", icon="fa-link")
register(RegistersView, name="CashRegisters", label=_l("Настройка кассы"),
         category="documents", icon="fa-cog")
