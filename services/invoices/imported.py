"""Invoices that come from a file («Импорт счетов»): the invoice to a contract's payer
made of the rendered lines the file names, by the same rules as the screen's
«Выставить счёт» (`services.invoices.create`): the kind's access at "create", the
network-contract right, the branch in the user's write scope, the invoice date
(closed period, future, days allowed), lines rendered under the contract and not in
another invoice. Confirmed afterwards by `lifecycle.confirm` when asked (its right).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotFound
from models.contracts import Contract
from models.invoices import Invoice
from models.vouchers import VoucherLine
from security.scope import scoped
from services.boundary import command
from services.invoices import lifecycle
from services.invoices.create import (
    _fill,
    _new_invoice,
    contract_kind,
    contract_lines,
)
from services.invoices.rules import NETWORK_RIGHT


@command
def invoice_from_lines(session, rights, *, contract_id: int, invoice_date: dt.date,
                       line_ids: list[int], external_number: str, note: str | None = None,
                       confirm: bool = False) -> Invoice:
    """Make an invoice to the contract's payer of the voucher lines `line_ids` (rendered,
    charged to the contract, in the period of their service dates), marked with the
    file's `external_number`; confirm it when `confirm`. Returns the invoice.

    Raises Forbidden (the kind's access, network contracts, confirmation), NotFound
    (a contract outside the scope), ValidationError (date, no lines), Conflict (another
    user invoiced a line first)."""
    contract = session.scalar(scoped(select(Contract).where(Contract.id == contract_id),
                                     rights))
    if contract is None:
        raise NotFound(_("Договор не найден"), field="contract")
    if contract.network:
        rights.require(NETWORK_RIGHT, field="contract")
    days = session.scalars(select(VoucherLine.service_date)
                           .where(VoucherLine.id.in_(line_ids))).all()
    start, end = (min(days), max(days)) if days else (invoice_date, invoice_date)
    invoice = _new_invoice(session, rights, contract_kind(contract), contract.branch_id,
                           invoice_date, contract_id=contract.id, period_from=start,
                           period_to=end, note=note or None, external_number=external_number)
    _fill(session, invoice, contract_lines(contract, start, end)
          .where(VoucherLine.id.in_(line_ids)))
    if confirm:
        lifecycle.confirm(session, rights, invoice.id)
    return invoice
