"""«Импорт прикреплений пациента»: patients attached to medical programmes from a file,
checked by the attachment rule of the patient's card (services.contracts.patients).

A patient is found among those the user may change (his scope), by SNILS when the file
gives it, else by full name and birth date; a programme by its code among the
programmes the user sees. The natural key is (patient, programme, start date): loading
the file again changes nothing, and a changed end date or policy number updates the row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, insert, select

from core.actor import current_actor
from models.journal import JournalEntry
from models.patients import Attachment, Patient, name_key
from models.programmes import Programme
from security.scope import READ, WRITE, scoped
from services.contracts.patients import check_attachment
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    ModelImport,
    RowProblem,
    optional_date,
    optional_text,
    required_date,
    required_text,
)
from services.imports.prices import _among


class AttachmentImport(ModelImport):
    """Attachments of patients to medical programmes."""

    code = "attachments"
    title = _l("Импорт прикреплений")
    right = "import.attachments"
    description = _l("Прикрепления пациентов к медицинским программам: пациент по СНИЛС "
                     "или по ФИО и дате рождения, программа по коду.")
    model = Attachment
    batch_size = 2000
    columns = (
        Column("last_name", "Фамилия", required=True),
        Column("first_name", "Имя", required=True),
        Column("middle_name", "Отчество"),
        Column("birth_date", "Дата рождения", ("Д/р",), required=True, hint="ДД.ММ.ГГГГ"),
        Column("snils", "СНИЛС", hint="Если указан, пациент ищется по нему"),
        Column("programme", "Код программы", ("Программа", "Медицинская программа"),
               required=True),
        Column("valid_from", "Прикреплён с", ("Дата прикрепления", "Действует с"),
               required=True, hint="ДД.ММ.ГГГГ"),
        Column("valid_to", "Прикреплён по", ("Дата открепления", "Действует по"),
               hint="ДД.ММ.ГГГГ; пусто — без окончания"),
        Column("policy_number", "Номер полиса", ("Полис",)),
        Column("note", "Примечание"),
    )
    key = ("last_name", "programme", "valid_from")
    text_columns = ("policy_number", "note")
    field_columns = {"valid_from": "valid_from", "valid_to": "valid_to",
                     "programme": "programme"}

    def start(self, session, rights):
        return {"rights": rights, "programmes": {}}

    def prefetch(self, session, ctx, rows):
        rights = ctx["rights"]
        wanted = {str(r["programme"] or "").strip() for r in rows} - set(ctx["programmes"])
        if wanted:
            found = session.scalars(scoped(select(Programme).where(
                Programme.code.in_(sorted(wanted))), rights, READ, model=Programme))
            ctx["programmes"].update({p.code: p for p in found})
        # Patients of this batch, by SNILS and by (name key, birth date): one query each.
        by_name, by_snils = defaultdict(list), defaultdict(list)
        names, snils = set(), set()
        for r in rows:
            if r["snils"]:
                snils.add(_snils(r["snils"]))
            born = _date_or_none(r["birth_date"])
            if born is not None:
                names.add((name_key(_text(r["last_name"]), _text(r["first_name"]),
                                    _text(r["middle_name"])), born))
        query = select(Patient.id, Patient.name_key, Patient.birth_date, Patient.snils)
        # One `= ANY(array)` per batch on PostgreSQL (IN chunks elsewhere): a tuple IN of
        # thousands of pairs costs more to send and plan than the rows it finds.
        for clause in _among(session, Patient.name_key, {k for k, _b in names}, String):
            for pid, key, born, _number in session.execute(scoped(
                    query.where(clause), rights, WRITE, model=Patient)):
                if (key, born) in names:
                    by_name[(key, born)].append(pid)
        for clause in _among(session, Patient.snils, snils, String):
            for pid, _key, _born, number in session.execute(scoped(
                    query.where(clause), rights, WRITE, model=Patient)):
                by_snils[number].append(pid)
        ctx["by_name"], ctx["by_snils"] = by_name, by_snils

    def convert(self, session, ctx, row):
        last = required_text(row, "last_name", 100)
        first = required_text(row, "first_name", 100)
        middle = optional_text(row, "middle_name", 100)
        born = required_date(row, "birth_date")
        code = required_text(row, "programme", 50)
        programme = ctx["programmes"].get(code)
        if programme is None:
            raise RowProblem("programme", _("Нет медицинской программы с кодом «%(code)s» "
                                            "среди доступных вам", code=code))
        start = required_date(row, "valid_from")
        end = optional_date(row, "valid_to")
        patient_id = self._patient(ctx, row, last, first, middle, born)
        return (patient_id, programme.id, start), {
            "patient_id": patient_id, "programme_id": programme.id, "valid_from": start,
            "valid_to": end, "policy_number": optional_text(row, "policy_number", 50),
            "note": optional_text(row, "note", 500)}

    @staticmethod
    def _patient(ctx, row, last, first, middle, born) -> int:
        if row["snils"]:
            found = ctx["by_snils"].get(_snils(row["snils"]), [])
            if not found:
                raise RowProblem("snils", _("Нет пациента с СНИЛС «%(v)s» среди доступных вам",
                                            v=_text(row["snils"])))
        else:
            found = ctx["by_name"].get((name_key(last, first, middle), born), [])
            if not found:
                raise RowProblem("last_name", _("Пациент %(name)s, %(born)s не найден среди "
                                                "доступных вам", name=" ".join(
                                                    p for p in (last, first, middle) if p),
                                                born=born.strftime("%d.%m.%Y")))
        if len(found) > 1:
            raise RowProblem("last_name", _("Найдено несколько таких пациентов: укажите СНИЛС"))
        return found[0]

    def existing(self, session, ctx, keys):
        """Return the stored attachments of the keys; keep every stored period of the
        batch's (patient, programme) pairs in ctx for the overlap rule (one query)."""
        pairs = {(k[0], k[1]) for k in keys}
        stored: dict[tuple, list] = defaultdict(list)
        result = {}
        for clause in _among(session, Attachment.patient_id, {p for p, _g in pairs}, Integer):
            for a in session.scalars(select(Attachment).where(clause)):
                if (a.patient_id, a.programme_id) in pairs:
                    stored[(a.patient_id, a.programme_id)].append(a)
                    result[(a.patient_id, a.programme_id, a.valid_from)] = a
        ctx["stored"] = stored
        return result

    def check(self, session, ctx, obj):
        check_attachment(session, obj,
                         others=ctx["stored"][(obj.patient_id, obj.programme_id)])

    def store(self, session, ctx, obj, values, *, new):
        """New rows wait for one Core insert per batch (see plan_batch); a later row of
        the file is checked against them."""
        if new:
            ctx.setdefault("pending", []).append(values)
            ctx["stored"][(obj.patient_id, obj.programme_id)].append(obj)

    def plan_batch(self, session, ctx, batch):
        """See ModelImport.plan_batch; the batch's new rows are inserted at once (one
        executemany: the ORM's per-row flushes and journal rows cost 14 ms a row)."""
        outcomes = super().plan_batch(session, ctx, batch)
        pending = ctx.pop("pending", [])
        if pending:
            session.execute(insert(Attachment.__table__), pending)
            ctx["inserted"] = ctx.get("inserted", 0) + len(pending)
        return outcomes

    def finish(self, session, ctx, report):
        """One journal row for the bulk inserts (the session hook does not see them)."""
        if ctx.get("inserted"):
            user_id, username = current_actor()
            session.execute(insert(JournalEntry).values(
                at=dt.datetime.now(dt.UTC), user_id=user_id, username=username,
                action="import", table_name=Attachment.__tablename__,
                row_pk=f"import:{ctx['inserted']}", before=None,
                after={"file": report.filename, "inserted": report.inserted,
                       "updated": report.updated, "unchanged": report.unchanged}))


def _text(value) -> str:
    from services.imports.framework.values import text

    return text(value)


def _snils(value) -> str:
    """Return a SNILS as stored: «123-456-789 01» from any spacing."""
    digits = "".join(ch for ch in _text(value) if ch.isdigit())
    if len(digits) != 11:
        return _text(value)
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def _date_or_none(value):
    from services.imports.framework.values import date

    return date(value) if value not in (None, "") else None
