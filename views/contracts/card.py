"""The contract's card as a document: its header, the programmes with their limits
used and left, the guarantee letters and the instalment schedule, and the actions
the user may take (a list of declarations, views/cards.py)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.contracts import CONTRACT_KINDS, PAYMENT_SCHEMES, Contract, PaymentGuarantee
from models.programmes import Programme
from security.effective import current
from security.scope import scoped
from services.workplaces.contracts import programme_usage
from views.cards import CardAction, allowed_actions
from views.refbook import RefBookView

CONTRACT_ACTIONS: list[CardAction] = [
    CardAction(_l("Изменить"), "ContractView.edit", permission=("can_edit", "ContractView"),
               icon="fa-pencil"),
    CardAction(_l("Добавить медпрограмму"), "ProgrammeView.add",
               lambda c: {"_flt_0_contract": c.id}, permission=("can_add", "ProgrammeView"),
               icon="fa-medkit", primary=True),
    CardAction(_l("Добавить гарантийное письмо"), "PaymentGuaranteeView.add",
               lambda c: {"_flt_0_contract": c.id},
               permission=("can_add", "PaymentGuaranteeView"), icon="fa-envelope-o"),
    CardAction(_l("Схема рассрочки оплат"), "InstalmentScheduleView.edit",
               lambda c: {"contract_id": c.id},
               permission=("can_edit", "InstalmentScheduleView"), icon="fa-calendar"),
    CardAction(_l("Печать"), "", lambda _c: {}, icon="fa-print", script="window.print()"),
]


def card_context(session, pk, today: dt.date | None = None) -> dict:
    """Return what the contract card shows of the contract `pk` the user reads (FAB's
    show has answered 404 for any other): the contract, its programmes with their cost
    limits used and left, guarantee letters, schedule and actions."""
    rights = current()
    today = today or dt.date.today()
    contract = session.scalar(scoped(
        select(Contract).where(Contract.id == int(pk))
        .options(selectinload(Contract.instalments), selectinload(Contract.branches)), rights))
    if contract is None:
        return {}
    programmes = session.scalars(scoped(
        select(Programme).where(Programme.contract_id == contract.id)
        .options(selectinload(Programme.price_type)).order_by(Programme.code), rights)).all()
    usage = {u.programme.id: u for u in programme_usage(session, rights, today, contract.id)}
    guarantees = session.scalars(scoped(
        select(PaymentGuarantee).where(PaymentGuarantee.contract_id == contract.id)
        .options(selectinload(PaymentGuarantee.programmes))
        .order_by(PaymentGuarantee.valid_from), rights)).all()
    schedule = sorted(contract.instalments, key=lambda line: line.due_date)
    return {"contract": contract, "programmes": [(p, usage.get(p.id)) for p in programmes],
            "guarantees": guarantees, "schedule": schedule,
            "scheduled": sum((line.amount for line in schedule), start=0),
            "kind": CONTRACT_KINDS.get(contract.kind, contract.kind),
            "scheme": PAYMENT_SCHEMES.get(contract.payment_scheme, contract.payment_scheme),
            "today": today, "actions": allowed_actions(CONTRACT_ACTIONS, contract, rights)}


class ContractScreen(RefBookView):
    """Contracts: the card reads as a document titled with the number and date."""

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            card = card_context(self._session(), kwargs["pk"])
            kwargs.update(card)
            if card:
                kwargs["title"] = _("Договор № %(n)s от %(d)s", n=card["contract"].number,
                                    d=card["contract"].signed_on.strftime("%d.%m.%Y"))
        return super().render_template(template, **kwargs)
