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
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, insert, select

from core.actor import current_actor
from models.contracts import Contract
from models.journal import JournalEntry
from models.patients import Attachment, Patient, name_key
from models.programmes import Programme
from security.scope import READ, WRITE, scoped
from services.contracts.patients import ProgrammeTerms, check_period
from services.imports.framework.bulk import (
    BulkImport,
    date_cell,
    insert_rows,
    text_cell,
    update_rows,
)
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    RowProblem,
)
from services.imports.prices import _among


class AttachmentImport(BulkImport):
    """Attachments of patients to medical programmes."""

    code = "attachments"
    title = _l("Импорт прикреплений")
    right = "import.attachments"
    description = _l("Прикрепления пациентов к медицинским программам: пациент по СНИЛС "
                     "или по ФИО и дате рождения, программа по коду.")
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
    #: what a re-run may change in a stored attachment.
    updated = ("valid_to", "policy_number", "note")

    def start(self, session, rights):
        return {"rights": rights, "programmes": {}, "periods": defaultdict(list),
                "inserted": 0}

    def parse(self, ctx, row):
        last = text_cell(row, "last_name", 100, required=True)
        first = text_cell(row, "first_name", 100, required=True)
        middle = text_cell(row, "middle_name", 100)
        return _Row(
            last=last, first=first, middle=middle,
            born=date_cell(row, "birth_date", required=True),
            snils=_snils(row["snils"]) if row["snils"] is not None else None,
            programme=text_cell(row, "programme", 50, required=True),
            valid_from=date_cell(row, "valid_from", required=True),
            valid_to=date_cell(row, "valid_to"),
            policy_number=text_cell(row, "policy_number", 50),
            note=text_cell(row, "note", 500),
            name=name_key(last, first, middle))

    def prefetch(self, session, ctx, records):
        """Programmes (with their contract's terms) the user reads, patients he may
        change: one query per kind for the batch."""
        ctx["by_name"], ctx["by_snils"] = find_patients(session, ctx["rights"], records)
        wanted = {r.programme for r in records} - set(ctx["programmes"])
        if wanted:
            query = select(Programme.code, Programme.id, Programme.name, Programme.active,
                           Contract.number, Contract.valid_from, Contract.valid_to).join(
                Contract, Contract.id == Programme.contract_id).where(
                Programme.code.in_(sorted(wanted)))
            for code, pid, *terms in session.execute(scoped(query, ctx["rights"], READ,
                                                            model=Programme)):
                ctx["programmes"][code] = (pid, ProgrammeTerms(*terms))

    def bind(self, ctx, r):
        programme = ctx["programmes"].get(r.programme)
        if programme is None:
            raise RowProblem("programme", _("Нет медицинской программы с кодом «%(code)s» "
                                            "среди доступных вам", code=r.programme))
        patient_id = patient_of(ctx, r)
        return (patient_id, programme[0], r.valid_from), r

    def existing(self, session, ctx, keys):
        """Return {key: stored period} of the keys; every stored period of the batch's
        (patient, programme) pairs joins ctx["periods"] for the overlap rule."""
        pairs = {(k[0], k[1]) for k in keys}
        loaded = ctx.setdefault("loaded", set())
        new_pairs = pairs - loaded
        periods = ctx["periods"]
        query = select(Attachment.id, Attachment.patient_id, Attachment.programme_id,
                       Attachment.valid_from, Attachment.valid_to, Attachment.policy_number,
                       Attachment.note)
        for clause in _among(session, Attachment.patient_id, {p for p, _g in new_pairs},
                             Integer):
            for row in session.execute(query.where(clause)):
                if (row.patient_id, row.programme_id) in new_pairs:
                    periods[(row.patient_id, row.programme_id)].append(_Period(*row))
        loaded |= new_pairs
        return {(p.patient_id, p.programme_id, p.valid_from): p
                for pair in pairs for p in periods[pair]}

    def decide(self, ctx, key, r, stored):
        if stored is not None and all(getattr(stored, k) == getattr(r, k)
                                      for k in self.updated):
            return "same"
        patient_id, programme_id, _start = key
        terms = ctx["programmes"][r.programme][1]
        others = ctx["periods"][(patient_id, programme_id)]
        check_period(stored.id if stored else None, r.valid_from, r.valid_to, terms,
                     moved=stored is None, others=others)
        period = _Period(stored.id if stored else None, patient_id, programme_id,
                         r.valid_from, r.valid_to, r.policy_number, r.note)
        if stored is None:
            others.append(period)
            return "insert"
        others[others.index(stored)] = period
        return "update"

    def write(self, session, ctx, inserts, updates):
        """One COPY (PostgreSQL) or executemany of the new rows, one executemany update."""
        insert_rows(session, Attachment.__table__, _INSERTED, [
            (k[0], k[1], r.valid_from, r.valid_to, r.policy_number, r.note)
            for k, r, _s in inserts])
        update_rows(session, Attachment.__table__, self.updated, [
            {"id": s.id, "valid_to": r.valid_to, "policy_number": r.policy_number,
             "note": r.note} for _k, r, s in updates])
        ctx["inserted"] += len(inserts)
        ctx["updated"] = ctx.get("updated", 0) + len(updates)
        # Written: a later batch reads these periods back from the database, so memory
        # does not grow with the file (until a row fails and writing stops).
        ctx["periods"].clear()
        ctx["loaded"].clear()

    def finish(self, session, ctx, report):
        """One journal row for the bulk writes (the session hook does not see them)."""
        if ctx.get("inserted") or ctx.get("updated"):
            journal_import(session, Attachment.__tablename__, report)


