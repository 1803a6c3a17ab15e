"""The change journal as a person reads it: the row's name, field labels instead of
column names, the linked rows' names instead of their ids, choice labels, Да/Нет and
Russian dates, the author's full name, and before → after side by side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import g
from flask_appbuilder import Model
from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from models.cabinet import ADDRESSEES, CALL_KINDS, CALL_STATES
from models.cabinet_orders import ADDON_STATES, ORDER_STATES
from models.user import AppUser
from models.vouchers import LINE_STATES, PAYER_KINDS
from views.formatters import _date, _number
from views.refbook import declared_books

#: Columns that are machinery, not something a person changed.
TECHNICAL = {"id", "version", "name_key", "session_epoch", "password", "changed_on",
             "created_on", "changed_by_fk", "created_by_fk"}


#: Coded choices of tables that are not reference books (those have their formatters).
CHOICES = {
    ("cab_courier_call", "kind"): CALL_KINDS, ("cab_courier_call", "state"): CALL_STATES,
    ("cab_question", "addressee"): ADDRESSEES,
    ("cab_consumable_order", "state"): ORDER_STATES, ("cab_addon_order", "state"): ADDON_STATES,
    ("vch_line", "state"): LINE_STATES, ("vch_line", "payer_kind"): PAYER_KINDS,
}


@dataclass(frozen=True)
class Field:
    """One field of a journal entry: its label and its value before and after."""

    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def model_of(table: str):
    """Return the mapped class of a table (None for one the code no longer maps)."""
    for mapper in Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table:
            return mapper.class_
    return None


def _choices(model) -> dict:
    """Return {column: formatter} of the reference book declared on `model`."""
    found = {}
    for book in declared_books():
        if book.model is model:
            found.update(book.formatters)
    return found


def _links(model) -> dict:
    """Return {foreign key column: (relationship label, linked class)}."""
    links = {}
    for rel in sa_inspect(model).relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        for column in rel.local_columns:
            links[column.key] = (rel.info.get("label"), rel.mapper.class_)
    return links


def _name(row) -> str:
    """Return how a row names itself; «№ id» for a class without a name of its own."""
    text = str(row)
    if " object at 0x" in text:
        return _("№ %(n)s", n=getattr(row, "id", ""))
    return text


def _shown(session, key: str, value, model, links, choices) -> str:
    """Return a stored value as the screens show it."""
    if value is None or value == "":
        return ""
    if key in links:
        row = session.get(links[key][1], value)
        return _name(row) if row is not None else _("удалённая запись № %(n)s", n=value)
    if key in choices:
        return str(choices[key](value))
    if value is True or value is False:
        return _("Да") if value else _("Нет")
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return _date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    column = model.__table__.columns.get(key) if model is not None else None
    scale = getattr(getattr(column, "type", None), "scale", None)
    if scale:
        try:
            return _number(min(scale, 2))(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return str(value)


def _label(model, key: str, links: dict) -> str:
    if key in links and links[key][0] is not None:
        return str(links[key][0])
    column = model.__table__.columns.get(key) if model is not None else None
    text = (column.info.get("label") if column is not None else None)
    return str(text) if text is not None else key


def read_entry(session, entry) -> dict:
    """Return the entry as a person reads it: {"row": the row's name, "fields": the
    fields (only the changed ones for an update), "who": the author's full name}."""
    model = model_of(entry.table_name)
    links = _links(model) if model is not None else {}
    choices = _choices(model) if model is not None else {}
    for (table, column), labels in CHOICES.items():
        if table == entry.table_name:
            choices.setdefault(column, lambda v, labels=labels: labels.get(v, v))
    before, after = entry.before or {}, entry.after or {}
    fields = []
    for key in dict.fromkeys([*before, *after]):
        if key in TECHNICAL:
            continue
        field = Field(_label(model, key, links),
                      _shown(session, key, before.get(key), model, links, choices),
                      _shown(session, key, after.get(key), model, links, choices))
        if entry.action != "update" or field.changed:
            fields.append(field)
    row = None
    if model is not None and entry.row_pk.isdecimal():
        row = session.get(model, int(entry.row_pk))
    return {"row": _name(row) if row is not None else "", "fields": fields,
            "who": full_name(session, entry.username)}


def full_name(session, username: str) -> str:
    """Return «Full Name (login)» of a journal's author (the login alone for a removed
    user or the deploy); the users are read once a request."""
    if "uchet_journal_names" not in g:
        g.uchet_journal_names = {u.username: u.get_full_name() for u in session.scalars(
            select(AppUser))}
    name = g.uchet_journal_names.get(username)
    return f"{name} ({username})" if name else username
