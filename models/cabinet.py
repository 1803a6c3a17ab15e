"""What a corporate client asks of the lab through the cabinet: courier (and
phlebotomy team) calls and questions to a doctor or the personal manager. Each
belongs to the client's office that asked (`unit_id`): the office's users and the
office's personal manager see it, nobody else.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    func,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.scoping import ScopePath
from models.user import AppUser

CALL_KINDS = {"courier": _l("Курьер за биоматериалом"),
              "phlebotomy": _l("Процедурная бригада")}
CALL_STATES = {"new": _l("Новая"), "accepted": _l("Принята"), "done": _l("Выполнена"),
               "cancelled": _l("Отменена")}
ADDRESSEES = {"doctor": _l("Врачу лаборатории"), "manager": _l("Персональному менеджеру")}


class ClientRequest:
    """What every request of a client's office carries: the office (its scope), the
    client's comment, the state the lab moves it through with its reply, and who
    asked when. Each request declares its own states in a CHECK constraint."""

    __scope__ = ScopePath(column="unit_id")

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                         nullable=False)
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Комментарий")))
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="new",
                                       info=label(_l("Состояние")))
    staff_note: Mapped[str | None] = mapped_column(String(500),
                                                   info=label(_l("Ответ лаборатории")))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now())

    @declared_attr
    def unit(cls) -> Mapped[Unit]:
        return relationship(Unit, info=label(_l("Подразделение")))

    @declared_attr
    def created_by(cls) -> Mapped[AppUser | None]:
        return relationship(AppUser, info=label(_l("Автор")))


class CourierCall(ClientRequest, Model):
    """Вызов курьера: when and where to pick up samples (or to send a team)."""

    __tablename__ = "cab_courier_call"
    __label__ = _l("Вызовы курьера")
    __table_args__ = (
        Index("ix_cab_courier_call_unit_date", "unit_id", "visit_date"),
        CheckConstraint("kind IN ('courier', 'phlebotomy')", name="ck_courier_call_kind"),
        CheckConstraint("state IN ('new', 'accepted', 'done', 'cancelled')",
                        name="ck_courier_call_state"),
        CheckConstraint("samples >= 0", name="ck_courier_call_samples"),
        CheckConstraint("time_from < time_to", name="ck_courier_call_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False, default="courier",
                                      info=label(_l("Кого вызвать")))
    visit_date: Mapped[dt.date] = mapped_column(Date, nullable=False, info=label(_l("Дата")))
    time_from: Mapped[dt.time] = mapped_column(Time, nullable=False, info=label(_l("С")))
    time_to: Mapped[dt.time] = mapped_column(Time, nullable=False, info=label(_l("До")))
    address: Mapped[str] = mapped_column(String(300), nullable=False,
                                         info=label(_l("Адрес")))
    samples: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                         info=label(_l("Проб")))
    phone: Mapped[str | None] = mapped_column(String(40), info=label(_l("Телефон")))


class Question(Model):
    """Вопрос клиента: to a lab doctor or the personal manager, with the lab's answer.
    `answer_seen_on` stays empty until the author has seen the answer (the cabinet
    tells him an answer is waiting)."""

    __tablename__ = "cab_question"
    __label__ = _l("Вопросы клиентов")
    __scope__ = ScopePath(column="unit_id")
    __table_args__ = (
        Index("ix_cab_question_unit_created", "unit_id", "created_on"),
        CheckConstraint("addressee IN ('doctor', 'manager')", name="ck_question_addressee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                         nullable=False)
    addressee: Mapped[str] = mapped_column(String(10), nullable=False, default="manager",
                                           info=label(_l("Кому")))
    subject: Mapped[str] = mapped_column(String(200), nullable=False, info=label(_l("Тема")))
    text: Mapped[str] = mapped_column(String(4000), nullable=False, info=label(_l("Вопрос")))
    answer: Mapped[str | None] = mapped_column(String(4000), info=label(_l("Ответ")))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now())
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    answered_on: Mapped[dt.datetime | None] = mapped_column(DateTime)
    answer_seen_on: Mapped[dt.datetime | None] = mapped_column(DateTime)

    unit: Mapped[Unit] = relationship(Unit, info=label(_l("Подразделение")))
    created_by: Mapped[AppUser | None] = relationship(AppUser, foreign_keys=[created_by_id],
                                                      info=label(_l("Автор")))
    answered_by: Mapped[AppUser | None] = relationship(AppUser, foreign_keys=[answered_by_id],
                                                       info=label(_l("Ответил")))
