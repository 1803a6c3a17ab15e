"""The personal manager seen from both sides: a client's users find their manager
(and his assistants) with contacts; the manager finds his clients, their offices,
users, this month's figures and latest visits, and may correct the contact data of
his clients' users («Редактирование данных закреплённых пользователей»).
"""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.errors import ValidationError
from models.org import Unit, UnitClosure
from models.rollups import OfficeDay
from models.user import AppUser, manager_client
from models.vouchers import Voucher
from security.scope import scoped
from security.users import check_manageable
from services.cabinet.requests import text_field

EDIT_RIGHT = "cabinet.edit_client_users"
PHONE = re.compile(r"[0-9+()\- ]{5,40}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def clients_of_user(session, user: AppUser) -> list[Unit]:
    """Return the client organisations (units of kind "client") above the user's home
    and delegated units."""
    units = [u.id for u in (user.home_unit, *user.extra_units) if u is not None]
    if not units:
        return []
    return list(session.scalars(
        select(Unit).join(UnitClosure, UnitClosure.ancestor_id == Unit.id)
        .where(UnitClosure.descendant_id.in_(units), Unit.kind == "client")
        .distinct().order_by(Unit.name)))


def managers_of(session, clients: list[Unit]) -> list[AppUser]:
    """Return the active personal managers serving any of the clients, by name."""
    if not clients:
        return []
    return list(session.scalars(
        select(AppUser).join(manager_client, manager_client.c.user_id == AppUser.id)
        .where(manager_client.c.unit_id.in_([c.id for c in clients]),
               AppUser.active.is_(True))
        .distinct().order_by(AppUser.last_name, AppUser.first_name)))


def served_clients(session, rights) -> list[Unit]:
    """Return the client organisations in the user's data scope (a manager's and his
    assistant's scope is the clients the manager serves), by name."""
    return list(session.scalars(scoped(
        select(Unit).where(Unit.kind == "client").order_by(Unit.name), rights)))


def client_overview(session, client: Unit, with_cost: bool,
                    today: dt.date | None = None, reads=None) -> dict:
    """Return a client's offices, users, this month's visits (and cost, only
    `with_cost`: «Просмотр информации о стоимости»), and its ten latest visits.

    The figures and the visits are read on `reads` (the read replica's session, when
    one is configured; `session` by default), the offices and users on `session`: the
    manager corrects those users here and must see his correction at once."""
    today = today or dt.date.today()
    reads = session if reads is None else reads
    subtree = select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == client.id)
    offices = session.scalars(select(Unit).where(Unit.id.in_(subtree), Unit.id != client.id)
                              .order_by(Unit.name)).all()
    users = session.scalars(select(AppUser).where(AppUser.home_unit_id.in_(subtree))
                            .order_by(AppUser.last_name, AppUser.first_name)).all()
    # From the office-day rollup (services.rollups): a month's rows, not its vouchers.
    measures = [func.coalesce(func.sum(OfficeDay.visits), 0)]
    if with_cost:  # the sum is not read at all without the right
        measures.append(func.coalesce(func.sum(OfficeDay.cost), 0))
    month = reads.execute(
        select(*measures)
        .where(OfficeDay.office_id.in_(subtree),
               OfficeDay.day >= today.replace(day=1), OfficeDay.day <= today)).one()
    latest = reads.scalars(select(Voucher).where(Voucher.referring_unit_id.in_(subtree))
                             .order_by(Voucher.service_date.desc(), Voucher.id.desc())
                             .limit(10)).all()
    return {"client": client, "offices": offices, "users": users, "visits": month[0],
            "cost": month[1] if with_cost else None, "latest": latest}


def edit_client_user(session, rights, target: AppUser, *, position: str, phone: str,
                     email: str, active: bool) -> AppUser:
    """Correct a client user's contact data as his manager (flushed). Returns him.

    Raises ValidationError without the right, for a user outside the manager's
    clients, or for a malformed phone or e-mail.
    """
    rights.require(EDIT_RIGHT, refusal=_l("Данные пользователей клиентов меняет персональный "
                                          "менеджер с правом «%(right)s»"))
    home = target.home_unit
    if home is None or home.kind not in ("client", "head_unit", "client_branch") or \
            session.scalar(scoped(select(Unit.id).where(Unit.id == home.id), rights)) is None:
        raise ValidationError(_("Это не пользователь ваших клиентов"))
    # A client's office may hold an account with more rights than the manager's (an
    # administrator placed there): such an account is the rights administrator's.
    check_manageable(session, target)
    phone = (phone or "").strip()
    if phone and not PHONE.fullmatch(phone):
        raise ValidationError(_("Телефон — цифры, пробелы, скобки, «+» и «-»"), field="phone")
    email = (email or "").strip()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise ValidationError(_("Укажите адрес электронной почты"), field="email")
    clash = session.scalar(select(AppUser.id).where(func.lower(AppUser.email) == email.lower(),
                                                    AppUser.id != target.id))
    if clash is not None:
        raise ValidationError(_("Этот адрес почты уже занят другим пользователем"),
                              field="email")
    target.position = text_field(position, _("Должность"), 255, False)
    target.phone, target.email, target.active = phone or None, email, bool(active)
    session.flush()
    return target
