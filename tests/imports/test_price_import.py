"""«Импорт прейскуранта»: reading XLSX/CSV, one Russian error per broken rule and row,
all or nothing, idempotent re-import, the branch scope of «Импорт прейскуранта услуг»
(none / own / all), refused files and uploads, and the load step checking again."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import Currency, JournalEntry, Price, PriceCategory, PriceType, Service, Tax
from security.effective import resolve
from services.imports import price_file
from services.imports import prices as pi
from tests.imports.import_rows import text
from tests.support import make_role, make_user, unit

HEADER = "Код услуги;Категория цен;Действует с;Действует по;Цена;Валюта;Налог"
Y2026 = dt.date(2026, 1, 1)


# --- factories ---------------------------------------------------------------------------


def _get_or_make(session, model, code, **values):
    found = session.scalar(select(model).where(model.code == code))
    if found is None:
        found = model(code=code, **values)
        session.add(found)
        session.flush()
    return found


def make_category(session, code, branch_code, price_type=None):
    """A price category used by one branch."""
    price_type = price_type or _get_or_make(session, PriceType, "PI-PAID",
                                            name="Платные (импорт)", funding="paid")
    category = PriceCategory(code=code, name=f"Категория {code}", price_type=price_type,
                             branches=[unit(session, branch_code)])
    session.add(category)
    session.flush()
    return category


def make_services(session, n, prefix="PI-S"):
    services = [Service(code=f"{prefix}{i:03d}", name=f"Услуга импорта {i}", insurance="none")
                for i in range(1, n + 1)]
    session.add_all(services)
    session.flush()
    return services


def make_price(session, service, category, start, amount, end=None, currency=None, tax=None):
    price = Price(service=service, category=category, valid_from=start, valid_to=end,
                  amount=Decimal(amount), currency=currency or rub(session), tax=tax)
    session.add(price)
    session.flush()
    return price


def rub(session):
    return _get_or_make(session, Currency, "RUB", name="Российский рубль", symbol="₽")


@pytest.fixture
def book(session):
    """Services PI-S001..PI-S010, a Moscow (MSK-TVR) and a Petersburg (SPB-NEV)
    category, RUB, USD and a 20 % VAT."""
    data = {
        "services": make_services(session, 10),
        "msk": make_category(session, "PI-MSK", "MSK-TVR"),
        "spb": make_category(session, "PI-SPB", "SPB-NEV"),
        "rub": rub(session),
        "usd": _get_or_make(session, Currency, "USD", name="Доллар США", symbol="$"),
        "vat": _get_or_make(session, Tax, "PI-VAT20", name="НДС 20 % (импорт)",
                            rate=Decimal("20")),
    }
    session.commit()
    return data


def csv_file(*lines, header=HEADER, encoding="utf-8") -> bytes:
    return "\n".join([header, *lines]).encode(encoding)


def xlsx_file(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _user(session, username):
    from models.user import AppUser

    return session.scalar(select(AppUser).where(AppUser.username == username))


@pytest.fixture
def importer(session):
    """Return a function making a user with «Импорт прейскуранта услуг» = value (home MSK-TVR)."""

    def _make(value):
        role = make_role(session, f"Импорт цен {value}", {
            "import.service_prices": value, "price.prices.view": "all",
            "scope.data": "own_subtree"})
        return make_user(session, f"import_{value}", roles=[role],
                         home_unit=unit(session, "MSK-TVR"))

    return _make


@pytest.fixture
def admin_rights(session):
    return resolve(session, _user(session, "admin"))


def plan_of(session, rights, data, filename="prices.csv"):
    return pi.validate(session, pi.parse(filename, data), rights, filename=filename)


def errors_of(plan):
    return {(e.line, e.column, e.message) for e in plan.errors}


def prices_of(session, category):
    return session.scalar(select(func.count()).select_from(Price)
                          .where(Price.category_id == category.id))


# --- reading files -----------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8", ";"), ("utf-8-sig", ","), ("cp1251", ";"), ("cp1251", ","),
])
def test_csv_encodings_and_delimiters(encoding, delimiter):
    header = delimiter.join(["код услуги", " КАТЕГОРИЯ ЦЕН ", "Действует с", "Цена",
                             "Примечание"])
    amount = '"1 234,50"' if delimiter == "," else "1 234,50"
    data = csv_file(f"PI-S001{delimiter}PI-MSK{delimiter}01.02.2026{delimiter}{amount}"
                    f"{delimiter}ёлка", header=header, encoding=encoding)
    (row,) = pi.parse("Прейскурант.CSV", data)
    assert (row.line, row.service, row.category, row.valid_from, row.amount, row.currency) == (
        2, "PI-S001", "PI-MSK", "01.02.2026", "1 234,50", "")


def test_xlsx_reads_dates_numbers_and_row_numbers(session, book, admin_rights):
    data = xlsx_file([
        ["Код услуги", "Категория цен", "Действует с", "Действует по", "Цена", "Валюта"],
        ["PI-S001", "PI-MSK", dt.datetime(2026, 1, 1), None, 1234.5, None],
        [],
        ["PI-S002", "PI-MSK", "2026-02-01", "31.12.2026", "99,9", "USD"],
        ["PI-S003", "PI-MSK", 46023, None, 10, "RUB"],  # an Excel serial: 01.01.2026
    ])
    rows = pi.parse("prices.xlsx", data)
    assert [r.line for r in rows] == [2, 4, 5]
    plan = pi.validate(session, rows, admin_rights)
    assert plan.ok, plan.errors
    s, msk = book["services"], book["msk"]
    assert plan.new == [
        (s[0].id, msk.id, Y2026, None, Decimal("1234.50"), book["rub"].id, None),
        (s[1].id, msk.id, dt.date(2026, 2, 1), dt.date(2026, 12, 31), Decimal("99.90"),
         book["usd"].id, None),
        (s[2].id, msk.id, Y2026, None, Decimal("10.00"), book["rub"].id, None),
    ]


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("prices.xlsx", os.urandom(4096), "Файл не читается как книга Excel (XLSX)"),
    ("prices.xlsx", b"PK\x03\x04" + os.urandom(500), "Файл не читается как книга Excel (XLSX)"),
    ("prices.csv", b"", "Файл пуст"),
    ("prices.csv", b"\n \n;;\n", "Файл пуст"),
    ("prices.csv", "Код услуги;Категория цен;Действует с;Цена\n".encode(),
     "В файле нет строк с ценами"),
    ("prices.csv", b"\x00\x01\x02binary", "Файл не похож на текстовый CSV"),
    ("prices.pdf", b"%PDF-1.4", "Загрузите файл XLSX или CSV"),
    ("prices.csv", "Услуга;Стоимость\nA;1\n".encode(), "В первых 10 строках файла нет "
     "заголовка со столбцами «Код услуги», «Категория цен», «Действует с», «Цена»"),
    ("prices.csv", "Код услуги;Действует с;Цена\nA;01.01.2026;1\n".encode(),
     "В файле нет обязательных столбцов: «Категория цен»"),
    ("prices.csv", "Код услуги;Категория цен;Цена;Действует с;Цена\n".encode(),
     "Столбец «Цена» встречается дважды"),
])
def test_malformed_files_are_refused_in_russian(filename, data, message):
    with pytest.raises(pi.ImportRefused, match=re.escape(message)):
        pi.parse(filename, data)


def test_an_xlsx_without_header_is_refused():
    with pytest.raises(pi.ImportRefused, match="нет заголовка"):
        pi.parse("prices.xlsx", xlsx_file([["PI-S001", "PI-MSK", "01.01.2026", 10]] * 20))


def test_title_rows_above_the_header_are_skipped():
    rows = pi.parse("prices.xlsx", xlsx_file([
        ["Прейскурант на 2026 год"], [], ["Утверждён приказом № 1", None, "от 01.12.2025"],
        ["Код услуги", "Категория цен", "Действует с", "Цена"],
        ["PI-S001", "PI-MSK", "01.01.2026", 10],
    ]))
    assert [(r.line, r.service) for r in rows] == [(5, "PI-S001")]


def test_an_xlsx_that_would_unpack_into_too_much_is_refused():
    """A few KB that unpack into 65 MB of shared strings (a zip bomb)."""
    book = io.BytesIO(xlsx_file([["Код услуги", "Категория цен", "Действует с", "Цена"]]))
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (price_file.MAX_SHARED_STRINGS + 1))
    assert len(book.getvalue()) < 200_000
    with pytest.raises(pi.ImportRefused, match=re.escape("Файл не читается как книга Excel")):
        pi.parse("bomb.xlsx", book.getvalue())


def test_too_many_rows_and_too_many_bytes_are_refused():
    body = "\n".join(["A;B;01.01.2026;1"] * (price_file.MAX_ROWS + 1))
    data = ("Код услуги;Категория цен;Действует с;Цена\n" + body).encode()
    with pytest.raises(pi.ImportRefused, match="больше 200 000 строк"):
        pi.parse("big.csv", data)
    assert len(pi.parse("ok.csv", data[: data.rindex(b"\n")])) == price_file.MAX_ROWS
    with pytest.raises(pi.ImportRefused, match="Файл больше 1 МБ"):
        pi.parse("big.csv", b"x" * (1024 * 1024 + 1), max_bytes=1024 * 1024)


# --- per-row rules -----------------------------------------------------------------------


def test_each_rule_gives_a_russian_error_with_row_and_column(session, book, importer):
    s = book["services"]
    make_price(session, s[5], book["msk"], dt.date(2026, 1, 1), "100.00",
               end=dt.date(2026, 6, 30))
    make_price(session, s[6], book["msk"], dt.date(2026, 1, 1), "100.00")
    session.commit()
    rights = resolve(session, importer("own"))
    plan = plan_of(session, rights, csv_file(
        "PI-NONE;PI-MSK;01.01.2026;;100;;",                # 2 unknown service
        "PI-S001;PI-NOPE;01.01.2026;;100;;",               # 3 unknown category
        "PI-S001;PI-SPB;01.01.2026;;100;;",                # 4 another branch's category
        "PI-S001;PI-MSK;31.02.2026;;100;;",                # 5 no such day
        "PI-S002;PI-MSK;01.03.2026;01.02.2026;100;;",      # 6 ends before it starts
        "PI-S003;PI-MSK;01.01.2026;;0;;",                  # 7 zero price
        "PI-S003;PI-MSK;01.02.2026;;-5;;",                 # 8 negative price
        "PI-S003;PI-MSK;01.03.2026;;сто;;",                # 9 not a number
        "PI-S003;PI-MSK;01.04.2026;;10,005;;",             # 10 three decimals
        "PI-S004;PI-MSK;01.01.2026;;10;XXX;",              # 11 unknown currency
        "PI-S004;PI-MSK;01.02.2026;;10;;NOTAX",            # 12 unknown tax
        "PI-S005;PI-MSK;01.01.2026;31.01.2026;10;;",       # 13 fine...
        "PI-S005;PI-MSK;01.01.2026;31.01.2026;10;;",       # 14 ...and its duplicate
        "PI-S006;PI-MSK;01.06.2026;;10;;",                 # 15 meets a stored price
        "PI-S007;PI-MSK;01.01.2026;;200;;",                # 16 same start, other amount
        "PI-S008;PI-MSK;01.01.2026;31.03.2026;10;;",       # 17 fine alone...
        "PI-S008;PI-MSK;01.03.2026;;12;;",                 # 18 ...but overlaps row 17
        ";PI-MSK;;;;;",                                    # 19 empty required cells
    ))
    found = errors_of(plan)
    expected = {
        (2, "Код услуги", "Нет услуги с кодом «PI-NONE»"),
        (3, "Категория цен", "Нет категории цен с кодом «PI-NOPE»"),
        (4, "Категория цен", "Категория цен «PI-SPB» другого филиала: импорт в неё вам "
                             "запрещён (право «Импорт прейскуранта услуг»)"),
        (5, "Действует с", "Дата не распознана: «31.02.2026» (ожидается ДД.ММ.ГГГГ)"),
        (6, "Действует по", "Дата окончания раньше даты начала"),
        (7, "Цена", "Цена должна быть больше нуля"),
        (8, "Цена", "Цена должна быть больше нуля"),
        (9, "Цена", "Цена не число: «сто»"),
        (10, "Цена", "У цены больше двух знаков после запятой"),
        (11, "Валюта", "Нет валюты с кодом «XXX»"),
        (12, "Налог", "Нет налога с кодом «NOTAX»"),
        (14, "Действует с", "Повтор строки 13: та же услуга, категория цен и дата начала"),
        (15, "Действует с", "Период пересекается с действующей ценой этой услуги в этой "
                            "категории: с 01.01.2026 по 30.06.2026"),
        (17, "Действует с", "Период пересекается со строкой 18 (та же услуга и категория цен)"),
        (16, "Действует с", "С этой даты уже действует другая цена этой услуги в этой "
                            "категории (100.00, с 01.01.2026, без окончания); импорт не "
                            "меняет существующие цены"),
        (18, "Действует с", "Период пересекается со строкой 17 (та же услуга и категория цен)"),
        (19, "Код услуги", "Не заполнено"),
        (19, "Действует с", "Не заполнено"),
        (19, "Цена", "Не заполнено"),
    }
    assert found == expected
    assert plan.error_rows == 17 and plan.total == 18
    assert [(p.row.line, p.status) for p in plan.preview if p.status != "error"] == [(13, "new")]
    with pytest.raises(pi.ImportRefused, match="ничего не загружено"):
        pi.commit(session, plan)


@pytest.mark.parametrize(("stored", "row", "clash"), [
    ((dt.date(2026, 1, 1), None), "01.06.2025;31.12.2025", False),
    ((dt.date(2026, 1, 1), None), "01.06.2025;01.01.2026", True),
    ((dt.date(2026, 1, 1), None), "01.06.2025;", True),        # open end runs forever
    ((dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "01.02.2026;", False),
    ((dt.date(2026, 1, 1), dt.date(2026, 1, 31)), "31.01.2026;", True),
    ((dt.date(2026, 1, 1), dt.date(2026, 12, 31)), "01.03.2026;31.03.2026", True),  # inside
    ((dt.date(2026, 3, 1), dt.date(2026, 3, 31)), "01.01.2026;31.12.2026", True),  # around
])
def test_periods_against_a_stored_price(session, book, admin_rights, stored, row, clash):
    service = book["services"][0]
    make_price(session, service, book["msk"], stored[0], "50", end=stored[1])
    session.commit()
    plan = plan_of(session, admin_rights, csv_file(f"PI-S001;PI-MSK;{row};60;;"))
    assert (not plan.ok) == clash, plan.errors
    assert len(plan.new) == (0 if clash else 1)


def test_a_period_nested_in_another_row_of_the_file(session, book, admin_rights):
    plan = plan_of(session, admin_rights, csv_file(
        "PI-S001;PI-MSK;01.01.2026;31.12.2026;10;;",
        "PI-S001;PI-MSK;01.02.2026;28.02.2026;11;;",
        "PI-S001;PI-MSK;01.03.2026;31.03.2026;12;;",
        "PI-S001;PI-SPB;01.02.2026;28.02.2026;13;;",   # another category: no clash
        "PI-S002;PI-MSK;01.02.2026;28.02.2026;14;;",   # another service: no clash
    ))
    clash = "Период пересекается со строкой %s (та же услуга и категория цен)"
    assert {(e.line, e.message) for e in plan.errors} == {
        (2, clash % 3), (3, clash % 2), (4, clash % 2)}
    assert [p.status for p in plan.preview] == ["error", "error", "error", "new", "new"]


def test_a_stored_price_identical_to_a_row_is_unchanged_not_an_error(session, book,
                                                                      admin_rights):
    s = book["services"]
    make_price(session, s[0], book["msk"], Y2026, "1234.50", end=dt.date(2026, 12, 31),
               currency=book["usd"], tax=book["vat"])
    session.commit()
    plan = plan_of(session, admin_rights, csv_file(
        "PI-S001;PI-MSK;01.01.2026;31.12.2026;1 234,5;USD;PI-VAT20",
        "PI-S001;PI-MSK;01.01.2027;;1300;USD;PI-VAT20",
    ))
    assert plan.ok, plan.errors
    assert (plan.unchanged, len(plan.new)) == (1, 1)
    for changed in ("31.12.2026;1 234,5;RUB;PI-VAT20", "31.12.2026;1 234,5;USD;",
                    ";1 234,5;USD;PI-VAT20", "31.12.2026;1 234,6;USD;PI-VAT20"):
        plan = plan_of(session, admin_rights, csv_file(f"PI-S001;PI-MSK;01.01.2026;{changed}"))
        assert not plan.ok and plan.unchanged == 0, changed


def test_validation_queries_do_not_grow_with_rows(session, book, admin_rights,
                                                  count_queries):
    many = make_services(session, 300, prefix="PI-M")
    session.commit()

    def queries(n):
        data = csv_file(*(f"{s.code};PI-MSK;01.01.2026;;10;;" for s in many[:n]))
        rows = pi.parse("prices.csv", data)
        with count_queries() as statements:
            plan = pi.validate(session, rows, admin_rights)
        assert plan.ok and len(plan.new) == n
        return len(statements)

    assert queries(3) == queries(300) <= 6


# --- commit ------------------------------------------------------------------------------


def test_one_bad_row_writes_nothing(session, book, admin_rights):
    data = csv_file(*(f"PI-S00{i};PI-MSK;01.01.2026;;10;;" for i in range(1, 9)),
                    "PI-S009;PI-MSK;01.01.2026;;0;;")
    before = session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(pi.ImportRefused) as refused:
        pi.import_prices(session, "prices.csv", data, admin_rights)
    assert refused.value.plan is not None and refused.value.plan.error_rows == 1
    assert prices_of(session, book["msk"]) == 0
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == before


def test_import_writes_prices_and_one_journal_row_then_reimport_changes_nothing(
        session, book, admin_rights):
    data = csv_file(*(f"PI-S{i:03d};PI-MSK;01.01.2026;;{i}00,50;;" for i in range(1, 11)),
                    "PI-S001;PI-SPB;01.01.2026;;7;USD;PI-VAT20")
    journal = select(func.count()).select_from(JournalEntry).where(
        JournalEntry.table_name == "price_price")
    before = session.scalar(journal)
    summary = pi.import_prices(session, "Прайс.csv", data, admin_rights)
    assert (summary.inserted, summary.unchanged, summary.categories) == (
        11, 0, ("PI-MSK", "PI-SPB"))
    assert prices_of(session, book["msk"]) == 10
    stored = session.scalar(select(Price).where(Price.category_id == book["spb"].id))
    assert (stored.amount, stored.currency_id, stored.tax_id, stored.valid_to) == (
        Decimal("7.00"), book["usd"].id, book["vat"].id, None)
    # The per-row journal hook saw no flush: one journal row for the whole import.
    assert session.scalar(journal) == before + 1
    entry = session.scalars(select(JournalEntry).order_by(JournalEntry.id.desc())).first()
    assert entry.action == "import"
    assert (entry.table_name, entry.row_pk, entry.username) == ("price_price", "import:11",
                                                                "system")
    assert entry.after == {"file": "Прайс.csv", "inserted": 11, "unchanged": 0,
                           "categories": ["PI-MSK", "PI-SPB"]}

    again = pi.import_prices(session, "Прайс.csv", data, admin_rights)
    assert (again.inserted, again.unchanged) == (0, 11)
    assert prices_of(session, book["msk"]) == 10
    assert session.scalar(journal) == before + 1


def test_a_price_added_after_the_check_refuses_the_whole_commit(session, book, admin_rights):
    plan = plan_of(session, admin_rights, five_rows())
    assert plan.ok and len(plan.new) == 5
    make_price(session, book["services"][2], book["msk"], Y2026, "1")
    session.commit()
    with pytest.raises(pi.ImportRefused, match="Цены изменились во время загрузки"):
        pi.commit(session, plan)
    assert prices_of(session, book["msk"]) == 1


def test_scope_none_is_refused_by_the_service_too(session, book, importer):
    rights = resolve(session, importer("none"))
    with pytest.raises(pi.ImportRefused, match="Импорт прейскуранта вам запрещён"):
        pi.preview(session, "p.csv", csv_file("PI-S001;PI-MSK;01.01.2026;;10;;"), rights)


@pytest.mark.parametrize(("value", "spb_allowed"), [("own", False), ("all", True)])
def test_branch_scope_of_the_categories(session, book, importer, value, spb_allowed):
    rights = resolve(session, importer(value))
    data = csv_file("PI-S001;PI-MSK;01.01.2026;;10;;", "PI-S001;PI-SPB;01.01.2026;;10;;")
    plan = plan_of(session, rights, data)
    assert plan.ok == spb_allowed
    assert [p.status for p in plan.preview] == ["new", "new" if spb_allowed else "error"]


# --- through HTTP ------------------------------------------------------------------------
# The price list's screen is the framework's (/imports/service_prices/); the old page
# /priceimport/ only sends bookmarks there.

SCREEN = "/imports/service_prices"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path, monkeypatch):
    """Keep anything written under the instance folder out of the repository."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


