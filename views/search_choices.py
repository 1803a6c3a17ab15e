"""A list's search form with its choices of units, departments and staff kept per
user and rights token, not queried and rendered on every page.

FAB's search widget renders every search field on every list page, a drop-down with
all its options included (the filter row is added in the browser from that HTML):
on the voucher list, «Филиал», «Отделение» and «Врач» are three of the page's eight
statements and about a quarter of its Python time (bench/profile_pages.py). What
such a drop-down offers depends only on the user's scope, the rows of those three
tables and the language; the user's rights token (security.rights_cache) is
replaced by any change of his rights or scope and — for every user — by any change
of units, departments or staff, and it is read with the user's row on every request.
So the HTML kept under (form, field, user, token, language) is the HTML the page
would render: a new doctor or a narrowed scope shows at the next page, in every
worker.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from flask import g
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.widgets import SearchWidget
from flask_babel import get_locale
from markupsafe import Markup

from models.org import Unit
from models.refbooks import Department
from models.staff import Employee

#: The rows whose every change replaces every user's rights token (kept in sync
#: with security.rights_cache.EVERYONE, which names their tables).
KEPT_MODELS = (Unit, Department, Employee)
#: Characters of HTML kept per process (a network's doctors make a long drop-down,
#: kept once per user); the least recently used go first.
LIMIT = 16_000_000
_kept: OrderedDict[tuple, Markup] = OrderedDict()
_size = [0]
_lock = Lock()


def _key(form, name: str) -> tuple | None:
    """Return the key of a search field's HTML, or None when it is not to be kept: a
    field that is not a drop-down of `KEPT_MODELS`, or one with a value."""
    field = form[name]
    if not isinstance(field, QuerySelectField) or field.data is not None:
        return None
    if _model_of(field) not in KEPT_MODELS:
        return None
    user = g.get("user")
    token = getattr(user, "rights_epoch", None)
    if token is None:
        return None
    return (id(type(form)), name, user.id, token, str(get_locale()))


def _model_of(field) -> type | None:
    # FAB's query function of a field with filters (every scoped one) is a lambda
    # over the related datamodel and the filters: the datamodel names the model.
    for cell in getattr(getattr(field, "query_func", None), "__closure__", None) or ():
        model = getattr(cell.cell_contents, "obj", None)
        if isinstance(model, type):
            return model
    return None


def field_html(form, name: str) -> Markup:
    """Return the HTML of the search form's field `name`, kept when it may be."""
    key = _key(form, name)
    if key is None:
        return form[name]()
    with _lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
            return html
    html = form[name]()
    with _lock:
        if key not in _kept:
            _kept[key] = html
            _size[0] += len(html)
        while _size[0] > LIMIT and _kept:
            _size[0] -= len(_kept.popitem(last=False)[1])
    return html


class UchetSearchWidget(SearchWidget):
    """FAB's search widget, its drop-downs of units, departments and staff kept."""

    def __call__(self, **kwargs):
        """Return FAB's search widget's HTML (labels, fields, filters, active ones)."""
        form = self.template_args["form"]
        dict_filters = self.filters.get_search_filters()
        columns = self.template_args["include_cols"]
        kwargs["label_columns"] = {col: str(form[col].label.text) for col in columns}
        kwargs["form_fields"] = {col: field_html(form, col) for col in columns}
        kwargs["search_filters"] = {col: [str(flt.name) for flt in dict_filters[col]]
                                    for col in columns}
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return super(SearchWidget, self).__call__(**kwargs)
