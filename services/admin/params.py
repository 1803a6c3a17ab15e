"""Module parameters of a clinic network: the closed reporting period and the date
rule of prepaid vouchers («Редактирование параметров»).

A document dated on or before the network's `closed_through` date is closed:
creating, changing or deleting it needs «Создание / редактирование / удаление
документов в закрытом периоде»; moving the date needs «Изменение даты
закрытого отчетного периода».
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.errors import ValidationError
from models.org import Unit, UnitClosure
from models.params import ModuleParameters
from services.dates import parse_date

CLOSED_EDIT_RIGHT = "params.closed_period_edit"
CLOSED_DATE_RIGHT = "params.closed_period_date"
EDIT_RIGHT = "params.edit"
#: «Предоплатный талон создавать на дату» when a user's right defers to the network.
PREPAID_DATES = {"current_date": _l("текущая дата"), "record_date": _l("дата записи")}


def network_of(session, unit_id: int) -> int | None:
    """Return the id of the network (top unit) a unit belongs to."""
    return session.scalar(
        select(UnitClosure.ancestor_id).join(Unit, Unit.id == UnitClosure.ancestor_id)
        .where(UnitClosure.descendant_id == unit_id, Unit.parent_id.is_(None)))


def parameters_for(session, unit_id: int) -> ModuleParameters | None:
    """Return the parameters of the network a unit belongs to (None when unset)."""
    network = network_of(session, unit_id)
    if network is None:
        return None
    return session.scalar(select(ModuleParameters).where(ModuleParameters.unit_id == network))


def closed_through(session, unit_id: int) -> dt.date | None:
    """Return the last closed day for documents of the unit (None: nothing closed)."""
    params = parameters_for(session, unit_id)
    return params.closed_through if params is not None else None


def check_open(session, unit_id: int, *dates: dt.date | None, rights) -> None:
    """Refuse a document change touching a date in the closed period (its new date and,
    for a stored document, its old one) unless the user may work in it.

    Raises ValidationError.
    """
    if rights.flag(CLOSED_EDIT_RIGHT):
        return
    check_closed(closed_through(session, unit_id), *dates, rights=rights)


def check_closed(closed: dt.date | None, *dates: dt.date | None, rights) -> None:
    """`check_open` on the unit's closed date already read (an import reads it once per
    branch).

    Raises ValidationError.
    """
    if closed is None or rights.flag(CLOSED_EDIT_RIGHT):
        return
    for day in dates:
        if day is not None and day <= closed:
            raise ValidationError(
                _("Отчётный период закрыт по %(d)s: документы этого периода не создаются, "
                  "не меняются и не удаляются", d=closed.strftime("%d.%m.%Y")),
                field="service_date")


def typed_day(raw: str) -> dt.date | None:
    """Return the date typed as `raw` (None for an empty text).

    Raises ValidationError for a text that is not a date."""
    raw = raw.strip()
    day = parse_date(raw) if raw else None  # ДД.ММ.ГГГГ, as typed on the page
    if raw and day is None:
        raise ValidationError(_("Дата «%(v)s» не распознана", v=raw))
    return day


def set_closed_through(session, network_id: int, day: dt.date | None, rights
                       ) -> ModuleParameters:
    """Set the network's closed period date (flushed, not committed).

    Raises ValidationError without «Изменение даты закрытого отчетного периода».
    """
    if not rights.flag(CLOSED_DATE_RIGHT):
        raise ValidationError(_("Дату закрытого периода меняет только пользователь с правом "
                                "«Изменение даты закрытого отчетного периода»"),
                              field="closed_through")
    params = _parameters(session, network_id)
    params.closed_through = day
    session.flush()
    return params


def _parameters(session, network_id: int) -> ModuleParameters:
    params = session.scalar(select(ModuleParameters)
                            .where(ModuleParameters.unit_id == network_id))
    if params is None:
        params = ModuleParameters(unit_id=network_id)
        session.add(params)
    return params


def set_prepaid_date(session, network_id: int, rule: str, rights) -> ModuleParameters:
    """Set the date rule of the network's prepaid vouchers (flushed, not committed).

    Raises ValidationError without «Редактирование параметров» or for an unknown rule.
    """
    if not rights.flag(EDIT_RIGHT):
        raise ValidationError(_("Параметры меняет только пользователь с правом "
                                "«Редактирование параметров»"))
    if rule not in PREPAID_DATES:
        raise ValidationError(_("Выберите дату предоплатного талона из списка"),
                              field="prepaid_date")
    params = _parameters(session, network_id)
    params.prepaid_date = rule
    session.flush()
    return params
