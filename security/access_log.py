"""Reads of patients' data, noted during a request and written once at its end
(`services.admin.security_log`): one INSERT per request, whatever the number
of patients a page shows.

A view notes what it shows (`note_reads`); the base classes do it for every
screen and API whose rows are patients or name one (`patient_key`)."""

from __future__ import annotations

from flask import g, has_request_context

PENDING = "patient_reads"


def patient_key(model: type) -> str | None:
    """Return the attribute path naming the patient of `model`'s rows ("id" for the
    patients themselves, "patient_id" for rows linked to one, a model's declared
    `__patient__` such as "voucher.patient_id"), or None."""
    table = getattr(model, "__tablename__", None)
    if table == "pat_patient":
        return "id"
    if table == "patient_access":
        return None  # reading the access journal is not reading a patient
    declared = getattr(model, "__patient__", None)
    if declared:
        return declared
    table = getattr(model, "__table__", None)
    return "patient_id" if table is not None and "patient_id" in table.columns else None


def _path(row, path: str):
    for name in path.split("."):
        row = getattr(row, name, None)
        if row is None:
            return None
    return row


def note_reads(patient_ids, channel: str, screen: str) -> None:
    """Remember that this request shows the patients `patient_ids` through
    `channel` (show, list, export, api, cabinet) on `screen`."""
    if not has_request_context():
        return
    pending = g.setdefault(PENDING, {})
    for pid in patient_ids:
        if isinstance(pid, int):
            pending.setdefault((pid, channel), screen)


def note_rows(model: type, rows, channel: str, screen: str) -> None:
    """Note the patients of `rows` (instances of `model`), if its rows name one."""
    key = patient_key(model)
    if key is not None:
        note_reads((_path(row, key) for row in rows), channel, screen)


def pending_reads() -> list[tuple[int, str, str]]:
    """Return and forget this request's noted reads: (patient id, channel, screen)."""
    pending = g.pop(PENDING, None) or {}
    return [(pid, channel, screen) for (pid, channel), screen in pending.items()]
