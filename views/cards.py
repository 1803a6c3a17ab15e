"""A document's card: the actions a user may take on it, declared as a list.

An action is a label, where it leads, and what it needs: a FAB permission on a view
(what the rights catalogue derives, `security.sync`) and/or a right of the catalogue
(a yes/no right or an access level). The card shows only the actions the user may
take. Adding an action to a card is appending one `CardAction` to its list, e.g.
`VOUCHER_ACTIONS.append(CardAction(_l("Выставить счёт"), "InvoiceView.add",
lambda v: {"voucher": v.id}, permission=("can_add", "InvoiceView")))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, url_for


@dataclass(frozen=True)
class CardAction:
    """One button of a document's card."""

    label: object
    endpoint: str
    #: item -> the endpoint's arguments
    args: Callable = lambda item: {"pk": item.id}
    #: (FAB permission, view name) the user must hold, e.g. ("can_edit", "VoucherView")
    permission: tuple[str, str] | None = None
    #: (catalogue code, minimum level or None for yes/no) the user must hold
    right: tuple[str, str | None] | None = None
    icon: str = "fa-circle-o"
    #: a POST (with CSRF) carrying these fields (item -> dict) instead of a link
    post: Callable | None = None
    #: item -> whether the action applies to the document in its state
    when: Callable | None = None
    primary: bool = False
    #: a button that runs in the browser (e.g. printing) instead of a request
    script: str | None = None


def allowed_actions(actions: list[CardAction], item, rights) -> list[dict]:
    """Return the actions of `actions` the user may take on `item`, ready for the
    template: label, icon, url, method ("get", "post" or "script"), fields, primary."""
    sm = current_app.appbuilder.sm
    shown = []
    for action in actions:
        if action.permission and not sm.has_access(*action.permission):
            continue
        if action.right and not rights.allows(*action.right):
            continue
        if action.when is not None and not action.when(item):
            continue
        shown.append({
            "label": action.label, "icon": action.icon, "primary": action.primary,
            "url": "" if action.script else url_for(action.endpoint, **action.args(item)),
            "method": "script" if action.script else ("post" if action.post else "get"),
            "fields": action.post(item) if action.post else {}, "script": action.script})
    return shown
