"""The rows an export to accounting reads, streamed (never a list of the period):
cash revenue (payments and refunds at the cash desk of a branch, by shift) and the
invoices to counterparties — organisations, insurers and individuals under a
contract — one row a line, in document order.

Every statement goes through `security.scope.scoped`, so an export reads exactly what
the user's lists show him.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.orm import aliased

from models.contracts import Contract
from models.invoices import NUMBERED_STATES, Invoice, InvoiceLine
from models.money import Receipt, Shift, Transaction
from models.parties import Individual, Insurer, Organisation
from models.pricelist import Service
from models.refbooks import ExportCode, PaymentSection
from models.vouchers import VoucherLine
from security.scope import scoped

#: Rows fetched from the database at a time (a server-side cursor on PostgreSQL).
BATCH = 2000
#: Kinds of cash transactions that are revenue: a payment adds, a refund subtracts.
REVENUE_KINDS = ("payment", "refund")


class CashRow(NamedTuple):
    """One payment or refund at the cash desk; `amount` is negative for a refund."""

    id: int
    shift_id: int
    shift_number: int
    day: dt.date
    kind: str
    receipt: int | None
    section: str
    service_code: str
    service_name: str
    export_code: str
    account: str
    amount: Decimal


#: Invoice kinds exported: to an organisation or an insurer, to an individual under a
#: contract (a patient's own invoices are cash revenue, paid at the desk).
EXPORTED_KINDS = ("organisation", "individual")


class InvoiceRow(NamedTuple):
    """One line of a numbered invoice to an organisation, an insurer or an individual
    under a contract; `person` is True for an individual (no code, no КПП: his
    `party_code` is his record's id)."""

    id: int
    invoice_id: int
    number: str
    day: dt.date
    person: bool
    party_code: str
    party_name: str
    inn: str
    kpp: str
    service_date: dt.date
    service_code: str
    service_name: str
    export_code: str
    account: str
    quantity: int
    price: Decimal
    amount: Decimal


def _cash_filter(stmt, branch_id: int, start: dt.date, end: dt.date):
    return stmt.where(Transaction.branch_id == branch_id, Transaction.posted_on >= start,
                      Transaction.posted_on <= end, Transaction.kind.in_(REVENUE_KINDS),
                      Transaction.reversed.is_(False), Transaction.shift_id.is_not(None))


def _invoice_filter(stmt, branch_id: int, start: dt.date, end: dt.date):
    return stmt.where(Invoice.branch_id == branch_id, Invoice.invoice_date >= start,
                      Invoice.invoice_date <= end, Invoice.kind.in_(EXPORTED_KINDS),
                      Invoice.state.in_(NUMBERED_STATES))


def count(session, rights, kind: str, branch_id: int, start: dt.date, end: dt.date) -> int:
    """Return how many rows the export of `kind` ("cash" or "invoices") will write."""
    if kind == "cash":
        stmt = _cash_filter(select(func.count(Transaction.id)), branch_id, start, end)
        return session.scalar(scoped(stmt, rights, model=Transaction)) or 0
    stmt = _invoice_filter(select(func.count(InvoiceLine.id)).join(InvoiceLine.invoice),
                           branch_id, start, end)
    return session.scalar(scoped(stmt, rights, model=Invoice)) or 0


def totals(session, rights, kind: str, branch_id: int, start: dt.date,
           end: dt.date) -> dict[int, Decimal]:
    """Return the sum of each document (shift or invoice) the export writes, by id: the
    XML names it before the document's lines, which are streamed, not held. As many
    entries as documents, never as lines."""
    if kind == "cash":
        signed = case((Transaction.kind == "refund", -Transaction.amount),
                      else_=Transaction.amount)
        stmt = _cash_filter(select(Transaction.shift_id, func.sum(signed)), branch_id,
                            start, end).group_by(Transaction.shift_id)
        stmt = scoped(stmt, rights, model=Transaction)
    else:
        stmt = _invoice_filter(select(Invoice.id, func.sum(InvoiceLine.amount))
                               .join(InvoiceLine.invoice), branch_id, start, end)
        stmt = scoped(stmt.group_by(Invoice.id), rights, model=Invoice)
    return {key: Decimal(total) for key, total in session.execute(stmt)}


def cash_rows(session, rights, branch_id: int, start: dt.date,
              end: dt.date) -> Iterator[CashRow]:
    """Yield the cash revenue of the branch in [start, end], shift by shift."""
    stmt = (
        select(Transaction.id, Transaction.shift_id, Shift.number, Transaction.posted_on,
               Transaction.kind, Receipt.fiscal_number,
               func.coalesce(PaymentSection.name, literal("")),
               func.coalesce(Service.code, literal("")), func.coalesce(Service.name, literal("")),
               func.coalesce(ExportCode.code, literal("")),
               func.coalesce(ExportCode.account, literal("")), Transaction.amount)
        .join(Shift, Shift.id == Transaction.shift_id)
        .outerjoin(Receipt, Receipt.id == Transaction.receipt_id)
        .outerjoin(PaymentSection, PaymentSection.id == Transaction.section_id)
        .outerjoin(VoucherLine, VoucherLine.id == Transaction.voucher_line_id)
        .outerjoin(Service, Service.id == VoucherLine.service_id)
        .outerjoin(ExportCode, ExportCode.id == Service.export_code_id)
        .order_by(Transaction.shift_id, Transaction.id))
    stmt = scoped(_cash_filter(stmt, branch_id, start, end), rights, model=Transaction)
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        amount = Decimal(row[11])
        yield CashRow(*row[:11], -amount if row[4] == "refund" else amount)


def invoice_rows(session, rights, branch_id: int, start: dt.date,
                 end: dt.date) -> Iterator[InvoiceRow]:
    """Yield the lines of the branch's numbered invoices to organisations, insurers and
    individuals dated in [start, end], invoice by invoice."""
    insurer, organisation = aliased(Insurer), aliased(Organisation)
    person = aliased(Individual)
    person_code = cast(person.id, String)
    party = {name: func.coalesce(getattr(insurer, name), getattr(organisation, name), extra,
                                 literal(""))
             for name, extra in (("code", person_code), ("name", person.full_name),
                                 ("inn", person.inn), ("kpp", literal("")))}
    stmt = (
        select(InvoiceLine.id, Invoice.id, Invoice.number_year, Invoice.number_seq,
               Invoice.invoice_date, person.id.is_not(None), party["code"], party["name"],
               party["inn"], party["kpp"],
               InvoiceLine.service_date, Service.code, Service.name,
               func.coalesce(ExportCode.code, literal("")),
               func.coalesce(ExportCode.account, literal("")),
               InvoiceLine.quantity, InvoiceLine.price, InvoiceLine.amount)
        .join(InvoiceLine.invoice)
        .join(VoucherLine, VoucherLine.id == InvoiceLine.voucher_line_id)
        .join(Service, Service.id == VoucherLine.service_id)
        .outerjoin(ExportCode, ExportCode.id == Service.export_code_id)
        .outerjoin(Contract, Contract.id == Invoice.contract_id)
        .outerjoin(insurer, insurer.id == Contract.insurer_id)
        .outerjoin(organisation, organisation.id == Contract.organisation_id)
        .outerjoin(person, person.id == Contract.individual_id)
        .order_by(Invoice.invoice_date, Invoice.id, InvoiceLine.id))
    stmt = scoped(_invoice_filter(stmt, branch_id, start, end), rights, model=Invoice)
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        number = f"{row[3]}/{row[2]}" if row[3] is not None else str(row[1])
        yield InvoiceRow(row[0], row[1], number, row[4], bool(row[5]), *row[6:15], row[15],
                         Decimal(row[16]), Decimal(row[17]))
