"""Patients: duplicate flags kept up to date on every save, and the attachment rules."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from core.errors import ValidationError
from models.contracts import Contract
from models.patients import Attachment, Patient, name_key
from models.programmes import Programme
from security.scope import scoped
from services.contracts.rules import changed, fmt_date, within


def check_patient(_session, patient: Patient) -> None:
    """Refuse a patient without a name, a birth date in the future, or an unknown sex.

    Raises ValidationError.
    """
    import datetime as dt

    if not (patient.last_name or "").strip() or not (patient.first_name or "").strip():
        raise ValidationError(_("Укажите фамилию и имя пациента"), field="last_name")
    if patient.birth_date is None or patient.birth_date > dt.date.today():
        raise ValidationError(_("Дата рождения не может быть в будущем"), field="birth_date")
    if patient.sex not in ("m", "f"):
        raise ValidationError(_("Укажите пол пациента"), field="sex")


def check_attachment(session, attachment: Attachment, *, others=None) -> None:
    """Refuse an attachment outside its contract's validity, overlapping another of the
    same patient to the same programme, or naming branches that do not serve the contract.
    `others`, when given, are the patient's attachments to the programme to compare with
    (objects with id, valid_from, valid_to; an import reads them in bulk), else they are
    queried.

    Raises ValidationError.
    """
    if attachment.valid_to is not None and attachment.valid_from is not None \
            and attachment.valid_to < attachment.valid_from:
        raise ValidationError(_("Дата окончания раньше даты начала"), field="valid_to")
    programme = attachment.programme or session.get(Programme, attachment.programme_id)
    patient_id = attachment.patient.id if attachment.patient else attachment.patient_id
    if programme is None or patient_id is None or attachment.valid_from is None:
        raise ValidationError(_("Укажите пациента, программу и дату начала"))
    # An attachment made while the programme was active stays editable after it closes.
    if not programme.active and changed(attachment, "programme", "programme_id"):
        raise ValidationError(_("Программа «%(p)s» не действует", p=programme.name),
                              field="programme")
    contract: Contract = programme.contract
    if not within(attachment.valid_from, attachment.valid_to, contract.valid_from,
                  contract.valid_to):
        raise ValidationError(
            _("Период прикрепления выходит за срок действия договора %(c)s "
              "(с %(start)s по %(end)s)", c=contract.number,
              start=fmt_date(contract.valid_from), end=fmt_date(contract.valid_to)),
            field="valid_from")
    clash = (_overlapping(session, attachment, patient_id, programme.id) if others is None
             else _overlapping_among(attachment, others))
    if clash is not None:
        raise ValidationError(
            _("Пациент уже прикреплён к программе «%(p)s» с %(start)s по %(end)s: "
              "периоды пересекаются", p=programme.name, start=fmt_date(clash.valid_from),
              end=fmt_date(clash.valid_to)), field="valid_from")
    serving = {contract.branch_id, *(u.id for u in contract.branches)}
    for unit in attachment.branches:
        if unit.id not in serving:
            raise ValidationError(
                _("Филиал «%(u)s» не обслуживает договор %(c)s", u=unit.name, c=contract.number),
                field="branches")


def _overlapping(session, attachment: Attachment, patient_id: int, programme_id: int):
    """Return another attachment of the patient to the programme whose period meets this one."""
    query = select(Attachment).where(Attachment.patient_id == patient_id,
                                     Attachment.programme_id == programme_id)
    if attachment.id is not None:
        query = query.where(Attachment.id != attachment.id)
    if attachment.valid_to is not None:
        query = query.where(Attachment.valid_from <= attachment.valid_to)
    query = query.where(Attachment.valid_to.is_(None)
                        | (Attachment.valid_to >= attachment.valid_from))
    with session.no_autoflush:
        return session.scalars(query.limit(1)).first()


def _overlapping_among(attachment: Attachment, others):
    """Return the first of `others` (not the attachment itself) whose period meets its one."""
    for other in others:
        if attachment.id is not None and other.id == attachment.id:
            continue
        if attachment.valid_to is not None and other.valid_from > attachment.valid_to:
            continue
        if other.valid_to is None or other.valid_to >= attachment.valid_from:
            return other
    return None


def _keys_before(patient: Patient) -> tuple[str, object] | None:
    """Return the (name key, birth date) a stored patient had before this flush."""
    state = sa_inspect(patient)
    if not state.persistent and not state.deleted:
        return None
    key = state.attrs["name_key"].history
    birth = state.attrs["birth_date"].history
    old_key = (key.deleted or key.unchanged or [None])[0]
    old_birth = (birth.deleted or birth.unchanged or [None])[0]
    return (old_key, old_birth)


def _mark(session: Session, key: tuple[str, object]) -> None:
    """Set the duplicate flag of every patient that holds `key` after this flush."""
    name, birth = key
    if not name or birth is None:
        return
    with session.no_autoflush:
        stored = session.scalars(
            select(Patient).where(Patient.name_key == name, Patient.birth_date == birth)).all()
    unsaved = [p for p in (*session.new, *session.dirty) if isinstance(p, Patient)]
    members = {p for p in (*stored, *unsaved)
               if p not in session.deleted and (p.name_key, p.birth_date) == key}
    flag = len(members) > 1
    for patient in members:
        if patient.possible_duplicate != flag:
            patient.possible_duplicate = flag


def _before_flush(session: Session, _context, _instances) -> None:
    """Keep `name_key` and `possible_duplicate` true for every patient a flush touches,
    and for the namesakes it joins or leaves: the flag is a column, so the list
    filters and sorts by it without a subquery per row."""
    touched: set[tuple[str, object]] = set()
    for patient in [*session.new, *session.dirty, *session.deleted]:
        if not isinstance(patient, Patient):
            continue
        before = _keys_before(patient)
        if before is not None:
            touched.add(before)
        if patient not in session.deleted:
            patient.name_key = name_key(patient.last_name, patient.first_name,
                                        patient.middle_name)
            touched.add((patient.name_key, patient.birth_date))
    for key in touched:
        _mark(session, key)


def duplicates_of(session, patient: Patient, rights) -> int:
    """Return how many other patients the user may read share the name and birth date."""
    return session.scalar(scoped(
        select(func.count()).select_from(Patient).where(
            Patient.name_key == name_key(patient.last_name, patient.first_name,
                                         patient.middle_name),
            Patient.birth_date == patient.birth_date, Patient.id != patient.id),
        rights, model=Patient)) or 0


def install() -> None:
    """Register the duplicate-flag hook on every session (idempotent), ahead of the
    journal's, so that the flags it changes on namesakes are journaled too."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush, insert=True)
