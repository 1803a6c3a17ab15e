"""The menu bar is kept per rights, language and counts (views.menu_cache), and the
translations per request and locale (app.translations_fast): what a person sees in
the menu still follows his rights and his language at the next page."""

from __future__ import annotations

from sqlalchemy import select

VOUCHERS = 'href="/voucherview/list/"'


def _menu(client) -> str:
    html = client.get("/").get_data(as_text=True)
    start = html.index('class="nav navbar-nav"')
    return html[start:html.index("navbar-right", start)]


def test_each_user_sees_his_own_menu_one_after_another(login):
    admin, registrar = login("admin"), login("registrar")
    assert "Администрирование" in _menu(admin)
    assert "Администрирование" not in _menu(registrar)
    assert "Администрирование" in _menu(admin)


def test_a_lost_role_leaves_the_menu_at_the_next_page(session, login):
    from models.user import AppUser

    registrar = login("registrar")
    assert VOUCHERS in _menu(registrar)
    user = session.scalar(select(AppUser).where(AppUser.username == "registrar"))
    roles = list(user.roles)
    user.roles = []
    session.commit()
    assert VOUCHERS not in _menu(registrar)
    user.roles = roles
    session.commit()
    assert VOUCHERS in _menu(registrar)


def test_the_menu_and_the_labels_follow_the_language(login):
    client = login("registrar")
    assert "Талоны" in _menu(client)
    assert client.get("/lang/en").status_code == 302
    english = _menu(client)
    assert "Талоны" not in english and "Vouchers" in english
    page = client.get("/voucherview/list/").get_data(as_text=True)
    assert "Service date" in page or "Date" in page
    assert client.get("/lang/ru").status_code == 302
    assert "Талоны" in _menu(client)
    assert "Дата" in client.get("/voucherview/list/").get_data(as_text=True)


def test_amounts_and_dates_read_as_before(app):
    import datetime as dt
    from decimal import Decimal

    from flask_babel import force_locale

    from views.formatters import _date, _number

    with app.test_request_context():
        with force_locale("ru"):
            assert _number(2)(Decimal("5400")) == "5\xa0400,00"
            assert _number(0)(Decimal("1234567")) == "1\xa0234\xa0567"
        with force_locale("en"):
            assert _number(2)(Decimal("5400")) == "5,400.00"
        assert _date(dt.date(2026, 3, 7)) == "07.03.2026"
        assert _date(None) == "" and _number(2)(None) == ""