_INSERTED = ("patient_id", "programme_id", "valid_from", "valid_to", "policy_number", "note")


class _Row(NamedTuple):
    last: str
    first: str
    middle: str | None
    born: dt.date
    snils: str | None
    programme: str
    valid_from: dt.date
    valid_to: dt.date | None
    policy_number: str | None
    note: str | None
    name: str


class _Period(NamedTuple):
    id: int | None
    patient_id: int
    programme_id: int
    valid_from: dt.date
    valid_to: dt.date | None
    policy_number: str | None
    note: str | None


def find_patients(session, rights, records, action: str = WRITE) -> tuple[dict, dict]:
    """Return ({(name key, birth date): [ids]}, {SNILS: [ids]}) of the patients the user
    may `action` among `records` (with .name, .born, .snils): one query each."""
    by_name, by_snils = defaultdict(list), defaultdict(list)
    names = {(r.name, r.born) for r in records if not r.snils}
    snils = {r.snils for r in records if r.snils}
    query = select(Patient.id, Patient.name_key, Patient.birth_date, Patient.snils)
    # One `= ANY(array)` per batch on PostgreSQL (IN chunks elsewhere): a tuple IN of
    # thousands of pairs costs more to send and plan than the rows it finds.
    for clause in _among(session, Patient.name_key, {k for k, _b in names}, String):
        for pid, key, born, _number in session.execute(scoped(
                query.where(clause), rights, action, model=Patient)):
            if (key, born) in names:
                by_name[(key, born)].append(pid)
    for clause in _among(session, Patient.snils, snils, String):
        for pid, _key, _born, number in session.execute(scoped(
                query.where(clause), rights, action, model=Patient)):
            by_snils[number].append(pid)
    return by_name, by_snils


def patient_of(ctx, r) -> int:
    """Return the id of the row's patient from find_patients' lookups. Raises RowProblem."""
    if r.snils:
        found = ctx["by_snils"].get(r.snils, [])
        if not found:
            raise RowProblem("snils", _("Нет пациента с СНИЛС «%(v)s» среди доступных вам",
                                        v=r.snils))
    else:
        found = ctx["by_name"].get((r.name, r.born), [])
        if not found:
            raise RowProblem("last_name", _("Пациент %(name)s, %(born)s не найден среди "
                                            "доступных вам", name=" ".join(
                                                p for p in (r.last, r.first, r.middle) if p),
                                            born=r.born.strftime("%d.%m.%Y")))
    if len(found) > 1:
        raise RowProblem("last_name", _("Найдено несколько таких пациентов: укажите СНИЛС"))
    return found[0]


def journal_import(session, table_name: str, report) -> None:
    """Write one journal row for an import's bulk writes (the session hook sees no COPY)."""
    user_id, username = current_actor()
    session.execute(insert(JournalEntry).values(
        at=dt.datetime.now(dt.UTC), user_id=user_id, username=username,
        action="import", table_name=table_name,
        row_pk=f"import:{report.inserted + report.updated}", before=None,
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

