"""Личный кабинет / Профиль менеджера (the client's side) and Кабинет менеджера (the
manager's side: his clients, their offices, users, figures and latest visits, his
assistants; corrections of his clients' users' contact data).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.replica import read_session
from models.user import AppUser
from security.effective import current
from security.scope import scoped
from services.cabinet import manager as rules
from services.cabinet.requests import is_lab
from services.cabinet.stats import COST_RIGHT
from services.contracts.rules import money
from services.workplaces.queue import queue
from views.base import screen_command
from views.registry import register


class ManagerProfileView(BaseView):
    """Профиль менеджера: the client's personal manager and assistants, with contacts."""

    route_base = "/cabinet/manager"
    default_view = "show"
    governing_right = "cabinet.manager_profile"
    base_permissions = ["can_show"]

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The managers serving the user's client organisations."""
        session = self.appbuilder.session
        user = session.get(AppUser, current().user_id)
        clients = rules.clients_of_user(session, user)
        return self.render_template("uchet/cabinet_manager_profile.html", clients=clients,
                                    managers=rules.managers_of(session, clients),
                                    lab=is_lab(current()))


class ManagerCabinetView(BaseView):
    """Кабинет менеджера: the clients a manager (or his assistant) serves."""

    route_base = "/cabinet/clients"
    default_view = "show"
    governing_right = "cabinet.manager_cabinet"
    base_permissions = ["can_show"]

    def _user(self, pk: int) -> AppUser:
        """A user of the manager's clients; 404 for anyone else."""
        target = self.appbuilder.session.scalar(scoped(
            select(AppUser).where(AppUser.id == pk), current()))
        if target is None:
            abort(404)
        return target

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """Each client: offices, users, this month's figures, the latest visits."""
        session = self.appbuilder.session
        rights = current()
        me = session.get(AppUser, rights.user_id)
        with_cost = rights.allows(COST_RIGHT)
        # His work queue: the client with the oldest open request first.
        queues = {q.client.id: q for q in queue(session, rights)}
        order = list(queues)
        clients = sorted(rules.served_clients(session, rights),
                         key=lambda c: order.index(c.id) if c.id in order else len(order))
        # The figures and latest visits on the read replica (when configured).
        overviews = [{**rules.client_overview(session, client, with_cost,
                                              reads=read_session()),
                      "queue": queues.get(client.id)} for client in clients]
        owner = me.manager or me
        return self.render_template(
            "uchet/cabinet_clients.html", overviews=overviews, money=money,
            with_cost=with_cost,
            assistants=owner.assistants, manager=owner,
            may_edit=current().allows(rules.EDIT_RIGHT))

    @expose("/user/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("show")
    def user(self, pk: int):
        """Correct a client user's position, phone, e-mail and whether he may sign in."""
        target = self._user(pk)

        def page(status: int):
            return self.render_template("uchet/cabinet_client_user.html",
                                        target=self._user(pk) if status == 400 else target,
                                        form=request.form if status == 400 else None,
                                        may_edit=current().allows(rules.EDIT_RIGHT)), status

        if request.method != "POST":
            return page(200)
        form = request.form

        def done(_result):
            flash(_("Данные пользователя «%(u)s» сохранены", u=target), "success")
            return redirect(url_for("ManagerCabinetView.show"))

        return screen_command(
            lambda: rules.edit_client_user(
                self.appbuilder.session, current(), target,
                position=form.get("position", ""), phone=form.get("phone", ""),
                email=form.get("email", ""),
                # An unticked box sends nothing: only the page's own form (which
                # says so) closes the sign-in.
                active=form.get("active") == "on" if form.get("active_shown")
                else target.active),
            self.appbuilder.session, done=done, again=lambda _exc: page(400))


register(ManagerProfileView, name="CabinetManagerProfile", label=_l("Профиль менеджера"),
         category="cabinet", icon="fa-id-card-o")
register(ManagerCabinetView, name="CabinetManagerCabinet", label=_l("Кабинет менеджера"),
         category="cabinet", icon="fa-users")
