"""«Импорт счетов»: invoices to the payers of contracts, one file row per invoice line.

The rows of one invoice share its external number, date and contract (the natural key:
loading the file again finds the invoice and changes nothing). Each row names a
rendered line of the contract — service code, service date, amount, optionally the
patient — that is not yet in an invoice; the invoice is then made by
`services.invoices.imported.invoice_from_lines`, the rules of the screen's «Выставить
счёт» (rights, branch scope, dates, lines), as a draft, or confirmed (numbered) when
the column «Подтвердить» says «да» and the user holds the confirmation right.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.errors import Conflict, Forbidden, NotFound, ValidationError
from models.contracts import Contract
from models.invoices import LIVE_STATES, Invoice, InvoiceLine
from models.patients import Patient, name_key
from models.pricelist import Service
from models.vouchers import Voucher, VoucherLine
from security.scope import scoped
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    MAX_ERRORS,
    ImportSpec,
    Outcome,
    RowError,
    RowProblem,
    money,
    optional_text,
    positive_int,
    refuse_formulas,
    required_date,
    required_text,
)
from services.invoices.create import contract_lines
from services.invoices.imported import invoice_from_lines

YES = {"да", "д", "yes", "1", "подтвердить", "подтверждён", "подтвержден"}
RULE_ERRORS = (ValidationError, Forbidden, NotFound, Conflict)


def is_yes(value) -> bool:
    """Return True for a cell that says yes («да», «1», …)."""
    return str(value or "").strip().lower() in YES


class InvoiceImport(ImportSpec):
    """Invoices to contracts' payers from their lines; one invoice per external number,
    date and contract."""

    code = "invoices"
    title = _l("Импорт счетов")
    right = "import.invoices"
    description = _l("Счета плательщикам договоров: строка на каждую оказанную услугу счёта. "
                     "Счёт определяется номером, датой и договором; услуга — кодом, датой "
                     "оказания, суммой и (если указан) пациентом. Счёт создаётся черновиком "
                     "или подтверждённым («Подтвердить» = да).")
    columns = (
        Column("number", "Номер счёта", ("Внешний номер", "Номер"), required=True),
        Column("invoice_date", "Дата счёта", required=True, hint="ДД.ММ.ГГГГ"),
        Column("contract", "Номер договора", ("Договор",), required=True),
        Column("service", "Код услуги", ("Услуга",), required=True),
        Column("service_date", "Дата услуги", ("Дата оказания",), required=True,
               hint="ДД.ММ.ГГГГ"),
        Column("patient", "Пациент", ("ФИО пациента",), hint="Фамилия Имя Отчество"),
        Column("quantity", "Количество", ("Кол-во",), hint="Пусто — 1"),
        Column("amount", "Сумма", required=True),
        Column("note", "Примечание"),
        Column("confirm", "Подтвердить", hint="да — подтвердить счёт после загрузки"),
    )
    key = ("number", "invoice_date", "contract")
    text_columns = ("number", "contract", "patient", "note")
    nothing = _l("В файле нет строк счетов")
    #: rule fields -> column keys (what the service's ValidationError names).
    field_columns = {"invoice_date": "invoice_date", "contract": "contract",
                     "lines": "service", "branch": "contract", "amount": "amount"}

    def execute(self, session, ctx, rows, report, *, dry_run: bool) -> None:
        """Group the rows by invoice, match each row to a rendered line and make each
        invoice by the invoice rules; every row gets an outcome."""
        keys = [c.key for c in self.columns]
        groups: dict[tuple, list] = defaultdict(list)
        outcomes: dict[int, Outcome] = {}
        parsed = []
        for line, values in rows:
            row = dict(zip(keys, values, strict=True))
            try:
                parsed.append((line, tuple(values), self._convert(row)))
            except RowProblem as problem:
                outcomes[line] = self._error(line, values, problem.key, problem.message)
        contracts = self._contracts(session, ctx, {p[2]["contract"] for p in parsed})
        services = {s.code: s for s in session.scalars(select(Service).where(
            Service.code.in_(sorted({p[2]["service"] for p in parsed}))))}
        for line, values, item in parsed:
            deal = contracts.get(item["contract"])
            if deal is None:
                outcomes[line] = self._error(line, values, "contract", _(
                    "Нет договора № «%(n)s» среди доступных вам", n=item["contract"]))
            elif item["service"] not in services:
                outcomes[line] = self._error(line, values, "service", _(
                    "Нет услуги с кодом «%(code)s»", code=item["service"]))
            else:
                item["contract_id"], item["service_id"] = deal.id, services[item["service"]].id
                groups[(item["number"], item["invoice_date"], deal.id)].append(
                    (line, values, item))
        for key, members in groups.items():
            for line, outcome in self._invoice(session, ctx, key, members).items():
                outcomes[line] = outcome
        for line in sorted(outcomes):
            report.add(outcomes[line])
        report.errors = report.errors[:MAX_ERRORS]
        report.extra = {"invoices": len(groups)}

    def _convert(self, row: dict) -> dict:
        refuse_formulas(row, self.text_columns)
        return {"number": required_text(row, "number", 50),
                "invoice_date": required_date(row, "invoice_date"),
                "contract": required_text(row, "contract", 50),
                "service": required_text(row, "service", 64),
                "service_date": required_date(row, "service_date"),
                "patient": name_key(optional_text(row, "patient", 300), None, None) or None,
                "quantity": positive_int(row, "quantity", default=1),
                "amount": money(row, "amount"),
                "note": optional_text(row, "note", 500),
                "confirm": is_yes(row.get("confirm"))}

    def _contracts(self, session, ctx, numbers: set[str]) -> dict[str, Contract]:
        if not numbers:
            return {}
        return {c.number: c for c in session.scalars(scoped(
            select(Contract).where(Contract.number.in_(sorted(numbers))), ctx["rights"]))}

    def _invoice(self, session, ctx, key, members) -> dict[int, Outcome]:
        """Return the outcome of each row of one invoice (made, found equal, or refused)."""
        number, day, contract_id = key
        wanted = Counter(_signature(item) for _l, _v, item in members)
        stored = session.scalar(scoped(select(Invoice).where(
            Invoice.external_number == number, Invoice.invoice_date == day,
            Invoice.contract_id == contract_id, Invoice.state.in_(LIVE_STATES)), ctx["rights"]))
        if stored is not None:
            held = Counter(session.execute(
                select(VoucherLine.service_id, VoucherLine.service_date, VoucherLine.quantity,
                       InvoiceLine.amount, Patient.name_key)
                .join(VoucherLine, VoucherLine.id == InvoiceLine.voucher_line_id)
                .join(Voucher, Voucher.id == VoucherLine.voucher_id)
                .join(Patient, Patient.id == Voucher.patient_id)
                .where(InvoiceLine.invoice_id == stored.id)).all())
            if sum(wanted.values()) == sum(held.values()) and \
                    all(_held(held, sig) for sig in wanted.elements()):
                return {line: Outcome(line, "same", values) for line, values, _i in members}
            line, values, _item = members[0]
            return {line: self._error(line, values, "number", _(
                "Счёт № %(n)s от %(d)s уже загружен, и его услуги отличаются от файла: "
                "измените его на экране счёта", n=number, d=f"{day:%d.%m.%Y}"))
                    } | self._rest(members, {line})
        return self._make(session, ctx, key, members)

    def _make(self, session, ctx, key, members) -> dict[int, Outcome]:
        number, day, contract_id = key
        deal = session.get(Contract, contract_id)
        dates = [item["service_date"] for _l, _v, item in members]
        candidates = session.execute(
            contract_lines(deal, min(dates), max(dates))
            .with_only_columns(VoucherLine.id, VoucherLine.service_id, VoucherLine.service_date,
                               VoucherLine.quantity, VoucherLine.amount, Patient.name_key)
            .join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .join(Patient, Patient.id == Voucher.patient_id)
            .where(VoucherLine.service_id.in_({i["service_id"] for _l, _v, i in members}))
            .order_by(VoucherLine.id)).all()
        taken = ctx.setdefault("_taken", set())
        chosen, outcomes = [], {}
        for line, values, item in members:
            match = next((c for c in candidates if c.id not in taken
                          and (c.service_id, c.service_date, c.quantity, c.amount)
                          == (item["service_id"], item["service_date"], item["quantity"],
                              item["amount"])
                          and item["patient"] in (None, c.name_key)), None)
            if match is None:
                outcomes[line] = self._error(line, values, "service", _(
                    "Нет оказанной по договору и не выставленной в счёт услуги «%(s)s» от "
                    "%(d)s на сумму %(a)s", s=item["service"], d=f"{item['service_date']:%d.%m.%Y}",
                    a=item["amount"]))
                continue
            taken.add(match.id)
            chosen.append(match.id)
        if outcomes:
            return outcomes | self._rest(members, set(outcomes))
        first = members[0][2]
        try:
            with session.begin_nested():
                invoice_from_lines(session, ctx["rights"], contract_id=contract_id,
                                   invoice_date=day, line_ids=chosen, external_number=number,
                                   note=first["note"],
                                   confirm=any(i["confirm"] for _l, _v, i in members))
        except RULE_ERRORS as exc:
            line, values, _item = members[0]
            column = self.field_columns.get(getattr(exc, "field", None) or "", "number")
            return {line: self._error(line, values, column, str(exc))} | self._rest(
                members, {line})
        return {line: Outcome(line, "insert", values) for line, values, _i in members}

    def _rest(self, members, failed: set[int]) -> dict[int, Outcome]:
        """Return errors for the rows of an invoice that is refused for other rows."""
        first = min(failed)
        return {line: self._error(line, values, "number", _(
            "Счёт не загружается из-за ошибки в строке %(line)s", line=first))
                for line, values, _i in members if line not in failed}

    def _error(self, line, values, key, message) -> Outcome:
        return Outcome(line, "error", tuple(values), [RowError(line, self.header(key), message)])


def _signature(item: dict) -> tuple:
    return (item["service_id"], item["service_date"], item["quantity"], item["amount"],
            item["patient"])


def _held(held: Counter, sig: tuple) -> bool:
    """Return True when a stored line matches the file's line `sig` (patient optional)."""
    for stored in held:
        if stored[:4] == sig[:4] and sig[4] in (None, stored[4]) and held[stored] > 0:
            held[stored] -= 1
            return True
    return False
