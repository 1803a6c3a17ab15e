"""The change journal screen: read-only, filterable, with a before/after diff."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import false

from models.journal import JournalEntry
from security.effective import current
from views.admin.journal_read import full_name, read_entry
from views.base import UchetModelView
from views.registry import register


class FilterWholeScope(BaseFilter):
    """The journal names rows of every branch and client: only a user whose data
    scope is everything may read it (deny by default for everyone else)."""

    name = _l("Вся область данных")
    arg_name = "uchet_all"

    def apply(self, query, value):
        return query if current().scope.all else query.filter(false())


class JournalScreen(UchetModelView):
    """What every journal screen is: read-only (list and show), under «Журнал
    изменений», for the whole data scope only, newest first, 50 rows a page."""

    governing_right = "admin.journal"
    base_permissions = ["can_list", "can_show"]
    include_route_methods = {"list", "show"}
    base_filters = [["id", FilterWholeScope, None]]
    base_order = ("id", "desc")
    page_size = 50


class JournalView(JournalScreen):
    """Every insert, update and delete on business tables; administrators only."""

    datamodel = SQLAInterface(JournalEntry)
    list_title = _l("Журнал изменений")
    show_title = _l("Запись журнала")
    label_columns = {
        "at": _l("Когда"),
        "username": _l("Кто"),
        "user_id": _l("ID пользователя"),
        "action": _l("Действие"),
        "action_label": _l("Действие"),
        "table_name": _l("Таблица"),
        "table_label": _l("Таблица"),
        "row_pk": _l("Ключ записи"),
        "diff": _l("Изменения"),
    }
    list_columns = ["at", "username", "action_label", "table_label", "row_pk"]
    show_columns = ["at", "username", "action_label", "table_label", "row_pk", "diff"]
    search_columns = ["at", "username", "action", "table_name", "row_pk"]
    order_columns = ["at", "username", "table_name"]
    show_template = "uchet/journal_show.html"
    formatters_columns = {
        "username": lambda login: full_name(current_app.appbuilder.session, login)}

    def render_template(self, template, **kwargs):
        """The entry reads as labels, names and before → after (journal_read.py)."""
        if template == self.show_template and "pk" in kwargs:
            entry = self.datamodel.get(kwargs["pk"], self._base_filters)
            if entry is not None:
                kwargs.update(entry=entry, read=read_entry(self._session(), entry))
        return super().render_template(template, **kwargs)


register(JournalView, name="Journal", label=_l("Журнал изменений"), category="admin",
         icon="fa-history")
