"""Making invoices from the rendered voucher lines a payer owes.

* To a patient: his lines charged to himself (`payer_kind = "patient"`) in one
  branch, all of them or the ones ticked.
* To an organisation or an insurer, or to an individual: the lines charged to one
  contract (by attachment or directly) rendered in a period — the register of an
  OMS/DMS contract. A network contract's lines of every branch it serves need
  «Выставление счетов по сетевым договорам»; otherwise the signing branch's only.

The lines are copied with one INSERT … SELECT and turned "invoiced" with one
UPDATE … WHERE state = 'rendered': if another user invoiced some of them in the
meantime, fewer rows change than were copied and the whole invoice is refused
(Conflict), so a line is never in two invoices.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, insert, literal, select, update

from core.errors import Conflict, NotFound, ValidationError
from models.contracts import Contract
from models.invoices import Invoice, InvoiceLine
from models.patients import Patient
from models.vouchers import Voucher, VoucherLine
from security.scope import READ, scoped
from services.boundary import command
from services.dates import local_now
from services.invoices.journal import journal_bulk
from services.invoices.rules import (
    NETWORK_RIGHT,
    check_date,
    require_level,
    serialised,
    writable_branch,
)

CONTRACT_PAYER_KINDS = ("attachment", "contract")


def contract_kind(contract: Contract) -> str:
    """Return the invoice kind a contract's payer takes: "individual" for a person,
    "organisation" for an organisation or an insurer."""
    return "individual" if contract.individual_id is not None else "organisation"


def _of_patient(patient_id: int):
    # Not a join: the voucher's visibility rules are a correlated EXISTS on the voucher,
    # which a joined voucher would swallow.
    return VoucherLine.voucher_id.in_(select(Voucher.id).where(Voucher.patient_id == patient_id))


def patient_lines(patient_id: int, branch_id: int, rights, line_ids=None):
    """Return a SELECT of the patient's own rendered lines in the branch that the
    user sees (ticked ones only when `line_ids` is given)."""
    stmt = (select(VoucherLine)
            .where(_of_patient(patient_id), VoucherLine.branch_id == branch_id,
                   VoucherLine.payer_kind == "patient", VoucherLine.state == "rendered"))
    if line_ids is not None:
        stmt = stmt.where(VoucherLine.id.in_([int(i) for i in line_ids]))
    return scoped(stmt, rights, READ, model=VoucherLine)


def contract_lines(contract: Contract, period_from: dt.date, period_to: dt.date):
    """Return a SELECT of the contract's rendered lines in the period (every branch of
    a network contract; the signing branch's otherwise)."""
    stmt = select(VoucherLine).where(
        VoucherLine.contract_id == contract.id, VoucherLine.state == "rendered",
        VoucherLine.payer_kind.in_(CONTRACT_PAYER_KINDS),
        VoucherLine.service_date >= period_from, VoucherLine.service_date <= period_to)
    if not contract.network:
        stmt = stmt.where(VoucherLine.branch_id == contract.branch_id)
    return stmt


def _fill(session, invoice: Invoice, lines_stmt) -> None:
    """Copy the selected lines into the invoice, take them ("invoiced") and set the
    total. Raises ValidationError when there is nothing to invoice, Conflict when
    another user took some of the lines first."""
    src = lines_stmt.subquery()
    session.execute(insert(InvoiceLine).from_select(
        ["invoice_id", "voucher_line_id", "service_date", "quantity", "price", "amount"],
        select(literal(invoice.id), src.c.id, src.c.service_date, src.c.quantity,
               src.c.price, src.c.amount).order_by(src.c.service_date, src.c.id)))
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(InvoiceLine.amount), 0))
        .where(InvoiceLine.invoice_id == invoice.id)).one()
    if not count:
        raise ValidationError(_("Нет оказанных услуг, по которым можно выставить счёт"),
                              field="lines")
    taken = session.execute(
        update(VoucherLine).where(
            VoucherLine.id.in_(select(InvoiceLine.voucher_line_id)
                               .where(InvoiceLine.invoice_id == invoice.id)),
            VoucherLine.state == "rendered")
        .values(state="invoiced").execution_options(synchronize_session=False)).rowcount
    if taken != count:
        raise Conflict(_("Часть услуг уже выставлена в счёт другим пользователем: обновите "
                         "страницу и выставьте счёт снова"))
    invoice.total = Decimal(total)
    journal_bulk(session, "update", VoucherLine.__tablename__, f"invoice:{invoice.id}",
                 {"state": "rendered"}, {"state": "invoiced", "lines": count,
                                         "invoice_id": invoice.id})
    session.flush()
    _expire_lines(session)


