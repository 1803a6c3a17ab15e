"""«Параметры»: who sees the closed reporting period and who moves it, over HTTP.
Moving it is refused in Russian without «Изменение даты закрытого отчетного
периода» and leaves the date as it was; a date that is not one is refused too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from models.params import ModuleParameters
from tests.contract_rows import flashes, user_with
from tests.support import unit

VIEWER = {"params.view": "yes"}
CLOSER = {"params.view": "yes", "params.closed_period_date": "yes"}


def _closed(session):
    session.expire_all()
    row = session.scalar(select(ModuleParameters).where(
        ModuleParameters.unit_id == unit(session, "NET").id))
    return row.closed_through if row else None


def test_the_page_needs_the_view_right(session, login):
    blind = user_with(session, login, {"params.view": "no"})
    assert blind.get("/parameters/").status_code in (302, 403)
    viewer = user_with(session, login, VIEWER)
    page = viewer.get("/parameters/")
    assert page.status_code == 200
    assert "Закрытого периода нет" in page.text
    assert 'name="closed_through"' not in page.text  # no form without the right


def test_only_the_closing_right_moves_the_date(session, login):
    before = _closed(session)
    viewer = user_with(session, login, VIEWER)
    refused = viewer.post("/parameters/", data={"closed_through": "2026-01-31"})
    assert refused.status_code == 400
    assert ("Дату закрытого периода меняет только пользователь с правом «Изменение даты "
            "закрытого отчетного периода»") in flashes(refused, "danger")
    assert _closed(session) == before
    closer = user_with(session, login, CLOSER)
    assert 'name="closed_through"' in closer.get("/parameters/").text
    saved = closer.post("/parameters/", data={"closed_through": "2026-01-31"})
    assert saved.status_code == 302
    assert _closed(session) == dt.date(2026, 1, 31)
    assert "по 31.01.2026 включительно закрыты" in closer.get("/parameters/").text
    cleared = closer.post("/parameters/", data={"closed_through": ""})
    assert cleared.status_code == 302
    assert _closed(session) is None


def test_a_date_that_is_not_one_is_refused(session, login):
    closer = user_with(session, login, CLOSER)
    response = closer.post("/parameters/", data={"closed_through": "31.02.2026x"})
    assert response.status_code == 400
    assert "Дата «31.02.2026x» не распознана" in flashes(response, "danger")
    assert _closed(session) is None


def _prepaid_rule(session):
    session.expire_all()
    row = session.scalar(select(ModuleParameters).where(
        ModuleParameters.unit_id == unit(session, "NET").id))
    return row.prepaid_date if row else None


def test_only_the_edit_right_sets_the_prepaid_voucher_date(session, login):
    viewer = user_with(session, login, VIEWER)
    page = viewer.get("/parameters/").text
    assert 'name="prepaid_date"' in page and " disabled" in page  # shown, not editable
    refused = viewer.post("/parameters/settings", data={"prepaid_date": "record_date"})
    assert refused.status_code == 400
    assert ("Параметры меняет только пользователь с правом «Редактирование параметров»"
            in flashes(refused, "danger"))
    assert _prepaid_rule(session) is None
    editor = user_with(session, login, {**VIEWER, "params.edit": "yes"})
    wrong = editor.post("/parameters/settings", data={"prepaid_date": "tomorrow"})
    assert wrong.status_code == 400
    assert "Выберите дату предоплатного талона из списка" in flashes(wrong, "danger")
    assert _prepaid_rule(session) is None
    assert editor.post("/parameters/settings",
                       data={"prepaid_date": "record_date"}).status_code == 302
    assert _prepaid_rule(session) == "record_date"
    assert 'value="record_date" selected' in editor.get("/parameters/").text
