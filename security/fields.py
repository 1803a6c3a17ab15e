"""Field scope: a field (a price, a cost) that a user's rights hide is absent
from every page, form, JSON answer and export, cannot be filtered or sorted on,
and keeps its stored value when that user saves the row.

A view declares `field_rights = {"price": "price.prices.view>=own"}`; the rule is
a right code, optionally with `>=<value>` (a bare code means a yes/no right set
to "yes"). The mixins below apply the declaration to FAB screens and APIs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from flask import abort, request
from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect

from core.errors import ValidationError
from security.effective import EffectiveRights, current


def visible(rights: EffectiveRights, rule: str) -> bool:
    """Return True when the rule's right allows seeing the field."""
    if rights.is_admin:
        return True
    code, _sep, minimum = rule.partition(">=")
    if not minimum:
        return rights.flag(code)
    return rights.at_least(code, minimum)


def hidden_fields(field_rights: Mapping[str, str]) -> frozenset[str]:
    """Return the declared fields the current user may not see."""
    if not field_rights:
        return frozenset()
    rights = current()
    return frozenset(f for f, rule in field_rights.items() if not visible(rights, rule))


def _base_name(column: str) -> str:
    return column.split(".")[0]


def keep_stored_values(item, fields: Iterable[str]) -> None:
    """Undo changes to hidden fields: a user cannot change what he cannot see."""
    state = sa_inspect(item)
    for field in fields:
        if field not in state.attrs:
            continue
        history = state.attrs[field].history
        if state.persistent and history.has_changes():
            setattr(item, field, history.deleted[0] if history.deleted else None)
        elif state.pending or state.transient:
            setattr(item, field, None)


def fill_hidden_required(item, field_rights: Mapping[str, str]) -> None:
    """Give a new row's declared fields that may not be empty a defined value once
    the save rules have run: the column's default, else a refusal. (A hidden one's
    value was dropped by `keep_stored_values`, and the APIs do not require them, as
    a user cannot send what he does not see: the insert would fail on NOT NULL.)

    Raises ValidationError naming the field: hidden from the user, or to be filled in.
    """
    state = sa_inspect(item)
    if state.persistent or not field_rights:
        return
    hidden = hidden_fields(field_rights)
    columns = state.mapper.column_attrs
    for field in field_rights:
        if field not in columns or getattr(item, field) is not None:
            continue
        column = columns[field].columns[0]
        if column.nullable:
            continue
        if column.default is not None and column.default.is_scalar:
            setattr(item, field, column.default.arg)
            continue
        name = column.info.get("label", field)
        if field in hidden:
            raise ValidationError(
                _("Поле «%(f)s» скрыто вашими правами: такую запись создаёт пользователь, "
                  "которому это поле видно", f=name), field=field)
        raise ValidationError(_("Заполните поле «%(f)s»", f=name), field=field)


def refuse_hidden_arguments(hidden: frozenset[str], names: Iterable[str]) -> None:
    """Abort with 400 when a filter or sort key names a hidden field."""
    used = {_base_name(n) for n in names if n}
    if used & hidden:
        abort(400, description=_("Поле недоступно для поиска и сортировки"))


class FieldScopeViewMixin:
    """For ModelView subclasses: narrow widgets and forms per request."""

    field_rights: dict[str, str] = {}

    def _hidden(self) -> frozenset[str]:
        return hidden_fields(self.field_rights)

    def _narrow(self, widgets: dict, hidden: frozenset[str]) -> dict:
        for widget in widgets.values():
            args = getattr(widget, "template_args", None)
            if not args:
                continue
            if args.get("include_cols"):  # the search widget's own name for it
                args["include_cols"] = [c for c in args["include_cols"]
                                        if _base_name(c) not in hidden]
            columns = args.get("include_columns")
            if columns:
                keep = [i for i, c in enumerate(columns) if _base_name(c) not in hidden]
                args["include_columns"] = [columns[i] for i in keep]
                # The show widget pairs values with columns by position.
                values = args.get("value_columns")
                if isinstance(values, list) and len(values) == len(columns):
                    args["value_columns"] = [values[i] for i in keep]
            if args.get("fieldsets"):
                args["fieldsets"] = [
                    (title, {**spec, "fields": [f for f in spec["fields"] if f not in hidden]})
                    for title, spec in args["fieldsets"]
                ]
            form = args.get("form")
            if form is not None:
                for name in hidden:
                    if name in form:
                        del form[name]
        return widgets

    def _request_filter_names(self) -> list[str]:
        names = []
        for key in request.args:
            if key.startswith("_flt_"):
                names.append(key.split("_", 3)[-1])
            elif key.startswith("_oc_"):
                names.append(request.args[key])
        return names

    def _get_list_widget(self, *args, **kwargs):
        hidden = self._hidden()
        refuse_hidden_arguments(hidden, self._request_filter_names())
        return self._narrow(super()._get_list_widget(*args, **kwargs), hidden)

    def _get_show_widget(self, *args, **kwargs):
        return self._narrow(super()._get_show_widget(*args, **kwargs), self._hidden())

    def _get_add_widget(self, *args, **kwargs):
        return self._narrow(super()._get_add_widget(*args, **kwargs), self._hidden())

    def _get_edit_widget(self, *args, **kwargs):
        return self._narrow(super()._get_edit_widget(*args, **kwargs), self._hidden())

    def _get_search_widget(self, *args, **kwargs):
        return self._narrow(super()._get_search_widget(*args, **kwargs), self._hidden())


class FieldScopeApiMixin:
    """For ModelRestApi subclasses: strip hidden keys from every JSON answer
    (get, list, put, post, _info: FAB builds its schemas once, at start-up),
    and refuse hidden fields as filters or sort keys."""

    field_rights: dict[str, str] = {}

    def _hidden(self) -> frozenset[str]:
        return hidden_fields(self.field_rights)

    def scrub_response(self, response):
        """Return the response without hidden fields (an after_request hook)."""
        hidden = self._hidden()
        if not hidden or not response.is_json:
            return response
        data = response.get_json(silent=True)
        if not isinstance(data, dict):
            return response
        result = data.get("result")
        for row in result if isinstance(result, list) else [result]:
            if isinstance(row, dict):
                _strip(row, hidden)
        for key in ("list_columns", "show_columns", "order_columns", "search_columns",
                    "label_columns", "description_columns", "filters"):
            _drop_meta(data, key, hidden)
        for key in ("add_columns", "edit_columns"):
            if isinstance(data.get(key), list):
                data[key] = [f for f in data[key]
                             if not (isinstance(f, dict)
                                     and _base_name(f.get("name", "")) in hidden)]
        response.set_data(json.dumps(data, ensure_ascii=False, default=str))
        return response

    def _handle_filters_args(self, rison_args):
        refuse_hidden_arguments(self._hidden(),
                                [f.get("col", "") for f in rison_args.get("filters", [])])
        return super()._handle_filters_args(rison_args)

    def _handle_order_args(self, rison_args):
        refuse_hidden_arguments(self._hidden(), [rison_args.get("order_column", "")])
        return super()._handle_order_args(rison_args)


def _strip(row: dict, hidden: frozenset[str]) -> None:
    for key in list(row):
        if _base_name(key) in hidden:
            del row[key]


def _drop_meta(data: dict, key: str, hidden: frozenset[str]) -> None:
    value = data.get(key)
    if isinstance(value, list):
        data[key] = [c for c in value if not (isinstance(c, str) and _base_name(c) in hidden)]
    elif isinstance(value, dict):
        data[key] = {k: v for k, v in value.items() if _base_name(k) not in hidden}
