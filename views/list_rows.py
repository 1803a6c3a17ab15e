"""The rows of a generated list, written in Python rather than by FAB's template.

FAB's list widget (appbuilder/general/widgets/list.html) renders each row through
jinja macros: a checkbox, the show / edit / delete buttons (`lib.btn_crud`: three
`url_for`, the related-view filters and five translated strings per row) and one
`{{ formatter(value) }}` per cell — about a third of a voucher list's Python time
(bench/profile_pages.py). `list_rows` writes the same elements, attributes and
text (translated once per page, not once per row); the header, the pager and the
actions stay FAB's. The columns are the widget's own `include_columns`, so a field
hidden from the user (security.fields) is absent here as it was there.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from markupsafe import Markup, escape

_PK = "uchet-pk-placeholder"


def _url(endpoint: str, pk) -> str | None:
    # FAB's `safe_url_for`: no button when the route cannot be built.
    try:
        return url_for(endpoint, pk=pk)
    except Exception:
        return None


def _urls(endpoint: str):
    """Return pk -> the row's URL of `endpoint` (None when it cannot be built): the
    route is built once per page and an integer key put in its place, which is what
    the router writes for it; any other key is built by the router."""
    pattern = _url(endpoint, _PK)
    if pattern is None or pattern.count(_PK) != 1:
        return lambda pk: _url(endpoint, pk)
    return lambda pk: (pattern.replace(_PK, str(pk)) if type(pk) is int
                       else _url(endpoint, pk))


def _with_filters(path: str, filters) -> str:
    # FAB's `set_link_filters`: a related view's list (a card's tab) passes the
    # parent's filter on to the row's card and form.
    for flt, value in filters.get_filters_values():
        if flt.is_related_view:
            path += ("&" if "?" in path else "?") + f"_flt_0_{flt.column_name}={value}"
    return path


def _link(path: str, title: str, hidden_text: str, icon: str) -> str:
    return (f'<a href="{escape(path)}" class="btn btn-sm btn-default" data-toggle="tooltip" '
            f'rel="tooltip"\n       title="{title}">\n        <span class="sr-only">'
            f'{hidden_text}</span>\n        <i class="fa {icon}"></i>\n    </a>')


def _delete(path: str, texts: dict, nonce: str) -> str:
    path = escape(path)
    return (f'<a\n        id="btn-delete-{path}"\n        href="#"\n        '
            f'class="btn btn-sm btn-default confirm"\n        rel="tooltip"\n        '
            f'title="{texts["delete_record"]}"\n    >\n        <span class="sr-only">'
            f'{texts["delete"]}</span>\n        <i class="fa fa-trash"></i>\n    </a>\n'
            f'    <script nonce="{escape(nonce)}">\n'
            f'        document.getElementById("btn-delete-{path}")\n'
            f'            .addEventListener("click", function () {{\n'
            f'                const adminAction = new AdminActions();\n'
            f"                return adminAction.execute_single_delete('{path}',"
            f"'{texts['confirm']}');\n            }})\n    </script>")


def _texts() -> dict:
    """Return the buttons' strings in the request's language as jinja's `_()` gives
    them in an autoescaped template (marked safe, then %-formatted)."""
    return {key: Markup(gettext(text)) % {} for key, text in (
        ("show_record", "Show record"), ("show", "Show"), ("edit_record", "Edit record"),
        ("edit", "Edit"), ("delete_record", "Delete record"), ("delete", "Delete"),
        ("confirm", "Are you sure you want to delete this item?"))}


def list_rows(rows, pks, columns, formatters, actions, can_show, can_edit, can_delete,
              view_name: str, filters, nonce: str = "") -> Markup:
    """Return the <tr> of each of `rows` (FAB's value dicts) as FAB's list widget
    writes them: a checkbox when the list has bulk `actions`, the buttons the user
    may use, then each of `columns` through its formatter, escaped."""
    texts = _texts()
    cells = [(column, formatters.get(column)) for column in columns]
    buttons = bool(can_show or can_edit or can_delete)
    show, edit, delete = (_urls(f"{view_name}.{name}") for name in ("show", "edit", "delete"))
    out: list[str] = []
    for row, pk in zip(rows, pks, strict=True):
        out.append("<tr>")
        if actions:
            key = escape(pk)
            out.append(f'<td>\n    <input id="{key}" class="action_check" name="rowid" '
                       f'value="{key}" type="checkbox">\n</td>')
        if buttons:
            out.append('<td><center>\n<div class="btn-group btn-group-xs" '
                       'style="display: flex;">')
            if can_show and (path := show(pk)):
                out.append(_link(_with_filters(path, filters), texts["show_record"],
                                 texts["show"], "fa-search"))
            if can_edit and (path := edit(pk)):
                out.append(_link(_with_filters(path, filters), texts["edit_record"],
                                 texts["edit"], "fa-edit"))
            if can_delete and (path := delete(pk)):
                out.append(_delete(path, texts, nonce))
            out.append("</div>\n</center></td>")
        for column, formatter in cells:
            value = row.get(column) if isinstance(row, dict) else getattr(row, column, "")
            out.append(f"<td>{escape(formatter(value) if formatter else value)}</td>")
        out.append("</tr>")
    return Markup("\n".join(out))


def install(app) -> None:
    """Give the templates `uchet_list_rows()` (uchet/widgets/list.html)."""
    app.jinja_env.globals["uchet_list_rows"] = list_rows