def upload(client, data, filename="prices.csv", follow=True, close_open=False):
    """Post the file to the screen; with `follow`, return the preview job's page."""
    form = {"file": (io.BytesIO(data), filename), **({"close_open": "1"} if close_open else {})}
    response = client.post(f"{SCREEN}/preview", data=form, content_type="multipart/form-data")
    if not follow or response.status_code != 302:
        return response
    return client.get(response.headers["Location"])


def token_of(response) -> str | None:
    """Return the preview job whose page offers «Загрузить» (None when it does not)."""
    found = re.search(r'/job/([A-Za-z0-9_-]+)/confirm"', response.get_data(as_text=True))
    return found.group(1) if found else None


def load(client, job: str, follow=True):
    """Confirm the preview job; with `follow`, return the load job's (or next) page."""
    response = client.post(f"{SCREEN}/job/{job}/confirm")
    if not follow or response.status_code != 302:
        return response
    return client.get(response.headers["Location"])


def five_rows(category="PI-MSK"):
    return csv_file(*(f"PI-S00{i};{category};01.01.2026;;{i}000;;" for i in range(1, 6)))


def test_the_old_address_sends_to_the_screen(login):
    client = login("admin")
    old = client.get("/priceimport/")
    assert old.status_code == 302 and old.headers["Location"].endswith(f"{SCREEN}/")
    menu = client.get("/").get_data(as_text=True)
    assert "/priceimport/" not in menu and f"{SCREEN}/" in menu


