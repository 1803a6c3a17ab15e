"""The money REST API: patients' accounts and the transactions over all accounts
read through the scope (`views.api` base), and the cash desk's payment of voucher
lines for a front desk program, with its idempotency key in the body: a client that
sends the same request again after a timeout gets the same receipt, not a second
payment. Refusals answer through `app.errors` (400 / 403 / 404)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose, protect
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import permission_name

from models.money import Account, Transaction
from security.effective import current
from services.money import payments, statements
from views.api import UchetModelRestApi
from views.datamodel import UchetInterface
from views.guards import csrf_for_cookie_sessions
from views.money.common import cashier
from views.openapi import correct_paths

ACCOUNT_COLUMNS = ["id", "branch_id", "patient_id", "balance", "advance", "no_cash_desk",
                   "allow_negative"]
TRANSACTION_COLUMNS = ["id", "account_id", "kind", "amount", "delta", "discount_amount",
                       "voucher_line_id", "section_id", "receipt_id", "reversed", "posted_on"]

READ_ONLY = frozenset({"get", "get_list", "info", "get_no_such_key"})


class PatientAccountApi(UchetModelRestApi):
    """Patients' accounts: balance and advance (read)."""

    resource_name = "money_patient_account"
    datamodel = UchetInterface(Account)
    governing_right = "payment.patient_accounts"
    base_permissions = ["can_get"]
    # Read only: no POST/PUT/DELETE route at all (a 405), not one nobody may use (a 403).
    include_route_methods = READ_ONLY
    base_filters = [["kind", FilterEqual, "patient"]]
    list_columns = show_columns = ACCOUNT_COLUMNS
    search_columns = ["patient_id", "branch_id"]


class TransactionApi(UchetModelRestApi):
    """Transactions over all accounts (read), with «Разрешить доступ к списку
    транзакций по всем лицевым счетам»."""

    resource_name = "money_transaction"
    datamodel = UchetInterface(Transaction)
    governing_right = "payment.all_transactions"
    base_permissions = ["can_get"]
    include_route_methods = READ_ONLY
    list_columns = show_columns = TRANSACTION_COLUMNS
    search_columns = ["account_id", "kind", "posted_on"]


class CashApi(BaseApi):
    """POST /api/v1/money_cash/pay: take a patient's payment for voucher lines;
    GET /api/v1/money_cash/balance/<account>: an account's balance;
    GET /api/v1/money_cash/statement/<account>: its statement."""

    resource_name = "money_cash"
    allow_browser_login = True
    governing_right = "payment.patient_accounts"
    base_permissions = ["can_post", "can_get"]
    permission_levels = {"can_post": "edit", "can_get": "view"}

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(csrf_for_cookie_sessions)
        return blueprint

    def add_api_spec(self, api_spec) -> None:
        """Describe the API with its path parameters declared (views.openapi)."""
        super().add_api_spec(api_spec)
        correct_paths(api_spec._paths, f"/api/v1/{self.resource_name}/")

    @expose("/pay", methods=["POST"])
    @protect()
    def post(self):
        """Body: {"key", "register", "patient", "lines": [{"line", "amount"?,
        "section"?}], "discount"?, "from_balance"?}. Answers 200 with the receipt's
        numbers (the same for a repeated key)."""
        order = payments.order_from(request.get_json(silent=True) or {})
        receipt = payments.take_payment(self.appbuilder.session, current(), cashier=cashier(),
                                        **order)
        key = order["key"]
        if receipt is None:
            return self.response(200, key=key, receipt=None)
        return self.response(200, key=key, receipt={
            "id": receipt.id, "state": receipt.state, "total": str(receipt.total),
            "fiscal_number": receipt.fiscal_number, "shift_receipt": receipt.shift_receipt})

    @expose("/balance/<int:account_id>", methods=["GET"])
    @protect()
    def get(self, account_id):
        """Answers 200 {"account", "balance"} (the running balance, one statement), or
        404 for an account outside the user's scope or of a kind he does not see."""
        value = statements.balance_or_404(self.appbuilder.session, current(), account_id)
        return self.response(200, account=account_id, balance=str(value))

    @expose("/statement/<int:account_id>", methods=["GET"])
    @protect()
    @permission_name("get")
    def statement(self, account_id):
        """Answers 200 {"account", "rows"}: the last `limit` (≤ 200, default 200)
        transactions, newest first, with the columns of «Выписка по лицевому счёту»;
        404 for an account outside the user's scope or of a kind he does not see."""
        limit = request.args.get("limit", "200")
        limit = min(int(limit), 200) if limit.isdecimal() and int(limit) > 0 else 200
        rows = statements.statement_or_404(self.appbuilder.session, current(), account_id,
                                           limit)
        return self.response(200, account=account_id, rows=[{
            "id": r.id, "date": r.posted_on.isoformat(), "kind": r.kind,
            "kind_label": r.kind_label, "reversed": r.reversed, "amount": str(r.amount),
            "discount": str(r.discount), "delta": str(r.delta), "balance": str(r.balance),
            "service": r.service, "invoice": r.invoice, "fiscal_number": r.fiscal_number,
            "who": r.who, "note": r.note} for r in rows])
