"""«Лицевые счета пациентов» and «Лицевые счета организаций» (organisations,
insurers and individuals under a contract): the list found by the holder's name,
and the account card with its balance, statement and the operations the user's
rights allow (deposit, refund, transfer, advance, flags, reversal and note of a
transaction, paying the holder's invoices). One screen per kind of account, each
governed by its access right.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.money import ACCOUNT_KINDS, ACCOUNT_RIGHTS, PAYER_KINDS
from security.effective import current
from services.money import invoices, payments, refunds, reversals, statements, transfers
from services.money.accounts import (
    AccountExists,
    account_in_scope,
    branch_choices,
    find_payers,
    money,
    open_payer_account,
    require_kind,
    set_flags,
)
from views.base import screen_command, screen_steps
from views.money.api import PatientAccountApi
from views.money.common import cashier, context, done_message, form_key, int_arg
from views.registry import register
from views.unit_fields import own_units


class AccountsBase(BaseView):
    """An account list and card of one kind (`kind`)."""

    kind = "patient"
    default_view = "list"
    #: The list offers «Открыть лицевой счёт» (a patient's opens at the cash desk).
    opens = False
    base_permissions = ["can_list", "can_show"]

    def _account(self, pk: int, level: str = "view"):
        """Return the account (404 outside the user's scope, 403 below his level)."""
        return account_in_scope(self.appbuilder.session, current(), pk, level)

    def _card(self, account, status: int = 200, key: str | None = None, typed=None):
        session, rights = self.appbuilder.session, current()
        code = ACCOUNT_RIGHTS[account.kind]
        may = {"edit": rights.allows(code, "edit"),
               "deposit": rights.allows(payments.DEPOSIT_RIGHT),
               "refund": rights.allows(refunds.REFUND_RIGHT),
               "transfer": rights.allows(transfers.TRANSFER_RIGHT),
               "reverse": rights.allows(f"{code}.edit_transactions"),
               "no_cash_desk": rights.allows("payment.disable_cash_register")}
        return self.render_template(
            "uchet/money_account.html", account=account, view=type(self).__name__,
            rows=statements.statement_or_404(session, rights, account.id),
            registers=statements.registers(session, rights),
            others=[a for a in statements.accounts(session, rights, account.kind, limit=200)
                    if a.id != account.id],
            invoices=invoices.payable_invoices(session, rights, account),
            may=may, key=key or form_key(), typed=typed or {}, **context()), status

    @expose("/list/")
    @has_access
    def list(self):
        """The accounts found by the holder's name."""
        text = request.args.get("q", "")
        rows = statements.accounts(self.appbuilder.session, current(), self.kind, text)
        # The counterparties' screen holds three kinds of payer: the column tells them apart.
        kinds = ACCOUNT_KINDS if self.kind != "patient" else None
        may_open = self.opens and current().allows(ACCOUNT_RIGHTS[self.kind], "create")
        return self.render_template("uchet/money_accounts.html", rows=rows, text=text,
                                    title=self.title, view=type(self).__name__, kinds=kinds,
                                    may_open=may_open, **context())

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        """The account card: balance, advance, statement, operations."""
        return self._card(self._account(pk))

    def _run(self, pk, operation, message, *, steps: bool = False):
        """Run an operation of the card; back to the card, or the card again with the
        refusal (and the same key, so that a retry is recognised)."""
        account = self._account(pk)
        session = self.appbuilder.session
        key = form_key()

        def done(result):
            flash(done_message(message, result) if steps else message, "success")
            return redirect(url_for(f"{type(self).__name__}.show", pk=pk))

        def again(_exc):
            session.rollback()
            return self._card(self._account(pk), 400, key=key, typed=request.form.to_dict())

        if steps:
            return screen_steps(lambda: operation(account, key), done=done, again=again)
        return screen_command(lambda: operation(account, key), session, done=done, again=again)

    @expose("/deposit/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def deposit(self, pk):
        """Put money onto the account (through the register chosen)."""
        return self._run(pk, lambda account, key: payments.deposit(
            self.appbuilder.session, current(), key=key,
            register_id=int_arg("register") or 0, account_id=account.id,
            amount=money(request.form.get("amount")), cashier=cashier()),
            _("Деньги внесены на лицевой счёт"), steps=True)

    @expose("/refund/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def refund(self, pk):
        """Give money back from the account's balance."""
        return self._run(pk, lambda account, key: refunds.refund(
            self.appbuilder.session, current(), key=key,
            register_id=int_arg("register") or 0, account_id=account.id,
            amount=money(request.form.get("amount")), cashier=cashier()),
            _("Возврат проведён"), steps=True)

    @expose("/transfer/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def transfer(self, pk):
        """Move money from another account onto this one."""
        return self._run(pk, lambda account, key: transfers.transfer(
            self.appbuilder.session, current(), key=key, source_id=int_arg("source") or 0,
            target_id=account.id, amount=money(request.form.get("amount"))),
            _("Перевод проведён"))

    @expose("/advance/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def advance(self, pk):
        """Turn part of the balance into an advance."""
        return self._run(pk, lambda account, key: transfers.to_advance(
            self.appbuilder.session, current(), key=key, account_id=account.id,
            amount=money(request.form.get("amount"))), _("Остаток переведён в аванс"))

    @expose("/flags/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def flags(self, pk):
        """Change «Не работать через кассу» and «Разрешён отрицательный остаток»."""
        return self._run(pk, lambda account, _key: set_flags(
            self.appbuilder.session, account.id, current(),
            no_cash_desk=request.form.get("no_cash_desk") == "y",
            allow_negative=request.form.get("allow_negative") == "y"),
            _("Настройки лицевого счёта сохранены"))

    @expose("/reverse/<int:pk>/<int:tx>", methods=["POST"])
    @has_access
    @permission_name("show")
    def reverse(self, pk, tx):
        """Reverse (storno) a transaction of the account; one that went through the
        register hands the money back with a refund receipt."""
        self._account(pk)
        return self._run(pk, lambda _account, key: reversals.reverse(
            self.appbuilder.session, current(), tx, key=key, cashier=cashier()),
            _("Транзакция сторнирована"), steps=True)

    @expose("/invoice/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def invoice(self, pk):
        """Pay an invoice of the holder from the account's balance."""
        amount = request.form.get("amount", "").strip()
        return self._run(pk, lambda account, key: invoices.pay_invoice(
            self.appbuilder.session, current(), key=key, account_id=account.id,
            invoice_id=int_arg("invoice") or 0, amount=money(amount) if amount else None),
            _("Счёт оплачен с лицевого счёта"))

    @expose("/invoice_desk/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("show")
    def invoice_desk(self, pk):
        """Take the payment of an invoice of the holder at the cash desk, in cash or by
        card through the register chosen (an organisation's invoices are paid here;
        a patient's also at «Касса»). Needs edit on the account's kind."""
        amount = request.form.get("amount", "").strip()
        return self._run(pk, lambda account, key: invoices.pay_invoice_at_desk(
            self.appbuilder.session, current(), key=key, register_id=int_arg("register") or 0,
            account_id=account.id, invoice_id=int_arg("invoice") or 0,
            amount=money(amount) if amount else None,
            cashless=request.form.get("how") == "card", cashier=cashier()),
            _("Оплата счёта принята"), steps=True)

    @expose("/note/<int:pk>/<int:tx>", methods=["POST"])
    @has_access
    @permission_name("show")
    def note(self, pk, tx):
        """Change a transaction's note."""
        return self._run(pk, lambda _account, _key: transfers.set_note(
            self.appbuilder.session, current(), tx, request.form.get("note", "")),
            _("Примечание сохранено"))


class PatientAccountsView(AccountsBase):
    """Лицевые счета пациентов."""

    route_base = "/money/patients"
    kind = "patient"
    title = _l("Лицевые счета пациентов")
    governing_right = "payment.patient_accounts"


class OrganisationAccountsView(AccountsBase):
    """Лицевые счета организаций: the accounts of whoever pays under a contract —
    organisations, insurers and individuals (the seed's one right for them)."""

    route_base = "/money/organisations"
    kind = "organisation"
    opens = True
    title = _l("Лицевые счета организаций")
    governing_right = "payment.organisation_accounts"

    def _open_form(self, typed: dict, errors: dict | None = None, exists: int | None = None,
                   status: int = 200):
        session, rights = self.appbuilder.session, current()
        branches = branch_choices(session, rights)
        if "branch" not in typed:
            ids = {b.id for b in branches}
            typed["branch"] = str(next((u for u in own_units() if u in ids), ""))
        chosen = {}
        for kind in PAYER_KINDS:
            # The form again after a refusal shows the holder typed, if the user sees it.
            pk = int_arg(f"holder_{kind}", typed)
            found = find_payers(session, rights, kind, "", ids=[pk]) if pk else []
            chosen[kind] = found[0] if found else None
        return self.render_template(
            "uchet/money_account_open.html", view=type(self).__name__, typed=typed,
            kinds={k: ACCOUNT_KINDS[k] for k in PAYER_KINDS}, chosen=chosen,
            branches=branches, errors=errors or {}, exists=exists, **context()), status

    @expose("/holders/<kind>")
    @has_access
    @permission_name("list")
    def holders(self, kind):
        """Return {"results": [{"id", "text"}]}: the payers of `kind` the user sees whose
        name holds the typed text (`q`, 2 characters or more)."""
        require_kind(current(), self.kind, "create")
        found = find_payers(self.appbuilder.session, current(), kind,
                            request.args.get("q", "")[:100])
        return jsonify(results=[{"id": pk, "text": name} for pk, name in found])

    @expose("/open/", methods=["GET", "POST"])
    @has_access
    @permission_name("list")
    def open_account(self):
        """«Открыть лицевой счёт»: an organisation's, an insurer's or an individual's,
        in a branch of the user's; then its card. A refusal shows the form again with
        what was typed and the message at its field."""
        require_kind(current(), self.kind, "create")
        if request.method == "GET":
            return self._open_form({"kind": request.args.get("kind", "organisation")})
        typed = request.form.to_dict()
        typed.pop("csrf_token", None)
        kind = typed.get("kind", "")
        session = self.appbuilder.session

        def done(account):
            flash(_("Лицевой счёт открыт"), "success")
            return redirect(url_for(f"{type(self).__name__}.show", pk=account.id))

        def again(exc):
            session.rollback()
            return self._open_form(typed, {exc.field or "kind": str(exc)},
                                   exc.account_id if isinstance(exc, AccountExists) else None,
                                   400)

        return screen_command(lambda: open_payer_account(
            session, current(), kind=kind, holder_id=int_arg(f"holder_{kind}"),
            branch_id=int_arg("branch")), session, done=done, again=again,
            flash_refusal=False)


register(PatientAccountsView, name="PatientAccounts", label=_l("Лицевые счета пациентов"),
         category="documents", icon="fa-credit-card", apis=(PatientAccountApi,))
register(OrganisationAccountsView, name="OrganisationAccounts",
         label=_l("Лицевые счета организаций"), category="documents", icon="fa-credit-card")