def test_admin_previews_then_loads(session, book, login, app):
    client = login("admin")
    page = client.get("/priceimport/", follow_redirects=True)
    assert page.status_code == 200
    assert "Импорт прейскуранта услуг" in page.get_data(as_text=True)
    preview = upload(client, five_rows())
    html = text(preview)
    assert preview.status_code == 200
    assert "Будет добавлено 5" in html and token_of(preview)
    assert prices_of(session, book["msk"]) == 0, "the preview writes nothing"
    token = token_of(preview)
    assert not os.path.exists(os.path.join(app.instance_path, "price_import")), \
        "the file travels with the job, not through the instance folder"
    loaded = load(client, token)
    assert loaded.status_code == 200
    assert "Новых цен 5, без изменений 0" in text(loaded)
    assert prices_of(session, book["msk"]) == 5
    assert load(client, token, follow=False).status_code == 302, "the file is gone"
    again = upload(client, five_rows())
    assert "Все цены файла уже есть в прейскуранте" in text(again)
    assert token_of(again) is None


def test_scope_none_gets_403_everywhere(session, book, importer, login):
    importer("none")
    client = login("import_none")
    assert client.get("/priceimport/").status_code == 403
    assert client.get(f"{SCREEN}/").status_code == 403
    assert upload(client, five_rows(), follow=False).status_code == 403
    assert load(client, "x" * 43, follow=False).status_code == 403
    menu = client.get("/").get_data(as_text=True)
    assert "/priceimport/" not in menu and f"{SCREEN}/" not in menu
    assert prices_of(session, book["msk"]) == 0


