"""One clock (issue 13, defect 9): every time a person reads is shown in the one
configured zone (UCHET_TIMEZONE, default Europe/Moscow), whatever screen shows it:
the cabinet, the change journal, an XLSX export. Stored times are UTC."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from config import ConfigError, load_config
from models.cabinet import Question
from models.journal import JournalEntry
from tests.support import unit

# 21:30 UTC on the 1st of March is half past midnight on the 2nd in Moscow (UTC+3).
STORED_UTC = dt.datetime(2026, 3, 1, 21, 30)
MOSCOW = "02.03.2026 00:30"


def _question(session) -> Question:
    question = Question(unit_id=unit(session, "CL1-HQ").id, addressee="manager",
                        subject="Часовой пояс", text="Когда задан вопрос?",
                        created_on=STORED_UTC, answer="Ответ",
                        answered_on=STORED_UTC + dt.timedelta(hours=1))
    session.add(question)
    session.commit()
    return question


def test_the_cabinet_shows_the_configured_zone(session, login):
    _question(session)
    page = login("client_head").get("/cabinet/questions/").get_data(as_text=True)
    assert MOSCOW in page and "02.03.2026 01:30" in page
    assert "01.03.2026 21:30" not in page


def test_the_cabinet_and_the_journal_show_one_clock(session, login):
    _question(session)
    session.add(JournalEntry(at=STORED_UTC.replace(tzinfo=dt.UTC), username="admin",
                             action="update", table_name="cab_question", row_pk="0"))
    session.commit()
    journal = login("admin").get("/journalview/list/?_flt_0_username=admin"
                                 "&_oc_JournalView=at&_od_JournalView=asc")
    cabinet = login("client_head").get("/cabinet/questions/")
    assert MOSCOW in journal.get_data(as_text=True)
    assert MOSCOW in cabinet.get_data(as_text=True)


def test_another_configured_zone_moves_every_time(app, session, login, monkeypatch):
    _question(session)
    monkeypatch.setattr(app.extensions["babel"], "default_timezone", "Asia/Yekaterinburg")
    page = login("client_head").get("/cabinet/questions/").get_data(as_text=True)
    assert "02.03.2026 02:30" in page and MOSCOW not in page


def test_an_xlsx_date_time_is_local_time(app):
    from openpyxl import load_workbook

    from views.refbook import _xlsx

    with app.test_request_context():
        body = _xlsx(["Когда"], [[STORED_UTC]], "Журнал")
    cell = load_workbook(io.BytesIO(body)).active.cell(row=2, column=1)
    assert cell.value == dt.datetime(2026, 3, 2, 0, 30)
    assert cell.number_format == "DD.MM.YYYY HH:MM"


def test_the_zone_is_configured(tmp_path):
    env = {"UCHET_INSTANCE_DIR": str(tmp_path), "UCHET_ENV": "testing"}
    assert load_config(env)["BABEL_DEFAULT_TIMEZONE"] == "Europe/Moscow"
    assert load_config({**env, "UCHET_TIMEZONE": "Asia/Yekaterinburg"})[
        "BABEL_DEFAULT_TIMEZONE"] == "Asia/Yekaterinburg"
    with pytest.raises(ConfigError, match="UCHET_TIMEZONE"):
        load_config({**env, "UCHET_TIMEZONE": "Moscow/Kremlin"})


def test_a_date_time_typed_on_a_form_is_local_time(app):
    from services.dates import parse_local_datetime, show_datetime

    with app.test_request_context():
        stored = parse_local_datetime("02.03.2026 00:30")
        assert stored == STORED_UTC
        assert show_datetime(stored) == MOSCOW



def test_postgresql_sessions_stamp_in_utc(tmp_path):
    env = {"UCHET_INSTANCE_DIR": str(tmp_path), "UCHET_ENV": "testing",
           "DATABASE_URL": "postgresql://uchet@db.example:5432/uchet"}
    options = load_config(env)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {
        "options": "-c timezone=UTC -c statement_timeout=25000"}
    sqlite = load_config({**env, "DATABASE_URL": ""})["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "connect_args" not in sqlite
