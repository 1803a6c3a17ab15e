"""«Импорт прикреплений» on the import framework, over HTTP: preview with per-row Russian
errors and what will be inserted / updated / left alone, all or nothing, idempotent
re-run, the right and the patient scope, the log, bad files, the template."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.imports import ImportLog
from models.patients import Attachment
from tests.contract_rows import contract, count, patient, programme, user_with
from tests.imports.import_rows import csv_bytes, run, text, xlsx_bytes

HEADER = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Код программы", "Прикреплён с",
          "Прикреплён по", "Номер полиса"]


@pytest.fixture
def rows(session):
    """Two patients of «Тверской», one of «Невский» (another branch), a DMS programme."""
    deal = contract(session)
    prog = programme(session, deal)
    here = [patient(session), patient(session)]
    there = patient(session, home="SPB-NEV")
    session.commit()
    return {"programme": prog, "here": here, "there": there}


def line(p, prog, start="01.02.2026", end="31.12.2026", policy="П-1"):
    return [p.last_name, p.first_name, p.middle_name, p.birth_date.strftime("%d.%m.%Y"),
            prog.code, start, end, policy]


def attachments(session, prog) -> int:
    return count(session, Attachment, Attachment.programme_id == prog.id)


def test_preview_then_load_then_reload_changes_nothing(session, login, rows):
    client = user_with(session, login, {"import.attachments": "yes"})
    prog, (a, b) = rows["programme"], rows["here"]
    data = csv_bytes(HEADER, line(a, prog), line(b, prog))
    preview, done = run(client, "attachments", data)
    page = text(preview)
    assert "Будет добавлено 2" in page and "Строк с ошибками 0" in page
    assert "Готово" in text(done) and "Файл загружен." in text(done)
    assert attachments(session, prog) == 2
    # The same file again: nothing to insert; a changed end date is an update.
    again, _ = run(client, "attachments", data, confirm=False)
    assert "Будет добавлено 0" in text(again) and "Без изменений 2" in text(again)
    changed = csv_bytes(HEADER, line(a, prog, end="30.06.2026"), line(b, prog))
    _, done = run(client, "attachments", changed)
    assert "Изменено 1" in text(done) and "Без изменений 1" in text(done)
    stored = session.scalar(select(Attachment).where(Attachment.patient_id == a.id))
    assert stored.valid_to == dt.date(2026, 6, 30)
    logs = session.scalars(select(ImportLog).where(ImportLog.kind == "attachments")
                           .order_by(ImportLog.id)).all()
    assert [(g.status, g.inserted, g.updated, g.unchanged) for g in logs] == [
        ("done", 2, 0, 0), ("done", 0, 1, 1)]
    assert logs[0].username.startswith("ctr_user")


def test_row_errors_in_russian_and_nothing_written(session, login, rows):
    client = user_with(session, login, {"import.attachments": "yes"})
    prog, (a, b), there = rows["programme"], rows["here"], rows["there"]
    data = csv_bytes(
        HEADER,
        line(a, prog),                                   # 2 fine
        line(b, prog, start="31.02.2026"),               # 3 no such day
        line(there, prog),                               # 4 another branch's patient
        [a.last_name, a.first_name, a.middle_name, "17.05.1980", "НЕТ-ТАКОЙ", "01.02.2026",
         "31.12.2026", ""],                              # 5 unknown programme
        line(b, prog, start="01.03.2025"),               # 6 before the contract
        line(a, prog),                                   # 7 repeats row 2
        line(b, prog, policy="=HYPERLINK(\"x\")"),       # 8 a formula
    )
    preview, _ = run(client, "attachments", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 6" in page
    for expected in (
        "3 Прикреплён с Дата не распознана: «31.02.2026» (ожидается ДД.ММ.ГГГГ)",
        f"4 Фамилия Пациент {there.last_name} Иван Петрович, 17.05.1980 не найден среди "
        "доступных вам",
        "5 Код программы Нет медицинской программы с кодом «НЕТ-ТАКОЙ» среди доступных вам",
        "6 Прикреплён с Период прикрепления выходит за срок действия договора",
        "7 Фамилия Повтор строки 2",
        "8 Номер полиса Значение похоже на формулу: формулы не загружаются",
    ):
        assert expected in page, expected
    assert "Загрузить" not in page  # no confirm button while the file has errors
    assert attachments(session, prog) == 0


def test_the_right_is_required_on_every_channel(session, login, rows):
    refused = user_with(session, login, {"import.service_sets": "yes"})
    data = csv_bytes(HEADER, line(rows["here"][0], rows["programme"]))
    for response in (refused.get("/imports/attachments/"),
                     refused.get("/imports/attachments/template"),
                     refused.post("/imports/attachments/preview",
                                  data={"file": (io.BytesIO(data), "a.csv")},
                                  content_type="multipart/form-data")):
        assert response.status_code in (302, 403), response.status_code
        assert "/imports/attachments/job" not in response.headers.get("Location", "")
    hub = text(refused.get("/imports/"))
    assert "Импорт наборов услуг" in hub and "Импорт прикреплений" not in hub
    assert attachments(session, rows["programme"]) == 0
    nobody = user_with(session, login, {"price.prices.view": "all"})
    assert nobody.get("/imports/").status_code == 403


def test_a_job_is_its_owners_only(session, login, rows):
    owner = user_with(session, login, {"import.attachments": "yes"})
    other = user_with(session, login, {"import.attachments": "yes"})
    data = csv_bytes(HEADER, line(rows["here"][0], rows["programme"]))
    response = owner.post("/imports/attachments/preview",
                          data={"file": (io.BytesIO(data), "a.csv")},
                          content_type="multipart/form-data")
    job_url = response.headers["Location"]
    assert owner.get(job_url).status_code == 200
    assert other.get(job_url).status_code == 404
    assert other.get(job_url + "/status").status_code == 404
    assert other.post(job_url + "/confirm").status_code == 404
    assert attachments(session, rows["programme"]) == 0


def test_status_json_reports_the_finished_job(session, login, rows):
    client = user_with(session, login, {"import.attachments": "yes"})
    data = csv_bytes(HEADER, line(rows["here"][0], rows["programme"]))
    response = client.post("/imports/attachments/preview",
                           data={"file": (io.BytesIO(data), "a.csv")},
                           content_type="multipart/form-data")
    status = client.get(response.headers["Location"] + "/status").get_json()
    assert status == {"state": "done", "label": "Готово", "done": 1, "total": 1,
                      "finished": True, "percent": 100, "message": ""}


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ";"), ("utf-8-sig", ","),
                                                     ("cp1251", ";"), ("cp1251", ",")])
def test_csv_encodings_and_delimiters(session, login, rows, encoding, delimiter):
    client = user_with(session, login, {"import.attachments": "yes"})
    data = csv_bytes(HEADER, line(rows["here"][0], rows["programme"]), encoding=encoding,
                     delimiter=delimiter)
    preview, _done = run(client, "attachments", data)
    assert "Будет добавлено 1" in text(preview)
    assert attachments(session, rows["programme"]) == 1


def test_xlsx_and_header_aliases(session, login, rows):
    client = user_with(session, login, {"import.attachments": "yes"})
    p, prog = rows["here"][0], rows["programme"]
    data = xlsx_bytes([["Список прикреплённых"],
                       ["фамилия", "ИМЯ", "Д/р", "Программа", "Дата прикрепления",
                        "Дата открепления"],
                       [p.last_name, p.first_name, p.birth_date, prog.code,
                        dt.datetime(2026, 3, 1), "31.12.2026"]])
    # No «Отчество» column: the patient has one, so he is not found by name alone.
    preview, _ = run(client, "attachments", data, "a.xlsx", confirm=False)
    assert "не найден среди доступных вам" in text(preview)
    data = xlsx_bytes([["фамилия", "ИМЯ", "отчество", "Д/р", "Программа", "Дата прикрепления",
                        "Дата открепления"],
                       [p.last_name, p.first_name, p.middle_name, p.birth_date, prog.code,
                        dt.datetime(2026, 3, 1), dt.datetime(2026, 12, 31)]])
    _, done = run(client, "attachments", data, "a.xlsx")
    assert "Добавлено 1" in text(done)


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("a.xlsx", b"PK\x03\x04garbage" * 50, "Файл не читается как книга Excel (XLSX)"),
    ("a.csv", b"", "Файл пуст"),
    ("a.csv", b"\x00\x01binary", "Файл не похож на текстовый CSV"),
    ("a.csv", b"\xff\xfe\x98\x98", "Кодировка файла не распознана"),
    ("a.pdf", b"%PDF", "Загрузите файл XLSX или CSV"),
    ("a.csv", "Фамилия;Имя\nИванов;Иван\n".encode(), "В файле нет обязательных столбцов: "
     "«Дата рождения», «Код программы», «Прикреплён с»"),
    ("a.csv", ";".join(HEADER).encode(), "В файле нет строк с данными"),
])
def test_bad_files_get_a_russian_message_and_change_nothing(session, login, rows, filename,
                                                             data, message):
    client = user_with(session, login, {"import.attachments": "yes"})
    before = count(session, ImportLog)
    preview, _ = run(client, "attachments", data, filename, confirm=False)
    assert message in text(preview)
    assert attachments(session, rows["programme"]) == 0
    assert count(session, ImportLog) == before  # a preview is not logged


def test_the_template_is_an_xlsx_with_the_header_row(session, login):
    client = user_with(session, login, {"import.attachments": "yes"})
    response = client.get("/imports/attachments/template")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["Фамилия", "Имя", "Отчество", "Дата рождения",
                                           "СНИЛС", "Код программы", "Прикреплён с",
                                           "Прикреплён по", "Номер полиса", "Примечание"]


def test_zip_bombs_and_huge_sheets_are_refused_before_reading(session, login, rows):
    """The framework's reader bounds every import as it did the price list's."""
    import zipfile

    from services.imports.framework import reader
    from tests.imports.test_price_import import CORNER, huge_sheet

    bomb = io.BytesIO(xlsx_bytes([HEADER]))
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (reader.MAX_SHARED_STRINGS + 1))
    client = user_with(session, login, {"import.attachments": "yes"})
    for data, message in ((bomb.getvalue(), "Файл не читается как книга Excel (XLSX)"),
                          (huge_sheet("A1:XFD1048576", CORNER),
                           "Лист книги слишком велик (1048576 строк, 16384 столбцов)")):
        preview, _ = run(client, "attachments", data, "a.xlsx", confirm=False)
        assert message in text(preview)
    assert attachments(session, rows["programme"]) == 0


@pytest.mark.parametrize("refusal", ["Forbidden", "NotFound", "Conflict"])
def test_a_rule_refusing_with_any_domain_error_is_the_rows_error(session, login, rows,
                                                                 monkeypatch, refusal):
    """A rule of the services may refuse with Forbidden («нет права»), NotFound or
    Conflict as well as ValidationError: the row shows why in Russian and the others
    are checked; the job is not a failure, and nothing is written."""
    from core import errors
    from services.imports.patient_specs import AttachmentImport

    prog, (a, b) = rows["programme"], rows["here"]
    original = AttachmentImport.decide

    def decide(self, ctx, key, record, stored):
        if record.policy_number == "П-НЕЛЬЗЯ":
            raise getattr(errors, refusal)("Прикрепление задним числом — без права")
        return original(self, ctx, key, record, stored)

    monkeypatch.setattr(AttachmentImport, "decide", decide)
    client = user_with(session, login, {"import.attachments": "yes"})
    data = csv_bytes(HEADER, line(a, prog), line(b, prog, policy="П-НЕЛЬЗЯ"))
    preview, _ = run(client, "attachments", data, confirm=False)
    page = text(preview)
    assert "Строк с ошибками 1" in page and "Сбой" not in page
    assert "3 Фамилия Прикрепление задним числом — без права" in page
    assert attachments(session, prog) == 0
