"""Личный кабинет / Вызов курьера and Вопросы клиентов: the client's office asks on
the page, the personal manager (or assistant) processes on the same page. The
lists hold the requests of the offices in the user's scope; a request outside it
answers 404. The rules are in services.cabinet.requests.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models.cabinet import ADDRESSEES, CALL_KINDS, CALL_STATES, CourierCall, Question
from security.effective import current
from security.scope import scoped
from services.boundary import run_command
from services.cabinet import requests as rules
from services.cabinet.timeline import timelines
from services.dates import parse_date
from views.base import screen_command
from views.registry import register

#: The newest requests a page lists (older ones are the lab's archive).
PAGE = 50
#: The button that moves a request to a state.
VERBS = {"accepted": _l("Принять"), "done": _l("Выполнено"), "cancelled": _l("Отменить"),
         "shipped": _l("Отправлено"), "delivered": _l("Доставлено"),
         "rejected": _l("Отклонить")}


def form_int(name: str):
    """Return the form field as an int, None when empty, or the text itself when it is
    not a number (the rule it reaches refuses it in Russian)."""
    raw = request.form.get(name, "").strip()
    if raw.lstrip("-").isdecimal() and len(raw) < 10:
        return int(raw)
    return raw or None  # a word stays a word: the rule refuses it


def _form_date(name: str) -> dt.date | None:
    return parse_date(request.form.get(name, ""))


def _form_time(name: str) -> dt.time | None:
    """Return the typed local time (None for anything else, a time zone included:
    the window is the office's wall-clock time)."""
    try:
        # 24-hour ЧЧ:ММ (9:00 too), as the page asks; the browser's own time input
        # would follow its language (09:00 AM).
        return dt.datetime.strptime(request.form.get(name, "").strip(), "%H:%M").time()
    except ValueError:
        return None


class CabinetPage(BaseView):
    """A cabinet section: a list of the scope's requests and a form."""

    model: type
    template: str
    default_view = "show"
    base_permissions = ["can_show"]

    def _rows(self):
        return self.appbuilder.session.scalars(scoped(
            select(self.model).order_by(self.model.id.desc()).limit(PAGE), current())).all()

    def _row(self, pk: int):
        """Return the request `pk` if it is in the user's scope; 404 otherwise."""
        row = self.appbuilder.session.scalar(scoped(
            select(self.model).where(self.model.id == pk), current()))
        if row is None:
            abort(404)
        return row

    def _page(self, status: int = 200, **extra):
        rights = current()
        session = self.appbuilder.session
        rows = self._rows()
        return self.render_template(
            self.template, rows=rows, offices=rules.offices(session, rights),
            lab=rules.is_lab(rights), form=request.form,
            timelines=timelines(session, list(rows)), **extra), status

    def _save(self, write, done: str):
        """Run `write` in one transaction; on a refusal show the form again with what
        was typed and the reason, the database unchanged."""
        def saved(_result):
            flash(done, "success")
            return redirect(url_for(f"{type(self).__name__}.show"))

        session = self.appbuilder.session
        return screen_command(lambda: write(session, current()), session, done=saved,
                              again=lambda _exc: self._page(400))


class CourierView(CabinetPage):
    """Вызов курьера: date, time window, address, number of samples; states."""

    route_base = "/cabinet/courier"
    governing_right = "cabinet.courier"
    model = CourierCall
    template = "uchet/cabinet_courier.html"

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The calls of the user's offices and the form to call."""
        return self._page(kinds=CALL_KINDS, states=CALL_STATES, moves=_moves())

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("show")
    def create(self):
        """Call a courier or a phlebotomy team."""
        form = request.form
        return self._save(lambda session, rights: rules.call_courier(
            session, rights, rights.user_id, unit_id=form_int("unit"),
            kind=form.get("kind", ""), visit_date=_form_date("visit_date"),
            time_from=_form_time("time_from"), time_to=_form_time("time_to"),
            address=form.get("address", ""), samples=form_int("samples") or 0,
            phone=form.get("phone", ""), note=form.get("note", "")),
            _("Заявка отправлена в лабораторию"))

    @expose("/<int:pk>/state", methods=["POST"])
    @has_access
    @permission_name("show")
    def move(self, pk: int):
        """Cancel (client) or accept, close or cancel (lab) a call."""
        call = self._row(pk)
        return self._save(lambda session, rights: rules.move_call(
            session, call, request.form.get("state", ""), rights,
            request.form.get("staff_note", "")), _("Состояние заявки изменено"))

    def _page(self, status: int = 200, **extra):
        extra.setdefault("kinds", CALL_KINDS)
        extra.setdefault("states", CALL_STATES)
        extra.setdefault("moves", _moves())
        return super()._page(status, **extra)


def moves_for(lab_moves: dict) -> dict[str, list[tuple[str, str]]]:
    """Return, per state, the buttons the user's side offers: (state, verb). The lab
    moves along `lab_moves`; a client's user may only cancel a new request."""
    table = lab_moves if rules.is_lab(current()) else rules.CLIENT_MOVES
    return {state: [(to, str(VERBS[to])) for to in targets]
            for state, targets in table.items()}


def _moves() -> dict[str, list[tuple[str, str]]]:
    return moves_for(rules.LAB_MOVES)


class QuestionsView(CabinetPage):
    """Вопросы клиентов: questions to a doctor or the manager, and the lab's answers."""

    route_base = "/cabinet/questions"
    governing_right = "cabinet.questions"
    model = Question
    template = "uchet/cabinet_questions.html"

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The questions of the user's offices; opening the page marks his answers seen."""
        session = self.appbuilder.session
        fresh = {row.id for row in self._rows() if row.created_by_id == current().user_id
                 and row.answered_on is not None and row.answer_seen_on is None}
        run_command(rules.mark_answers_seen, session, current().user_id, session=session)
        return self._page(addressees=ADDRESSEES, fresh=fresh)

    @expose("/", methods=["POST"])
    @has_access
    @permission_name("show")
    def create(self):
        """Ask a question."""
        form = request.form
        return self._save(lambda session, rights: rules.ask(
            session, rights, rights.user_id, unit_id=form_int("unit"),
            addressee=form.get("addressee", ""), subject=form.get("subject", ""),
            text=form.get("text", "")), _("Вопрос отправлен"))

    @expose("/<int:pk>/answer", methods=["POST"])
    @has_access
    @permission_name("show")
    def reply(self, pk: int):
        """Answer a question (the lab's side)."""
        question = self._row(pk)
        return self._save(lambda session, rights: rules.answer(
            session, question, request.form.get("answer", ""), rights, rights.user_id),
            _("Ответ отправлен: автор увидит его в кабинете"))

    def _page(self, status: int = 200, **extra):
        extra.setdefault("addressees", ADDRESSEES)
        extra.setdefault("fresh", set())
        return super()._page(status, **extra)


register(CourierView, name="CabinetCourier", label=_l("Вызов курьера"), category="cabinet",
         icon="fa-truck")
register(QuestionsView, name="CabinetQuestions", label=_l("Вопросы клиентов"),
         category="cabinet", icon="fa-question-circle")
