"""«Импорт оплаты счетов»: bank payments of confirmed invoices, one row per payment.

A payment is identified by its external number (the bank's or the accounting
system's): loading the file again finds it posted and changes nothing; the same number
with another invoice or amount is an error. The invoice is found among those the user
may change (his branch) by its number («12/2026») or the external number it was
imported with, and its date. Each payment is posted by
`services.money.bank.receive_invoice_payment` (the money rules of «Оплатить счёт»).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from core.errors import Conflict, Forbidden, NotFound, ValidationError
from models.invoices import Invoice
from models.org import Unit
from security.scope import WRITE, scoped
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    ImportSpec,
    Outcome,
    RowError,
    RowProblem,
    money,
    optional_text,
    refuse_formulas,
    required_date,
    required_text,
)
from services.money.bank import receive_invoice_payment, stored_payment

RULE_ERRORS = (ValidationError, Forbidden, NotFound, Conflict)
NUMBER = re.compile(r"\s*(\d+)\s*/\s*(\d{4})\s*")


class InvoicePaymentImport(ImportSpec):
    """Payments of confirmed invoices, by external payment number."""

    code = "invoice_payments"
    title = _l("Импорт оплаты счетов")
    right = "import.invoice_payments"
    description = _l("Оплаты подтверждённых счетов (банковские выписки): строка на каждый "
                     "платёж. Платёж определяется своим номером; счёт — номером («12/2026» "
                     "или внешним) и датой, среди счетов вашего филиала. Сумма зачисляется "
                     "на лицевой счёт плательщика и оплачивает счёт.")
    columns = (
        Column("payment", "Номер платежа", ("Номер платёжного поручения", "Платёж"),
               required=True),
        Column("paid_on", "Дата платежа", required=True, hint="ДД.ММ.ГГГГ"),
        Column("invoice", "Номер счёта", ("Счёт",), required=True,
               hint="Номер счёта (12/2026) или внешний номер"),
        Column("invoice_date", "Дата счёта", required=True, hint="ДД.ММ.ГГГГ"),
        Column("branch", "Филиал", ("Код филиала",),
               hint="Код или наименование; нужен, когда счёт с таким номером есть в "
                    "нескольких филиалах"),
        Column("amount", "Сумма", ("Сумма платежа",), required=True),
        Column("note", "Назначение платежа", ("Примечание",)),
    )
    key = ("payment",)
    text_columns = ("payment", "invoice", "branch", "note")
    nothing = _l("В файле нет платежей")
    field_columns = {"amount": "amount", "invoice": "invoice", "paid_on": "paid_on"}

    def plan_batch(self, session, ctx, batch):
        """Post each valid payment in a savepoint of the run's transaction; see
        ImportSpec.plan_batch."""
        keys = [c.key for c in self.columns]
        seen = ctx.setdefault("_seen", {})
        outcomes = []
        for line, values in batch:
            row = dict(zip(keys, values, strict=True))
            try:
                item = self._convert(row)
            except RowProblem as problem:
                outcomes.append(self._error(line, values, problem.key, problem.message))
                continue
            if item["payment"] in seen:
                outcomes.append(self._error(line, values, "payment", _(
                    "Повтор строки %(line)s: %(what)s", line=seen[item["payment"]],
                    what=self.header("payment"))))
                continue
            seen[item["payment"]] = line
            outcomes.append(self._post(session, ctx, line, values, item))
        session.flush()
        return outcomes

    def _convert(self, row: dict) -> dict:
        refuse_formulas(row, self.text_columns)
        return {"payment": required_text(row, "payment", 60),
                "paid_on": required_date(row, "paid_on"),
                "invoice": required_text(row, "invoice", 50),
                "invoice_date": required_date(row, "invoice_date"),
                "branch": optional_text(row, "branch", 255),
                "amount": money(row, "amount"),
                "note": optional_text(row, "note", 300)}

    def _find(self, session, ctx, item) -> Invoice:
        """Return the invoice a row names among those the user may change. Raises RowProblem."""
        number = item["invoice"]
        same = Invoice.external_number == number
        parts = NUMBER.fullmatch(number)
        if parts:
            same = or_(same, and_(Invoice.number_seq == int(parts[1]),
                                  Invoice.number_year == int(parts[2])))
        stmt = select(Invoice).where(same, Invoice.invoice_date == item["invoice_date"])
        if item["branch"]:
            # Numbers run per branch: the branch tells two invoices «1/2026» apart.
            stmt = stmt.where(Invoice.branch_id.in_(select(Unit.id).where(
                or_(Unit.code == item["branch"], Unit.name == item["branch"]))))
        found = session.scalars(scoped(stmt.limit(2), ctx["rights"], WRITE)).all()
        if not found:
            raise RowProblem("invoice", _(
                "Счёт № %(n)s от %(d)s не найден среди счетов вашего филиала", n=number,
                d=f"{item['invoice_date']:%d.%m.%Y}"))
        if len(found) > 1:
            raise RowProblem("invoice", _(
                "Счетов № %(n)s от %(d)s несколько (в разных филиалах): укажите филиал",
                n=number,
                d=f"{item['invoice_date']:%d.%m.%Y}"))
        return found[0]

    def _post(self, session, ctx, line, values, item) -> Outcome:
        try:
            invoice = self._find(session, ctx, item)
        except RowProblem as problem:
            return self._error(line, values, problem.key, problem.message)
        stored = stored_payment(session, item["payment"])
        if stored is not None:
            if stored.invoice_id == invoice.id and stored.amount == item["amount"]:
                return Outcome(line, "same", tuple(values))
            return self._error(line, values, "payment", _(
                "Платёж № %(n)s уже загружен с другим счётом или суммой", n=item["payment"]))
        try:
            with session.begin_nested():
                receive_invoice_payment(session, ctx["rights"], external_id=item["payment"],
                                        invoice=invoice, amount=item["amount"],
                                        paid_on=item["paid_on"], note=item["note"])
        except RULE_ERRORS as exc:
            session.expire(invoice)
            column = self.field_columns.get(getattr(exc, "field", None) or "", "invoice")
            return self._error(line, values, column, str(exc))
        return Outcome(line, "insert", tuple(values))

    def _error(self, line, values, key, message) -> Outcome:
        return Outcome(line, "error", tuple(values), [RowError(line, self.header(key), message)])
