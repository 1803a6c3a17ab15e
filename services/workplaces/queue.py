"""A personal manager's (and his assistant's) queue: what his clients asked and the
lab has not finished — open questions, courier calls, consumables and add-on
orders — oldest first, grouped by client."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.cabinet import CourierCall, Question
from models.cabinet_orders import AddonOrder, ConsumableOrder
from models.org import Unit, UnitClosure
from security.scope import scoped

#: kind -> (model, the right that opens its page, the states still waiting for the lab)
KINDS = {
    "question": (Question, "cabinet.questions", None),
    "courier": (CourierCall, "cabinet.courier", ("new", "accepted")),
    "consumables": (ConsumableOrder, "cabinet.consumables", ("new", "accepted", "shipped")),
    "addon": (AddonOrder, "cabinet.test_reorders", ("new", "accepted")),
}


@dataclass
class ClientQueue:
    """One client's open items, oldest first, and their count by kind."""

    client: Unit
    items: list = field(default_factory=list)  # (kind, row)
    counts: dict = field(default_factory=dict)


def _open_rows(session, rights, kind: str) -> list:
    model, _right, states = KINDS[kind]
    # A question is open until it is answered; a request until the lab finishes it.
    where = model.answer.is_(None) if states is None else model.state.in_(states)
    return list(session.scalars(scoped(
        select(model).where(where).options(selectinload(model.unit))
        .order_by(model.created_on, model.id), rights)))


def open_counts(session, rights) -> dict[str, int]:
    """Return {kind: open items} for the kinds whose right the user holds."""
    return {kind: len(_open_rows(session, rights, kind))
            for kind, (_m, right, _s) in KINDS.items() if rights.allows(right)}


def queue(session, rights) -> list[ClientQueue]:
    """Return the open items of the user's clients (the client organisations in his
    scope) per client, the client with the oldest item first; kinds whose right he
    lacks are left out."""
    clients = {c.id: ClientQueue(c) for c in session.scalars(scoped(
        select(Unit).where(Unit.kind == "client").order_by(Unit.name), rights))}
    if not clients:
        return []
    owner = dict(session.execute(
        select(UnitClosure.descendant_id, UnitClosure.ancestor_id)
        .where(UnitClosure.ancestor_id.in_(clients))).all())
    for kind, (_model, right, _states) in KINDS.items():
        if not rights.allows(right):
            continue
        for row in _open_rows(session, rights, kind):
            client = clients.get(owner.get(row.unit_id))
            if client is not None:
                client.items.append((kind, row))
                client.counts[kind] = client.counts.get(kind, 0) + 1
    waiting = [c for c in clients.values() if c.items]
    for client in waiting:
        client.items.sort(key=lambda item: (item[1].created_on, item[1].id))
    waiting.sort(key=lambda c: c.items[0][1].created_on)
    return waiting + [c for c in clients.values() if not c.items]
