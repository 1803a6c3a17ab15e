"""«Импорт прейскуранта» as the page promises it: a CSV title line above the header is
skipped, and next year's price list follows this year's — with «Закрыть цены прежнего
периода» (ticked by default) each open price ends the day before the new one starts,
the preview lists those closures, and loading is all or nothing and idempotent.
Over HTTP as the administrator, the way the upload form posts."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from models import Price
from tests.imports import test_price_import
from tests.imports.import_rows import text as text_of
from tests.imports.test_price_import import (
    HEADER,
    SCREEN,
    make_price,
    prices_of,
    token_of,
    upload,
)
from tests.imports.test_price_import import load as confirm

book = test_price_import.book  # the same fixture: services PI-S001.., categories PI-MSK..

Y2026, Y2027 = dt.date(2026, 1, 1), dt.date(2027, 1, 1)


def titled_csv(*lines: str) -> bytes:
    """A CSV as a spreadsheet saves it: a title line, an empty line, then the header."""
    return "\n".join(["Прейскурант на 2027 год", "", HEADER, *lines]).encode("utf-8")


def preview(client, data: bytes, close: bool = True):
    """The preview job's page; `close` is the box the upload form ticks (the load
    keeps the preview's choice)."""
    return upload(client, data, "prices-2027.csv", close_open=close)


def load(client, token: str):
    return confirm(client, token)


def periods(session, service, category):
    session.expire_all()
    return [(p.valid_from, p.valid_to, str(p.amount)) for p in session.scalars(
        select(Price).where(Price.service_id == service.id, Price.category_id == category.id)
        .order_by(Price.valid_from))]


def page_text(response) -> str:
    """The page's text, tags removed."""
    return text_of(response)


def test_a_title_line_above_the_csv_header_is_skipped(session, book, login):
    client = login("admin")
    response = preview(client, titled_csv("PI-S001;PI-MSK;01.01.2027;;1500;;",
                                          "PI-S002;PI-MSK;01.01.2027;;1600;;"))
    assert response.status_code == 200, page_text(response)
    assert "Будет добавлено 2" in page_text(response) and token_of(response)
    load(client, token_of(response))
    assert prices_of(session, book["msk"]) == 2


def test_next_years_prices_close_this_years_open_ones(session, book, login):
    s = book["services"]
    make_price(session, s[0], book["msk"], Y2026, "1000")
    make_price(session, s[1], book["msk"], Y2026, "2000")
    make_price(session, s[2], book["msk"], Y2026, "3000", end=dt.date(2026, 6, 30))
    session.commit()
    client = login("admin")
    data = titled_csv("PI-S001;PI-MSK;01.01.2027;;1100;;", "PI-S002;PI-MSK;01.01.2027;;2200;;")
    shown = preview(client, data)
    text = page_text(shown)
    assert shown.status_code == 200 and "Будет добавлено 2" in text and token_of(shown), text
    # The preview names each price it would close and its new end; nothing is written yet.
    assert "Закрываются цены прежнего периода: 2" in text
    assert "PI-S001" in text and "31.12.2026" in text
    # …with its price as amounts read in Russian, not as the number is stored.
    assert re.search(r"1\s000,00", text) and "1000.00" not in text, text
    assert periods(session, s[0], book["msk"]) == [(Y2026, None, "1000.00")]

    done = load(client, token_of(shown))
    assert "закрыто прежних цен 2" in page_text(done)
    assert periods(session, s[0], book["msk"]) == [
        (Y2026, dt.date(2026, 12, 31), "1000.00"), (Y2027, None, "1100.00")]
    assert periods(session, s[1], book["msk"]) == [
        (Y2026, dt.date(2026, 12, 31), "2000.00"), (Y2027, None, "2200.00")]
    # A price with an end is not touched.
    assert periods(session, s[2], book["msk"]) == [(Y2026, dt.date(2026, 6, 30), "3000.00")]

    # Idempotent: the same file again changes nothing and has nothing to close.
    again = page_text(preview(client, data))
    assert "Все цены файла уже есть в прейскуранте" in again
    assert "Закрываются цены прежнего периода" not in again
    # A file holding both years (this year's row open, as typed) is unchanged too.
    both = page_text(preview(client, titled_csv("PI-S001;PI-MSK;01.01.2026;;1000;;",
                                                "PI-S001;PI-MSK;01.01.2027;;1100;;")))
    assert "Все цены файла уже есть в прейскуранте" in both


def test_closing_is_all_or_nothing(session, book, login):
    s = book["services"]
    make_price(session, s[0], book["msk"], Y2026, "1000")
    session.commit()
    client = login("admin")
    # Row 5 has an error: neither its price nor row 4's closure is written.
    response = preview(client, titled_csv("PI-S001;PI-MSK;01.01.2027;;1100;;",
                                          "PI-NONE;PI-MSK;01.01.2027;;1;;"))
    assert "Нет услуги с кодом «PI-NONE»" in page_text(response)
    assert token_of(response) is None
    assert periods(session, s[0], book["msk"]) == [(Y2026, None, "1000.00")]


def test_without_the_box_an_open_price_still_overlaps(session, book, login):
    make_price(session, book["services"][0], book["msk"], Y2026, "1000")
    session.commit()
    response = preview(login("admin"), titled_csv("PI-S001;PI-MSK;01.01.2027;;1100;;"),
                       close=False)
    assert "Период пересекается с действующей ценой" in page_text(response)
    assert token_of(response) is None


def test_the_upload_form_ticks_the_closing_box(login):
    page = login("admin").get(f"{SCREEN}/").get_data(as_text=True)
    assert re.search(r'name="close_open" value="1" checked', page)


def test_the_price_lists_form_ticks_the_closing_box_too(login):
    """«Импорт прейскурантов» loads next year's lists over open prices as well: its form
    offers the box (it did not, and every such file was refused as overlapping); the
    other imports' forms do not."""
    page = login("admin").get("/imports/price_lists/").get_data(as_text=True)
    assert re.search(r'name="close_open" value="1" checked', page)
    page = login("admin").get("/imports/service_sets/").get_data(as_text=True)
    assert 'name="close_open"' not in page
