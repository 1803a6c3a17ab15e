"""The inalterable record of posted money documents, after Odoo's
`inalterable_hash`: each posted transaction, confirmed receipt and Z report gets a
link in its branch's chain, sha256 over the previous link's hash and the document's
fixed fields. Changing, deleting or inserting a document behind the application's
back breaks the chain from that document on; `verify` names the first break.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from models.invoices import NUMBERED_STATES, Invoice
from models.money import ChainHead, ChainLink, Receipt, Shift, Transaction

DOC_MODELS = {"transaction": Transaction, "receipt": Receipt, "z_report": Shift,
              "invoice": Invoice}
#: The fixed fields of each document: what a posted document may never change.
FIELDS = {
    "transaction": ("id", "branch_id", "account_id", "kind", "source", "amount", "delta",
                    "discount_id", "discount_amount", "voucher_line_id", "section_id",
                    "receipt_id", "shift_id", "related_id", "invoice_id", "posted_on",
                    "created_on", "created_by_id", "idem_key"),
    "receipt": ("id", "branch_id", "register_id", "shift_id", "account_id", "kind", "total",
                "fiscal_number", "shift_receipt", "created_on", "idem_key"),
    "z_report": ("id", "branch_id", "register_id", "number", "opened_on", "closed_on", "sales",
                 "refunds", "cash_in", "cash_out", "receipts", "z_document"),
    # A confirmed invoice: its number, payer, date and total (not its payment state).
    "invoice": ("id", "branch_id", "kind", "invoice_date", "number_year", "number_seq",
                "patient_id", "contract_id", "total", "storno_of_id", "confirmed_on",
                "confirmed_by_id"),
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def payload(doc_type: str, doc) -> str:
    """Return the canonical text of a document's fixed fields."""
    return doc_type + "|" + "|".join(_text(getattr(doc, name)) for name in FIELDS[doc_type])


def link_hash(previous: str, doc_type: str, doc) -> str:
    """Return sha256(previous hash + the document's fixed fields), hex."""
    return hashlib.sha256((previous + payload(doc_type, doc)).encode("utf-8")).hexdigest()


def append(session, doc_type: str, doc) -> ChainLink:
    """Chain a posted document (flushed, so it has its id) after its branch's last link.

    The branch's head row is locked (SELECT … FOR UPDATE): appends of one branch run
    one after another, so two links never share a sequence number."""
    with session.no_autoflush:
        head = session.scalar(select(ChainHead).where(ChainHead.branch_id == doc.branch_id)
                              .with_for_update().execution_options(populate_existing=True))
    if head is None:
        head = ChainHead(branch_id=doc.branch_id, seq=0, hash="")
        session.add(head)
    head.seq += 1
    head.hash = link_hash(head.hash, doc_type, doc)
    link = ChainLink(branch_id=doc.branch_id, seq=head.seq, doc_type=doc_type, doc_id=doc.id,
                     hash=head.hash)
    session.add(link)
    session.flush()
    return link


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    branch_id: int
    seq: int
    doc_type: str
    doc_id: int | None
    reason: str


def verify(session, branch_ids=None) -> list[Break]:
    """Return the first break of each branch's chain (empty: every chain holds), and
    posted documents that no link covers. Reads in batches of documents."""
    breaks: list[Break] = []
    stmt = select(ChainLink).order_by(ChainLink.branch_id, ChainLink.seq)
    if branch_ids is not None:
        stmt = stmt.where(ChainLink.branch_id.in_(branch_ids))
    links = session.scalars(stmt).all()
    docs = {kind: {d.id: d for d in session.scalars(select(model).where(
        model.id.in_([link.doc_id for link in links if link.doc_type == kind])))}
        for kind, model in DOC_MODELS.items()}
    previous: dict[int, tuple[int, str]] = {}
    broken: set[int] = set()
    for link in links:
        if link.branch_id in broken:
            continue
        seq, last = previous.get(link.branch_id, (0, ""))
        doc = docs[link.doc_type].get(link.doc_id)
        reason = None
        if link.seq != seq + 1:
            reason = _("пропущено звено цепочки")
        elif doc is None:
            reason = _("документ удалён")
        elif link_hash(last, link.doc_type, doc) != link.hash:
            reason = _("документ или звено изменены после проведения")
        if reason:
            breaks.append(Break(link.branch_id, link.seq, link.doc_type, link.doc_id, reason))
            broken.add(link.branch_id)
        previous[link.branch_id] = (link.seq, link.hash)
    breaks.extend(_unchained(session, branch_ids))
    return breaks


def _unchained(session, branch_ids) -> list[Break]:
    """Return posted documents without a link (written past the services)."""
    found = []
    posted = {"transaction": Transaction.id.is_not(None),
              "receipt": Receipt.state == "confirmed", "z_report": Shift.state == "closed",
              "invoice": Invoice.state.in_(NUMBERED_STATES) & Invoice.number_seq.is_not(None)}
    for kind, model in DOC_MODELS.items():
        linked = select(ChainLink.doc_id).where(ChainLink.doc_type == kind)
        stmt = select(model.branch_id, model.id).where(posted[kind], model.id.not_in(linked))
        if branch_ids is not None:
            stmt = stmt.where(model.branch_id.in_(branch_ids))
        row = session.execute(stmt.order_by(model.id).limit(1)).first()
        if row:
            found.append(Break(row[0], 0, kind, row[1], _("документ не внесён в цепочку")))
    return found
