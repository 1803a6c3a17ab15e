"""Search-as-you-type choice fields for registries too large for a dropdown (a
network keeps hundreds of thousands of patients): the form renders only the
chosen row; the browser asks `<view>/lookup/<column>?q=…` for matches, narrowed
by the same scope as every other read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, jsonify, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import Field

from security.effective import current
from security.scope import scoped

MAX_RESULTS = 20
PLACEHOLDER = _l("Начните вводить фамилию или дату рождения")


@dataclass(frozen=True)
class Lookup:
    """How to find rows of `model` from what a user types."""

    model: type
    #: (query words, dates typed) -> list of WHERE clauses
    where: Callable[[list[str], list[dt.date]], list]
    order: Callable[[], list]
    #: (permission, view) the user also needs: the rows' own screen governs who may
    #: read them (patients' names need «Картотека пациентов»).
    needs: tuple[str, str] | None = None


def split_query(text: str) -> tuple[list[str], list[dt.date]]:
    """Return the words and the dd.mm.yyyy dates of a search string."""
    words, dates = [], []
    for token in text.split():
        try:
            dates.append(dt.datetime.strptime(token, "%d.%m.%Y").date())
        except ValueError:
            words.append(token)
    return words, dates


class RemoteSelectWidget:
    """A <select> holding only the current choice; uchet.js turns it into a search box."""

    def __call__(self, field, **kwargs):
        current_row = field.data
        option = ""
        if current_row is not None:
            option = (f'<option value="{escape(current_row.id)}" selected>'
                      f"{escape(str(current_row))}</option>")
        endpoint = url_for(f"{field.view_name}.lookup", column=field.name)
        return Markup(
            f'<select class="form-control uchet-remote" id="{escape(field.id)}" '
            f'name="{escape(field.name)}" data-endpoint="{escape(endpoint)}" '
            f'data-placeholder="{escape(field.placeholder or PLACEHOLDER)}">'
            f"{option}</select>")


class RemoteSelectField(Field):
    """A many-to-one choice posted as the chosen row's id.

    An unknown id is a form error; a row outside the user's scope is refused at
    save time by the row scope (linked rows must be readable)."""

    widget = RemoteSelectWidget()

    def __init__(self, label=None, validators=None, *, model: type, view_name: str,
                 placeholder=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.view_name = view_name
        self.placeholder = placeholder

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        if not raw:
            self.data = None
            return
        from app.extensions import db

        row = db.session.get(self.model, int(raw)) if raw.isdecimal() else None
        if row is None:
            self.data = None
            raise ValueError(_("Выберите запись из списка"))
        self.data = row


class LookupMixin:
    """Adds `/lookup/<column>` to a screen: the matches a remote choice field offers."""

    #: column -> Lookup
    lookups: dict[str, Lookup] = {}

    @expose("/lookup/<column>")
    @has_access
    @permission_name("add")
    def lookup(self, column: str):
        """Return {"results": [{"id", "text"}]} for the typed text (2 characters or more)."""
        spec = self.lookups.get(column)
        if spec is None:
            abort(404)
        if spec.needs and not self.appbuilder.sm.has_access(*spec.needs):
            abort(403)
        text = request.args.get("q", "")[:100].strip()
        if len(text) < 2:
            return jsonify(results=[])
        words, dates = split_query(text)
        query = scoped(select(spec.model).where(*spec.where(words, dates))
                       .order_by(*spec.order()).limit(MAX_RESULTS), current())
        rows = self.datamodel.session.scalars(query).all()
        return jsonify(results=[{"id": row.id, "text": str(row)} for row in rows])
