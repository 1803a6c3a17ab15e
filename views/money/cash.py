"""«Касса»: the cashier's page. Choose the register, open the shift, find the
patient, tick the voucher lines to pay (the discount and the section if the rights
allow), take the payment through the register, refund a paid line, print X, Z and
section reports, cash in / out and a zero receipt. Each form carries the key of its
operation: a retry after a timeout is recognised, never charged twice.
"""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models.invoices import PAYMENT_STATES
from models.patients import Patient
from models.refbooks import Discount, PaymentSection
from security.effective import current
from security.scope import scoped
from services.money import desk, invoices, payments, refunds, shifts, statements
from services.money.accounts import money, patient_account
from views.base import screen_steps
from views.money.api import CashApi
from views.money.common import cashier, context, done_message, form_key, int_arg
from views.registry import register

VIEW = "CashDeskView"


class CashDeskView(BaseView):
    """The cash desk of the registers in the user's scope."""

    route_base = "/money/cash"
    default_view = "desk"
    governing_right = "payment.patient_accounts"
    base_permissions = ["can_desk"]
    permission_levels = {"can_desk": "view"}

    def _register(self):
        session, rights = self.appbuilder.session, current()
        wanted = int_arg("register")
        found = statements.registers(session, rights)
        if wanted is not None:
            return desk.register_in_scope(session, rights, wanted), found
        return (found[0] if found else None), found

    def _page(self, status: int = 200, key: str | None = None, report=None, title=None):
        session, rights = self.appbuilder.session, current()
        register_, found = self._register()
        shift = statements.current_shift(session, register_) if register_ else None
        patient_id = int_arg("patient")
        patient = session.scalar(scoped(select(Patient).where(Patient.id == patient_id),
                                        rights)) if patient_id else None
        lines = statements.patient_lines(session, rights, patient.id) if patient else []
        bills = statements.patient_invoices(session, rights, patient.id) if patient else []
        return self.render_template(
            "uchet/money_cash.html", register=register_, registers=found, shift=shift,
            receipts=statements.shift_receipts(session, shift) if shift else [],
            reconciliation=statements.reconciliation(shift) if shift else {},
            patient=patient, lines=lines, invoices=bills, payment_states=PAYMENT_STATES,
            found=statements.find_patients(session, rights, request.args.get("q", "")),
            q=request.args.get("q", ""), key=key or form_key(), report=report,
            report_title=title,
            discounts=session.scalars(select(Discount).where(
                Discount.active.is_(True), Discount.kind == "discount",
                Discount.percent.is_not(None)).order_by(Discount.name)).all(),
            sections=session.scalars(select(PaymentSection).where(
                PaymentSection.active.is_(True)).order_by(PaymentSection.register_section)).all(),
            may={code: rights.allows(right) for code, right in shifts.RIGHTS.items()}
            | {"discount": rights.allows(payments.DISCOUNT_RIGHT),
               "section": rights.allows(payments.SECTION_RIGHT),
               "refund": rights.allows(refunds.REFUND_RIGHT)},
            **context()), status

    @expose("/")
    @has_access
    def desk(self):
        """The cash desk page (pending receipts older than a minute are settled first)."""
        register_, _found = self._register()
        if register_ is not None:
            desk.recover(self.appbuilder.session, register_)
        return self._page()

    def _back(self, message: str):
        register_id, patient = int_arg("register"), int_arg("patient")
        flash(message, "success")
        return redirect(url_for(f"{VIEW}.desk", register=register_id,
                                **({"patient": patient} if patient else {})))

    def _steps(self, operation, message):
        key = form_key()
        return screen_steps(lambda: operation(key),
                            done=lambda result: self._back(done_message(message, result)),
                            again=lambda _exc: self._again(key))

    def _again(self, key):
        self.appbuilder.session.rollback()
        return self._page(400, key=key)

    @expose("/open", methods=["POST"])
    @has_access
    @permission_name("desk")
    def open(self):
        """Open a shift on the register."""
        return self._steps(lambda key: shifts.open_shift(
            self.appbuilder.session, current(), int_arg("register") or 0, key=key,
            cashier=cashier()), _("Смена открыта"))

    @expose("/pay", methods=["POST"])
    @has_access
    @permission_name("desk")
    def pay(self):
        """Take the patient's payment for the lines ticked."""
        def operation(key):
            choices = [payments.LineChoice(
                line_id=int(raw),
                amount=money(request.form.get(f"amount_{raw}"), "lines")
                if request.form.get(f"amount_{raw}", "").strip() else None,
                section_id=int_arg(f"section_{raw}", request.form))
                for raw in request.form.getlist("line") if raw.isdecimal() and len(raw) < 10]
            return payments.take_payment(
                self.appbuilder.session, current(), key=key,
                register_id=int_arg("register") or 0, patient_id=int_arg("patient") or 0,
                choices=choices, discount_id=int_arg("discount", request.form),
                from_balance=request.form.get("from_balance") == "y", cashier=cashier())
        return self._steps(operation, _("Оплата принята"))

    @expose("/invoice", methods=["POST"])
    @has_access
    @permission_name("desk")
    def invoice(self):
        """Take the payment of the patient's invoice in cash or by card."""
        session, rights = self.appbuilder.session, current()

        def operation(key):
            register_, _found = self._register()
            account = patient_account(session, rights, int_arg("patient") or 0,
                                      register_.branch_id)
            amount = request.form.get("amount", "").strip()
            return invoices.pay_invoice_at_desk(
                session, rights, key=key, register_id=register_.id, account_id=account.id,
                invoice_id=int_arg("invoice", request.form) or 0,
                amount=money(amount) if amount else None,
                cashless=request.form.get("how") == "card", cashier=cashier())
        return self._steps(operation, _("Оплата счёта принята"))

    @expose("/refund", methods=["POST"])
    @has_access
    @permission_name("desk")
    def refund(self):
        """Refund (a part of) a paid line to the patient."""
        session, rights = self.appbuilder.session, current()

        def operation(key):
            register_, _found = self._register()
            account = patient_account(session, rights, int_arg("patient") or 0,
                                      register_.branch_id)
            return refunds.refund(session, rights, key=key, register_id=register_.id,
                                  account_id=account.id, line_id=int_arg("line") or 0,
                                  amount=money(request.form.get("amount")), cashier=cashier())
        return self._steps(operation, _("Возврат проведён"))

    @expose("/z", methods=["POST"])
    @has_access
    @permission_name("desk")
    def z(self):
        """Print the Z report and close the shift."""
        return self._steps(lambda key: shifts.z_report(
            self.appbuilder.session, current(), int_arg("register") or 0, key=key,
            cashier=cashier()), _("Z-отчёт снят, смена закрыта"))

    @expose("/cash", methods=["POST"])
    @has_access
    @permission_name("desk")
    def cash(self):
        """Cash in or out of the drawer."""
        kind = "cash_out" if request.form.get("kind") == "cash_out" else "cash_in"
        return self._steps(lambda key: shifts.cash_move(
            self.appbuilder.session, current(), int_arg("register") or 0, kind,
            money(request.form.get("amount")), key=key, cashier=cashier()),
            _("Выплата проведена") if kind == "cash_out" else _("Внесение проведено"))

    @expose("/zero", methods=["POST"])
    @has_access
    @permission_name("desk")
    def zero(self):
        """Print a zero receipt."""
        return self._steps(lambda key: shifts.zero_receipt(
            self.appbuilder.session, current(), int_arg("register") or 0, key=key,
            cashier=cashier()), _("Нулевой чек пробит"))

    @expose("/report/<string:name>", methods=["POST"])
    @has_access
    @permission_name("desk")
    def report(self, name):
        """Show the X report or the report by sections (nothing is closed)."""
        session, rights = self.appbuilder.session, current()
        if name == "sections":
            make, title = shifts.section_report, _("Суточный отчёт по секциям")
        else:
            make, title = shifts.x_report, _("X-отчёт (без гашения)")
        return screen_steps(
            lambda: make(session, rights, int_arg("register") or 0),
            done=lambda data: self._page(report=_plain(data), title=title),
            again=lambda _exc: self._again(form_key()))


def _plain(data: dict) -> dict:
    """Return report figures as text (amounts as Decimal for the template)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = _plain(value)
        elif key in ("sales", "refunds", "cash_in", "cash_out", "cash", "grand_sales"):
            out[key] = Decimal(value)
        else:
            out[key] = value
    return out


register(CashDeskView, name="CashDesk", label=_l("Касса"), category="documents",
         icon="fa-money", apis=(CashApi,))
