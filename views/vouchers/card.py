"""The voucher's card as a document: its header, the lines as a table with quantity,
price, payer and state, the total under them, and the actions the user may take.

The actions are a list of declarations (views/cards.py); other screens append theirs
(«Выставить счёт», «Оплатить») to `VOUCHER_ACTIONS`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models.vouchers import (
    LINE_STATES,
    PAYER_KINDS,
    VOUCHER_KINDS,
    VOUCHER_SOURCES,
    VOUCHER_STATES,
    Voucher,
    VoucherLine,
)
from security.effective import current
from views.cards import CardAction, allowed_actions

VOUCHER_ACTIONS: list[CardAction] = [
    CardAction(_l("Добавить услугу"), "VoucherLineView.add",
               lambda v: {"_flt_0_voucher": v.id}, permission=("can_add", "VoucherLineView"),
               icon="fa-plus", primary=True),
    CardAction(_l("Изменить"), "VoucherView.edit", permission=("can_edit", "VoucherView"),
               icon="fa-pencil"),
    CardAction(_l("Пересчитать"), "VoucherView.action_post", lambda _v: {},
               permission=("recalculate", "VoucherView"), right=("voucher.recalculate", None),
               icon="fa-refresh", when=lambda v: bool(v.lines),
               post=lambda v: {"action": "recalculate", "rowid": v.id, "back": "card"}),
    CardAction(_l("Выставить счёт"), "PatientInvoiceView.add",
               lambda v: {"patient": v.patient_id}, permission=("can_add", "PatientInvoiceView"),
               icon="fa-file-text"),
    CardAction(_l("Оплатить"), "CashDeskView.desk", lambda v: {"patient": v.patient_id},
               permission=("pay", "VoucherView"), icon="fa-money"),
    CardAction(_l("Информация об оказанных пациенту услугах"), "PatientServicesView.show",
               lambda v: {"patient_id": v.patient_id},
               permission=("can_show", "PatientServicesView"), icon="fa-list"),
    CardAction(_l("Печать"), "", lambda _v: {}, icon="fa-print", script="window.print()"),
]

#: Actions on one line of the card (the item is the line).
LINE_ACTIONS: list[CardAction] = [
    CardAction(_l("Разделить оплату"), "VoucherLineView.action",
               lambda line: {"name": "split_payment", "pk": line.id},
               permission=("split_payment", "VoucherLineView"),
               right=("voucher.split_payments", None), icon="fa-columns",
               when=lambda line: line.payer_kind != "patient" and line.state == "rendered",
               post=lambda _line: {}),
    CardAction(_l("Изменить"), "VoucherLineView.edit", permission=("can_edit", "VoucherLineView"),
               icon="fa-pencil"),
]


def payer_text(line: VoucherLine) -> str:
    """Return who pays a line: the programme (and contract) of the attachment, the
    contract, or the patient."""
    kind = str(PAYER_KINDS.get(line.payer_kind, line.payer_kind))
    if line.payer_kind == "attachment" and line.attachment is not None:
        return f"{kind}: {line.attachment.programme}"
    if line.payer_kind == "contract" and line.contract is not None:
        return f"{kind}: {line.contract}"
    return kind


#: What the card reads beside the voucher, loaded with it by the list's own scoped
#: `get` (views/vouchers/vouchers.py): the lines with their service and payer.
CARD_LOADS = ("lines.service", "lines.attachment.programme", "lines.contract")


def card_context(voucher: Voucher) -> dict:
    """Return what the voucher card's template shows of `voucher`, a row FAB's show
    has read through the view's scope filters (it answers 404 for any other) with
    `CARD_LOADS`: the voucher, its lines with their actions and payers, the voucher's
    actions and labels."""
    rights = current()
    lines = [{"line": line, "payer": payer_text(line),
              "state": LINE_STATES.get(line.state, line.state),
              "actions": allowed_actions(LINE_ACTIONS, line, rights)}
             for line in sorted(voucher.lines, key=lambda line: line.id)]
    return {"voucher": voucher, "lines": lines,
            "quantity": sum(line.quantity for line in voucher.lines),
            "actions": allowed_actions(VOUCHER_ACTIONS, voucher, rights),
            "kind": VOUCHER_KINDS.get(voucher.kind, voucher.kind),
            "source": VOUCHER_SOURCES.get(voucher.source, voucher.source),
            "state": VOUCHER_STATES.get(voucher.state, voucher.state)}
