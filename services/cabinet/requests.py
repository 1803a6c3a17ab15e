"""The rules of what a client asks through the cabinet: courier calls and questions.

A client's user asks for his office (one in his data scope); the office's personal
manager (or his assistant, «Кабинет менеджера») processes: accepts and closes a
call, answers a question. The author sees the answer flagged until he opens it.
Each function checks one request, writes it (flushed, not committed) and returns
it, or raises ValidationError in Russian with nothing written.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from core.errors import ValidationError
from models.cabinet import ADDRESSEES, CALL_KINDS, CALL_STATES, CourierCall, Question
from models.org import Unit
from security.scope import scoped
from services.dates import local_now, utc_now

MANAGER_RIGHT = "cabinet.manager_cabinet"
#: How far ahead a courier is booked.
MAX_DAYS_AHEAD = 60
#: Units that ask: the corporate client, its head office and branches.
OFFICE_KINDS = ("client", "head_unit", "client_branch")
#: state -> states the client (author's office) may move a call to
CLIENT_MOVES = {"new": ("cancelled",)}
#: state -> states the lab (manager, assistant) may move a call to
LAB_MOVES = {"new": ("accepted", "cancelled"), "accepted": ("done", "cancelled")}


def is_lab(rights) -> bool:
    """Return True for the lab's side of the cabinet: a personal manager or assistant."""
    return rights.allows(MANAGER_RIGHT)


def office(session, rights, unit_id) -> Unit:
    """Return the client office `unit_id` if the user's scope holds it.

    Raises ValidationError otherwise (an office outside the scope is not named).
    """
    found = session.scalar(scoped(select(Unit).where(
        Unit.id == unit_id, Unit.kind.in_(OFFICE_KINDS)), rights)) \
        if isinstance(unit_id, int) else None
    if found is None:
        raise ValidationError(_("Выберите подразделение из списка"), field="unit")
    return found


def offices(session, rights) -> list[Unit]:
    """Return the client offices the user may ask for or process: his own first (a
    form's office list opens with it chosen), then the others by name."""
    own = sorted(rights.own_units)
    order = [case((Unit.id.in_(own), 0), else_=1)] if own else []
    return list(session.scalars(scoped(
        select(Unit).where(Unit.kind.in_(OFFICE_KINDS)).order_by(*order, Unit.name), rights)))


def text_field(value, name: str, limit: int, required: bool = True) -> str | None:
    """Return the typed text trimmed (None when empty and optional).

    Raises ValidationError for an empty required field or one over `limit` characters.
    """
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError(_("Заполните поле «%(f)s»", f=name))
        return None
    if len(value) > limit:
        raise ValidationError(_("Поле «%(f)s» — не длиннее %(n)s символов", f=name, n=limit))
    return value


def call_courier(session, rights, user_id: int | None, *, unit_id, kind: str,
                 visit_date: dt.date | None, time_from: dt.time | None,
                 time_to: dt.time | None, address: str, samples, phone: str = "",
                 note: str = "", now: dt.datetime | None = None) -> CourierCall:
    """Record a courier (or phlebotomy team) call. Returns the call.

    Raises ValidationError without «Вызов курьера», for an office outside the scope,
    a date or window in the past, an empty window, no address, or no samples.
    """
    rights.require("cabinet.courier",
                   refusal=_l("Курьера вызывает пользователь с правом «%(right)s»"))
    now = now or local_now()  # the window is the office's wall-clock time
    unit = office(session, rights, unit_id)
    if kind not in CALL_KINDS:
        raise ValidationError(_("Выберите, кого вызвать"), field="kind")
    if visit_date is None or time_from is None or time_to is None:
        raise ValidationError(_("Укажите дату и время: с и до"), field="visit_date")
    if time_from >= time_to:
        raise ValidationError(_("Время «до» должно быть позже времени «с»"), field="time_to")
    if visit_date > now.date() + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationError(_("Курьера вызывают не дальше чем на %(n)s дн. вперёд",
                                n=MAX_DAYS_AHEAD), field="visit_date")
    if visit_date < now.date() or (visit_date == now.date() and time_to <= now.time()):
        raise ValidationError(_("Это время уже прошло: выберите время в будущем"),
                              field="visit_date")
    if not isinstance(samples, int) or not 0 <= samples <= 10_000:
        raise ValidationError(_("Число проб — целое, от 0 до 10 000"), field="samples")
    if kind == "courier" and samples == 0:
        raise ValidationError(_("Укажите, сколько проб забрать"), field="samples")
    call = CourierCall(unit=unit, kind=kind, visit_date=visit_date, time_from=time_from,
                       time_to=time_to, address=text_field(address, _("Адрес"), 300),
                       samples=samples, phone=text_field(phone, _("Телефон"), 40, False),
                       note=text_field(note, _("Комментарий"), 500, False), state="new",
                       created_by_id=user_id)
    session.add(call)
    session.flush()
    return call


