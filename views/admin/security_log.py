"""The security journals' screens: security events (sign-ins, passwords, roles and
rights) and reads of patients' data. Read-only, filterable by user, kind or
patient and period; holders of «Журнал изменений» with the whole data scope only
(the journals name users and patients of every branch)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

import models.security_log
from models.security_log import PatientAccess, SecurityEvent
from security.effective import right_label
from views.admin.journal import JournalScreen
from views.datamodel import UchetInterface
from views.registry import register


def _right_change(part: str) -> str:
    """Return one stored change ("code = value" set, "code - value" removed) in
    words; a code or value the catalogue no longer knows is shown as stored."""
    if part.startswith("…+"):
        return str(_l("и ещё %(n)s", n=part[2:]))
    code, sign, value = part.partition(" = ") if " = " in part else part.partition(" - ")
    try:
        right = right_label(code)
        shown = right_label(code, value)
    except (KeyError, ValueError):
        return part
    if sign == " - ":
        return str(_l("«%(right)s»: своё значение снято (было «%(value)s»)", right=right,
                      value=shown))
    return f"«{right}» = «{shown}»"


# The journal reads rights changes by the catalogue's labels, not by their codes.
models.security_log.right_change_words = _right_change


class SecurityEventView(JournalScreen):
    """Who signed in, failed, was locked out, changed a password, roles or rights."""

    datamodel = UchetInterface(SecurityEvent)
    list_title = _l("Журнал безопасности")
    show_title = _l("Событие безопасности")
    label_columns = {
        "at": _l("Когда"),
        "username": _l("Кто"),
        "kind": _l("Событие"),
        "kind_label": _l("Событие"),
        "target": _l("Чья учётная запись"),
        "address": _l("Адрес"),
        "detail": _l("Подробности"),
        "detail_label": _l("Подробности"),
    }
    list_columns = ["at", "username", "kind_label", "target", "address", "detail_label"]
    show_columns = list_columns
    search_columns = ["at", "username", "kind", "target"]
    order_columns = ["at", "username"]


class PatientAccessView(JournalScreen):
    """Who read which patient's card, services, exports: by patient and by user."""

    datamodel = UchetInterface(PatientAccess)
    list_title = _l("Журнал доступа к пациентам")
    show_title = _l("Чтение данных пациента")
    label_columns = {
        "at": _l("Когда"),
        "username": _l("Кто"),
        "patient_id": _l("Номер пациента"),
        "channel": _l("Как"),
        "channel_label": _l("Как"),
        "screen": _l("Экран"),
        "address": _l("Адрес"),
    }
    list_columns = ["at", "username", "patient_id", "channel_label", "screen", "address"]
    show_columns = list_columns
    search_columns = ["at", "username", "patient_id", "channel"]
    order_columns = ["at", "username", "patient_id"]


register(SecurityEventView, name="SecurityJournal", label=_l("Журнал безопасности"),
         category="admin", icon="fa-shield")
register(PatientAccessView, name="PatientAccessJournal", label=_l("Журнал доступа к пациентам"),
         category="admin", icon="fa-eye")
