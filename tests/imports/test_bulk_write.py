"""The set-based write path of the import framework: a foreign key value that names no
row is refused as before (PostgreSQL checks the batch's values once, then COPYs), and a
file's repeated row is found in a later batch (PostgreSQL keeps the keys seen in a
temporary table, not in memory)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models.patients import Attachment
from services.imports.framework.bulk import insert_rows
from services.imports.patient_specs import AttachmentImport
from tests.contract_rows import contract, count, patient, programme, user_with
from tests.imports.import_rows import csv_bytes, run, text
from tests.imports.test_attachment_import import HEADER, line

COLUMNS = ("patient_id", "programme_id", "valid_from", "valid_to", "policy_number", "note")


@pytest.fixture
def prog_and_people(session):
    prog = programme(session, contract(session))
    people = [patient(session), patient(session)]
    session.commit()
    return prog, people


def test_rows_with_existing_references_go_in(session, prog_and_people):
    prog, (a, b) = prog_and_people
    insert_rows(session, Attachment.__table__, COLUMNS, [
        (a.id, prog.id, dt.date(2026, 2, 1), None, "П-1", None),
        (b.id, prog.id, dt.date(2026, 2, 1), None, "П-2", None)])
    assert count(session, Attachment, Attachment.programme_id == prog.id) == 2
    session.rollback()


def test_a_reference_to_no_row_is_refused(session, prog_and_people):
    prog, (a, _b) = prog_and_people
    missing = session.scalar(select(Attachment.programme_id).order_by(
        Attachment.programme_id.desc()).limit(1)) or 0
    with pytest.raises(IntegrityError):
        insert_rows(session, Attachment.__table__, COLUMNS, [
            (a.id, prog.id, dt.date(2026, 2, 1), None, None, None),
            (a.id, max(missing, prog.id) + 1000, dt.date(2026, 3, 1), None, None, None)])
    session.rollback()
    assert count(session, Attachment, Attachment.patient_id == a.id) == 0


def test_a_repeated_row_is_found_in_a_later_batch(session, login, prog_and_people,
                                                  monkeypatch):
    monkeypatch.setattr(AttachmentImport, "batch_size", 2)
    client = user_with(session, login, {"import.attachments": "yes"})
    prog, (a, b) = prog_and_people
    data = csv_bytes(HEADER, line(a, prog), line(b, prog, end="28.02.2026"),
                     line(b, prog, start="01.03.2026"), line(a, prog), line(a, prog))
    preview, _ = run(client, "attachments", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 2" in page
    assert "5 Фамилия Повтор строки 2" in page and "6 Фамилия Повтор строки 2" in page
    # The same file again after a clean load of its first three rows: all three
    # unchanged, the repeats still told (the keys of the earlier run are gone).
    _, done = run(client, "attachments", csv_bytes(HEADER, *[
        line(a, prog), line(b, prog, end="28.02.2026"), line(b, prog, start="01.03.2026")]))
    assert "Файл загружен." in text(done)
    again, _ = run(client, "attachments", data, confirm=False)
    assert "Без изменений 3" in text(again) and "5 Фамилия Повтор строки 2" in text(again)