def test_own_branch_imports_its_category_and_not_another(session, book, importer, login):
    importer("own")
    client = login("import_own")
    assert f"{SCREEN}/" in client.get("/").get_data(as_text=True), "menu entry"
    refused = text(upload(client, five_rows("PI-SPB")))
    assert "Категория цен «PI-SPB» другого филиала" in refused
    assert token_of(upload(client, five_rows("PI-SPB"))) is None
    token = token_of(upload(client, five_rows("PI-MSK")))
    assert token
    load(client, token)
    assert prices_of(session, book["msk"]) == 5 and prices_of(session, book["spb"]) == 0
    listing = client.get(f"/priceview/list/?_flt_0_category={book['msk'].id}")
    html = listing.get_data(as_text=True)
    assert all(f"Услуга импорта {i}" in html for i in range(1, 6)), "the imports are listed"


def test_all_branches_import_any_category(session, book, importer, login):
    importer("all")
    client = login("import_all")
    token = token_of(upload(client, five_rows("PI-SPB")))
    load(client, token)
    assert prices_of(session, book["spb"]) == 5


@pytest.mark.parametrize(("filename", "data", "message"), [
    ("prices.xlsx", os.urandom(2048), "Файл не читается как книга Excel (XLSX)"),
    ("prices.csv", b"", "Файл пуст"),
    ("prices.csv", "Код услуги;Цена\nPI-S001;10\n".encode(), "В файле нет обязательных столбцов"),
    ("prices.txt", b"hello", "Загрузите файл XLSX или CSV"),
])
def test_malformed_upload_gets_a_russian_message(session, book, login, filename, data,
                                                  message):
    client = login("admin")
    response = upload(client, data, filename)
    assert response.status_code == 200
    assert message in text(response)
    assert "Отклонено" in text(response) and token_of(response) is None
    assert prices_of(session, book["msk"]) == 0