def move(session, row, state: str, rights, staff_note: str, *, lab_moves: dict,
         states: dict, refusal: str):
    """Move a request (a call, an order) to `state` as the client (cancel a new one,
    CLIENT_MOVES) or the lab (`lab_moves`); the lab's comment is kept. Returns the row.

    Raises ValidationError with `refusal` (which names %(a)s and %(b)s, the states)
    for a move the user's side may not make.
    """
    allowed = set(CLIENT_MOVES.get(row.state, ()))
    if is_lab(rights):
        allowed |= set(lab_moves.get(row.state, ()))
    if state not in allowed:
        raise ValidationError(refusal % {"a": states.get(row.state, row.state),
                                         "b": states.get(state, state)})
    row.state = state
    if is_lab(rights):
        row.staff_note = text_field(staff_note, _("Ответ лаборатории"), 500, False) \
            or row.staff_note
    session.flush()
    return row


def move_call(session, call: CourierCall, state: str, rights, staff_note: str = ""
              ) -> CourierCall:
    """Move a courier call (see `move`): the lab accepts, closes or cancels it.

    Raises ValidationError for a move the user's side may not make.
    """
    return move(session, call, state, rights, staff_note, lab_moves=LAB_MOVES,
                states=CALL_STATES,
                refusal=_("Заявку в состоянии «%(a)s» нельзя перевести в «%(b)s»"))


def ask(session, rights, user_id: int | None, *, unit_id, addressee: str, subject: str,
        text: str) -> Question:
    """Record a client's question. Returns it.

    Raises ValidationError without «Вопросы клиентов», for an office outside the
    scope, an unknown addressee, or an empty subject or text.
    """
    rights.require("cabinet.questions",
                   refusal=_l("Вопросы задаёт пользователь с правом «%(right)s»"))
    unit = office(session, rights, unit_id)
    if addressee not in ADDRESSEES:
        raise ValidationError(_("Выберите, кому адресован вопрос"), field="addressee")
    question = Question(unit=unit, addressee=addressee, subject=text_field(subject, _("Тема"), 200),
                        text=text_field(text, _("Вопрос"), 4000), created_by_id=user_id)
    session.add(question)
    session.flush()
    return question


def answer(session, question: Question, text: str, rights, user_id: int | None,
           now: dt.datetime | None = None) -> Question:
    """Answer (or correct the answer to) a question as the lab. Returns it; the author
    is told until he opens his questions.

    Raises ValidationError for a client's user or an empty answer.
    """
    if not is_lab(rights):
        raise ValidationError(_("Отвечает на вопросы персональный менеджер или его ассистент"))
    question.answer = text_field(text, _("Ответ"), 4000)
    question.answered_by_id, question.answered_on = user_id, now or utc_now()
    question.answer_seen_on = None
    session.flush()
    return question


def unseen_answers(session, user_id: int | None) -> int:
    """Return how many answers to the user's questions he has not opened yet."""
    if user_id is None:
        return 0
    return session.scalar(select(func.count()).select_from(Question).where(
        Question.created_by_id == user_id, Question.answered_on.is_not(None),
        Question.answer_seen_on.is_(None)))


def mark_answers_seen(session, user_id: int | None, now: dt.datetime | None = None) -> int:
    """Mark the user's answered questions as seen (flushed). Returns how many were new."""
    rows = session.scalars(select(Question).where(
        Question.created_by_id == user_id, Question.answered_on.is_not(None),
        Question.answer_seen_on.is_(None))).all()
    for row in rows:
        row.answer_seen_on = now or utc_now()
    session.flush()
    return len(rows)
