"""«Параметры»: the closed reporting period of the user's clinic network and the
warning thresholds his rights give him. Seen with «Просмотр параметров»; the
date is moved only with «Изменение даты закрытого отчетного периода».
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.org import Unit
from security.effective import current
from services.admin.params import (
    CLOSED_DATE_RIGHT,
    EDIT_RIGHT,
    PREPAID_DATES,
    network_of,
    parameters_for,
    set_closed_through,
    set_prepaid_date,
    typed_day,
)
from views.base import screen_command
from views.registry import register

THRESHOLDS = ("params.warn_balance", "params.warn_count_limit", "params.split_oms_dms",
              "params.closed_period_edit")


class ParametersView(BaseView):
    """The parameters page of the user's network."""

    route_base = "/parameters"
    default_view = "show"
    governing_right = "params.view"
    base_permissions = ["can_show"]

    def _network(self) -> Unit:
        rights = current()
        home = next(iter(sorted(rights.own_units)), None)
        network = network_of(self.appbuilder.session, home) if home is not None else None
        if network is None:
            abort(404)
        return self.appbuilder.session.get(Unit, network)

    def _page(self, network: Unit, typed: str | None = None, status: int = 200):
        from security.catalogue import load_catalogue

        rights, catalogue = current(), load_catalogue()
        params = parameters_for(self.appbuilder.session, network.id)
        closed = params.closed_through if params else None
        mine = [(catalogue.rights[code].ru, catalogue.label(code, rights.value(code)))
                for code in THRESHOLDS]
        return self.render_template(
            "uchet/parameters.html", network=network, closed=closed,
            typed=typed if typed is not None else (closed or ""),
            may_change=rights.flag(CLOSED_DATE_RIGHT), mine=mine,
            may_edit=rights.flag(EDIT_RIGHT), prepaid_dates=PREPAID_DATES,
            prepaid_date=params.prepaid_date if params else "current_date"), status

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """Show the closed period date (a form to move it for those who may)."""
        return self._page(self._network())

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("show")
    def save(self):
        """Move the closed period date (empty: nothing is closed)."""
        network = self._network()
        raw = request.form.get("closed_through", "").strip()
        session = self.appbuilder.session

        def save() -> dt.date | None:
            day = typed_day(raw)
            set_closed_through(session, network.id, day, current())
            return day

        def done(day):
            flash(_("Отчётный период закрыт по %(d)s", d=day.strftime("%d.%m.%Y"))
                  if day else _("Закрытый период снят"), "success")
            return redirect(url_for("ParametersView.show"))

        return screen_command(save, session, done=done,
                              again=lambda _exc: self._page(network, raw, 400))

    @expose("/settings", methods=["POST"])
    @has_access
    @permission_name("show")
    def settings(self):
        """Save the network's settings (the date of prepaid vouchers)."""
        network = self._network()
        session = self.appbuilder.session

        def done(_params):
            flash(_("Параметры сохранены"), "success")
            return redirect(url_for("ParametersView.show"))

        return screen_command(
            lambda: set_prepaid_date(session, network.id, request.form.get("prepaid_date", ""),
                                     current()),
            session, done=done, again=lambda _exc: self._page(network, status=400))


register(ParametersView, name="Parameters", label=_l("Параметры"), category="documents",
         icon="fa-sliders")