def test_upload_without_a_file(login):
    response = login("admin").post(f"{SCREEN}/preview", data={},
                                   content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Выберите файл" in response.get_data(as_text=True)


def test_oversized_upload_gets_413_in_russian(app, login):
    client = login("admin")
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 20 * 1024 * 1024
    response = upload(client, b"x" * (limit + 1), follow=False)
    assert response.status_code == 413
    assert "Файл слишком большой" in response.get_data(as_text=True)


def test_load_checks_the_file_again(session, book, login):
    client = login("admin")
    token = token_of(upload(client, five_rows()))
    # Meanwhile someone enters a price that the file's row 3 now overlaps.
    make_price(session, book["services"][1], book["msk"], dt.date(2025, 1, 1), "1")
    session.commit()
    response = load(client, token)
    html = text(response)
    assert response.status_code == 200
    assert "ничего не загружено" in html
    assert "Период пересекается с действующей ценой" in html
    assert prices_of(session, book["msk"]) == 1
    again = client.post(f"{SCREEN}/job/{token}/confirm", follow_redirects=True)
    assert "Файл не найден, устарел или содержит ошибки" in again.get_data(as_text=True)


def test_a_token_opens_only_its_owners_file(session, book, importer, login):
    token = token_of(upload(login("admin"), five_rows()))
    importer("all")
    other = login("import_all")
    for forged in (token, "..%2F..%2Fetc%2Fpasswd", "x" * 43):
        response = other.post(f"{SCREEN}/job/{forged}/confirm")
        assert response.status_code == 404
    assert prices_of(session, book["msk"]) == 0


# --- a sheet that declares or spans more cells than a price list (issue 20, item 4) -------


def huge_sheet(dimension="A1:XFD1048576", extra=b"") -> bytes:
    """A ~5 KB XLSX whose first sheet declares `dimension` (calamine would allocate it)."""
    header = ["Код услуги", "Категория цен", "Действует с", "Цена"]
    source = zipfile.ZipFile(io.BytesIO(xlsx_file([header, ["PI-S001", "PI-MSK",
                                                             "01.01.2026", 10]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"\s*/>',
                              f'<dimension ref="{dimension}"/>'.encode(), body)
                body = body.replace(b"</sheetData>", extra + b"</sheetData>")
            archive.writestr(item, body)
    return out.getvalue()


CORNER = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


@pytest.mark.parametrize(("dimension", "extra"), [
    ("A1:XFD1048576", b""),
    ("A1:D2", CORNER),
    ("A1:XFD1048576", CORNER),
    ("A1:AA2", b""),
    ("A1:D300000", b""),
    ("A1:D2", b'<row r="3">' + b"<c><v>1</v></c>" * 27 + b"</row>"),  # cells without r=
])
def test_a_sheet_larger_than_a_price_list_is_refused_before_it_is_read(dimension, extra):
    data = huge_sheet(dimension, extra)
    assert len(data) < 8000
    with pytest.raises(pi.ImportRefused, match="Лист книги слишком велик"):
        price_file.check_sheet_sizes(data)


def test_a_sheet_within_the_bounds_passes_the_guard():
    price_file.check_sheet_sizes(huge_sheet("A1:Z200010"))
    rows = pi.parse("ok.xlsx", huge_sheet("A1:D2"))
    assert [(r.line, r.service) for r in rows] == [(2, "PI-S001")]


def test_a_4kb_xlsx_declaring_17_billion_cells_gets_a_russian_refusal(session, book, login):
    """Posted from a forked child with its address space capped, so that an unguarded
    parser kills the child (and fails this test), not the test process or the machine:
    calamine allocates the rectangle from A1 to the farthest cell, and aborts."""
    import multiprocessing
    import resource

    client = login("admin")

    def post(pipe):
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024 ** 3, 4 * 1024 ** 3))
        response = upload(client, huge_sheet("A1:XFD1048576", CORNER), "bomb.xlsx")
        pipe.send((response.status_code, response.get_data(as_text=True)))
        pipe.close()
        os._exit(0)

    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=post, args=(child,))
    process.start()
    for _ in range(1200):  # up to two minutes, while the child lives
        if parent.poll(0.1) or not process.is_alive():
            break
    answer = parent.recv() if parent.poll(1) else None
    process.join(10)
    assert answer is not None, f"the worker died (exit code {process.exitcode})"
    status, html = answer
    assert status == 200 and "Отклонено" in html and "/confirm" not in html
    assert "Лист книги слишком велик (1048576 строк, 16384 столбцов)" in html
    assert prices_of(session, book["msk"]) == 0