def _expire_lines(session) -> None:
    # The SQL above changed lines the session may hold: read them again when asked.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, VoucherLine):
            session.expire(obj, ["state"])


def _new_invoice(session, rights, kind: str, branch_id: int, invoice_date, **values
                 ) -> Invoice:
    today = local_now().date()
    invoice_date = invoice_date or today
    require_level(rights, kind, "create")
    writable_branch(session, branch_id, rights)
    check_date(session, kind, branch_id, invoice_date, rights, today)
    invoice = Invoice(kind=kind, state="draft", branch_id=branch_id, invoice_date=invoice_date,
                      total=Decimal("0.00"), paid_amount=Decimal("0.00"),
                      created_by_id=rights.user_id, **values)
    session.add(invoice)
    session.flush()
    return invoice


def _branch_of(session, patient_id: int, rights, line_ids) -> int:
    """Return the one branch of the ticked lines (of all owed lines without a choice).

    Raises ValidationError when there are none or they lie in several branches."""
    stmt = (select(VoucherLine.branch_id)
            .where(_of_patient(patient_id), VoucherLine.payer_kind == "patient",
                   VoucherLine.state == "rendered").distinct())
    if line_ids is not None:
        stmt = stmt.where(VoucherLine.id.in_([int(i) for i in line_ids]))
    branches = session.scalars(scoped(stmt, rights, READ, model=VoucherLine)).all()
    if not branches:
        raise ValidationError(_("Нет оказанных услуг, по которым можно выставить счёт"),
                              field="lines")
    if len(branches) > 1:
        raise ValidationError(_("Услуги оказаны в разных филиалах: выставьте счёт по каждому "
                                "филиалу отдельно"), field="lines")
    return branches[0]


@command
@serialised
def invoice_patient(session, rights, *, patient_id, branch_id=None, invoice_date=None,
                    line_ids=None, note: str | None = None) -> Invoice:
    """Make a draft invoice to a patient of his own lines in the branch (the ticked
    ones, or all owed). Returns the invoice.

    Raises Forbidden without «Счета пациентам» at "create", NotFound for a patient or
    branch outside the user's scope, ValidationError for a bad date or no lines,
    Conflict when another user invoiced the lines first."""
    patient = session.scalar(scoped(select(Patient).where(Patient.id == patient_id), rights))
    if patient is None:
        raise NotFound(_("Пациент не найден"), field="patient")
    if branch_id is None:
        branch_id = _branch_of(session, patient.id, rights, line_ids)
    invoice = _new_invoice(session, rights, "patient", branch_id, invoice_date,
                           patient_id=patient.id, note=note or None)
    _fill(session, invoice, patient_lines(patient.id, branch_id, rights, line_ids))
    return invoice


@command
@serialised
def invoice_contract(session, rights, *, contract_id, period_from: dt.date,
                     period_to: dt.date, invoice_date=None, note: str | None = None,
                     kind: str | None = None) -> Invoice:
    """Make a draft invoice to a contract's payer (organisation, insurer or
    individual) for its lines rendered in the period: the register of services.
    Returns the invoice.

    Raises Forbidden without the kind's access at "create" (or, for a network
    contract, without «Выставление счетов по сетевым договорам»), NotFound for a
    contract outside the scope, ValidationError for a bad period, no lines or a
    contract whose payer takes another `kind` of invoice,
    Conflict when another user invoiced the lines first."""
    contract = session.scalar(scoped(select(Contract).where(Contract.id == contract_id),
                                     rights))
    if contract is None:
        raise NotFound(_("Договор не найден"), field="contract")
    if period_from is None or period_to is None:
        raise ValidationError(_("Укажите период"), field="period_from")
    if period_to < period_from:
        raise ValidationError(_("Конец периода раньше его начала"), field="period_to")
    if kind is not None and contract_kind(contract) != kind:
        raise ValidationError(_("Счёт по этому договору выставляется в другом разделе: плательщик "
                                "договора — %(p)s", p=contract.payer), field="contract")
    kind = contract_kind(contract)
    if contract.network:
        rights.require(NETWORK_RIGHT, field="contract")
    invoice = _new_invoice(session, rights, kind, contract.branch_id, invoice_date,
                           contract_id=contract.id, period_from=period_from,
                           period_to=period_to, note=note or None)
    _fill(session, invoice, contract_lines(contract, period_from, period_to))
    return invoice
