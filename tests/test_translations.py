"""The catalogues are complete, and the UI shows no English in Russian (nor Russian in English).

Catalogue tests read the sources themselves (babel.cfg), so a new `_("...")` without
a translation fails here even when nobody re-ran `pybabel extract`.

Page tests render the screens of every demo user (and the login page) and look for
English interface strings in what a user sees. "Visible text" is: every HTML text
node outside <script>/<style> (so <option> texts too), the attributes title,
placeholder, data-placeholder and the value of buttons; plus the string literals of
inline scripts, through which FAB hands filter names and confirmations to its
JavaScript (those are only compared with FAB's msgids). An "English interface
string" is:

1. a msgid of Flask-AppBuilder (its templates and Python, and its ru catalogue)
   of 3+ characters, with letters and no placeholders, found as a whole word
   (case-sensitive) in a text, or equal to a script string literal;
2. English written directly into FAB's templates (their static text), as a whole text;
3. a Python literal rendered as is: "True", "False", "None", as a whole text;
4. a run of two or more Latin words in one text (ALLOWED_WORDS excepted).

Strings that gettext cannot reach are listed, with their source, in KNOWN_LEAKS and
KNOWN_RUSSIAN_IN_ENGLISH; a test fails when one of them disappears.

Checked by hand, each time in a copy of the repository: (a) with an entry
msgid "Search" / msgstr "Search" added to translations/ru/LC_MESSAGES/messages.po
(ours override FAB's "Поиск", so this is "Search" losing its translation), the page
tests of admin and branch_head fail: "FAB msgid: Search" on /unitview/list/,
/users/list/ and /journalview/list/; (b) with the msgstr of "Show" emptied, the same
pages report "FAB msgid: Show" and test_every_msgid_is_translated[ru] fails;
(c) with `_l("Проверочная строка")` added to views/menu.py, the ru/en completeness
tests and test_pot_is_up_to_date fail; (d) without "Поле" in KNOWN_RUSSIAN_IN_ENGLISH,
test_english_interface reports it on /journalview/show/<id>.
"""

from __future__ import annotations

import io
import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import flask_appbuilder
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment

from demo import pricelist_data as demo_pricelist_data
from demo.loader import USERS

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
LOCALES = ("ru", "en")
FAB_DIR = Path(flask_appbuilder.__file__).resolve().parent
FAB_MARKERS = "translations/fab_msgids.py"
# The same keywords as the `pybabel extract` command in docs/translations.md.
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
FAB_KEYWORDS = {**KEYWORDS, "lazy_formatter_gettext": None}
CYRILLIC = re.compile("[А-Яа-яЁё]")

# Latin words that are data or names, never interface text.
ALLOWED_WORDS = frozenset({"Uchet", "FAB"} | {u[0] for u in USERS})

# English that gettext cannot reach, reported to the maintainers; the test below
# fails as soon as one of them disappears, so that it is removed from here.
KNOWN_LEAKS: dict[str, str] = {}
PYTHON_LITERALS = frozenset({"True", "False", "None"})
# The same for the English interface: Russian that gettext does not reach.
KNOWN_RUSSIAN_IN_ENGLISH = {
    "Учёт": "APP_NAME in config.py, rendered by FAB's navbar as is",
}

ADMIN = "admin"
LIST_PAGES = ("/unitview/list/", "/users/list/", "/journalview/list/")


# --- catalogues ---------------------------------------------------------------------------


def _msgid(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _read_po(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


@cache
def source_msgids() -> dict[str, str]:
    """Return msgid -> first location, extracted now from the sources named in babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


@cache
def fab_msgids() -> frozenset[str]:
    """Return every msgid of Flask-AppBuilder: its sources and its ru catalogue."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    ids = {
        message if isinstance(message, str) else message[0]
        for _f, _l, message, _c, _x in extract_from_dir(
            str(FAB_DIR), method_map, keywords=FAB_KEYWORDS
        )
    }
    fab_ru = _read_po(FAB_DIR / "translations" / "ru" / "LC_MESSAGES" / "messages.po", "ru")
    ids |= {_msgid(m) for m in fab_ru if m.id}
    return frozenset(i for i in ids if i)


def test_catalogues_compile_without_errors():
    for locale in LOCALES:
        catalog = _read_po(_po_path(locale), locale)
        problems = [
            f"{_msgid(m)!r}: {'; '.join(str(e) for e in errors)}" for m, errors in catalog.check()
        ]
        assert not problems, f"{locale}: placeholders or plural forms do not match:\n" + "\n".join(
            problems
        )
        fuzzy = [_msgid(m) for m in catalog if m.id and m.fuzzy]
        assert not fuzzy, f"{locale}: fuzzy (unreviewed) translations: {fuzzy}"
        write_mo(io.BytesIO(), catalog)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_msgid_is_translated(locale):
    catalog = _read_po(_po_path(locale), locale)
    pot = _read_po(TRANSLATIONS / "messages.pot")
    wanted = dict(source_msgids())
    for m in pot:
        if m.id:
            wanted.setdefault(_msgid(m), "translations/messages.pot")
    missing = []
    for msgid, where in sorted(wanted.items()):
        message = catalog.get(msgid)
        strings = [] if message is None else (
            list(message.string) if isinstance(message.string, tuple) else [message.string]
        )
        if not strings or not all(strings) or message.fuzzy:
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        f"no {locale} translation for (see docs/translations.md):\n" + "\n".join(missing)
    )


def test_russian_catalogue_keeps_russian_msgids_as_they_are():
    catalog = _read_po(_po_path("ru"), "ru")
    changed = [
        f"{_msgid(m)!r} -> {m.string!r}"
        for m in catalog
        if m.id and CYRILLIC.search(_msgid(m)) and m.string and m.string != m.id
    ]
    assert not changed, "change Russian wording in the source, not in ru/messages.po:\n" + (
        "\n".join(changed)
    )


def test_pot_is_up_to_date():
    pot = {_msgid(m) for m in _read_po(TRANSLATIONS / "messages.pot") if m.id}
    extracted = set(source_msgids())
    assert pot == extracted, (
        "translations/messages.pot is stale; re-run the extraction of docs/translations.md.\n"
        f"new: {sorted(extracted - pot)}\ngone: {sorted(pot - extracted)}"
    )


def test_fab_markers_are_still_fab_msgids():
    ours = {m for m, where in source_msgids().items() if where.startswith(FAB_MARKERS)}
    assert ours, f"{FAB_MARKERS} yielded no msgid: is it in babel.cfg?"
    gone = sorted(ours - fab_msgids())
    assert not gone, f"no longer msgids of Flask-AppBuilder, update {FAB_MARKERS}: {gone}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_matches_po(locale):
    po = _po_path(locale)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run `make translations`"
    with mo.open("rb") as f:
        compiled = {_msgid(m): m.string for m in read_mo(f) if m.id}
    source = {_msgid(m): m.string for m in _read_po(po, locale) if m.id and m.string}
    assert compiled == source, f"{mo.relative_to(ROOT)} is stale: run `make translations`"


# --- visible text -------------------------------------------------------------------------

TEXT_ATTRIBUTES = frozenset({"title", "placeholder", "data-placeholder"})
BUTTON_TYPES = frozenset({"submit", "button", "reset"})
LABEL_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "th", "label", "legend", "button"})
JS_STRING = re.compile(r"""(["'])((?:\\.|(?!\1)[^\\\n])*)\1""")
LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
EDGE_PUNCTUATION = "()[]{}«»\"'.,:;!?…-—"


def _normal(text: str) -> str:
    return " ".join(text.split())


def _js_literal(quote: str, body: str) -> str:
    try:
        return json.loads(f'"{body}"') if quote == '"' else body.replace("\\'", "'")
    except ValueError:
        return body


class _VisibleText(HTMLParser):
    """Collect visible texts and inline-script string literals of a page.

    `labels` is the part of `texts` that is interface by its place: headings, table
    headers, form labels, buttons and the text attributes.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.labels: list[str] = []
        self.script_strings: list[str] = []
        self._raw: str | None = None
        self._label_depth = 0

    def _add(self, text: str, label: bool) -> None:
        self.texts.append(text)
        if label:
            self.labels.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._raw = tag
        if tag in LABEL_TAGS:
            self._label_depth += 1
        values = dict(attrs)
        for name, value in attrs:
            if value and name in TEXT_ATTRIBUTES:
                self._add(_normal(value), True)
        if tag == "input" and values.get("type") in BUTTON_TYPES and values.get("value"):
            self._add(_normal(values["value"]), True)

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None
        if tag in LABEL_TAGS:
            self._label_depth = max(0, self._label_depth - 1)

    def handle_data(self, data):
        if self._raw == "script":
            self.script_strings += [
                _normal(_js_literal(q, body)) for q, body in JS_STRING.findall(data)
            ]
        elif self._raw is None and data.strip():
            self._add(_normal(data), self._label_depth > 0)


def visible_text(html: str) -> _VisibleText:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser


@cache
def fab_interface_strings() -> frozenset[str]:
    """Return FAB's msgids that can be told apart as interface text (rule 1)."""
    return frozenset(
        m.strip() for m in fab_msgids()
        if len(m.strip()) >= 3 and re.search("[A-Za-z]", m) and "%" not in m
    )


@cache
def fab_word_pattern() -> re.Pattern:
    ordered = sorted(fab_interface_strings(), key=len, reverse=True)
    alternatives = "|".join(re.escape(s) for s in ordered)
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])")


@cache
def fab_static_texts() -> frozenset[str]:
    """Return the English text written directly into FAB's templates (rule 2)."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    found: set[str] = set()
    for path in (FAB_DIR / "templates").rglob("*.html"):
        # Jinja expressions become a separator, so only literal template text remains.
        literal = "".join(
            value if kind == "data" else "\x00"
            for _line, kind, value in env.lex(path.read_text(encoding="utf-8"))
        )
        for text in visible_text(literal).texts:
            for piece in text.split("\x00"):
                piece = piece.strip()
                if len(piece) >= 2 and re.search("[A-Za-z]", piece):
                    found.add(piece)
    return frozenset(found)


def _latin_runs(text: str) -> list[str]:
    runs, current = [], []
    for token in text.split():
        word = token.strip(EDGE_PUNCTUATION)
        if LATIN_WORD.fullmatch(word) and word not in ALLOWED_WORDS:
            current.append(word)
            continue
        if len(current) >= 2:
            runs.append(" ".join(current))
        current = []
    if len(current) >= 2:
        runs.append(" ".join(current))
    return runs


def english_leaks(html: str) -> set[str]:
    """Return the English interface strings visible on a page, each with its rule."""
    page = visible_text(html)
    leaks: set[str] = set()
    static, pattern = fab_static_texts(), fab_word_pattern()
    for text in page.texts:
        leaks |= {f"FAB msgid: {m}" for m in pattern.findall(text)}
        if text in static:
            leaks.add(f"FAB template text: {text}")
        if text in PYTHON_LITERALS:
            leaks.add(f"Python literal: {text}")
        leaks |= {f"Latin words: {run}" for run in _latin_runs(text)}
    msgids = fab_interface_strings()
    leaks |= {f"FAB msgid in script: {s}" for s in page.script_strings if s in msgids}
    return leaks


@cache
def data_words() -> frozenset[str]:
    """Return the Latin words of the demo price list's names (organisms such as
    «Rubella virus», shown by the home page's panels): data, not interface text."""
    texts = [value for name, value in vars(demo_pricelist_data).items()
             if isinstance(value, str) and not name.startswith("__")]
    texts.append(repr(demo_pricelist_data.LISTS))
    return frozenset(word for text in texts for word in re.findall(r"[A-Za-z]+", text))


def _unknown(leaks: set[str]) -> set[str]:
    return {leak for leak in leaks if leak.split(": ", 1)[1] not in KNOWN_LEAKS
            and not (leak.startswith("Latin words: ")
                     and set(leak.split(": ", 1)[1].split()) <= data_words())}


# --- pages --------------------------------------------------------------------------------


def _get(client, url: str):
    return client.get(url, follow_redirects=False)


def _first_id(html: str, endpoint: str) -> str:
    match = re.search(rf"/{endpoint}/show/(\d+)", html)
    assert match, f"no row link to /{endpoint}/show/ on its list page"
    return match.group(1)


def _profile_pages() -> list[str]:
    """Return the start page, the own profile and the forms its buttons open."""
    from flask import current_app

    sm = current_app.appbuilder.sm
    forms = [f"{view.__name__}.this_form_get"
             for view in (sm.resetmypasswordview, sm.userinfoeditview)]
    urls = {rule.endpoint: rule.rule for rule in current_app.url_map.iter_rules()}
    return ["/", "/users/userinfo/", *(urls[endpoint] for endpoint in forms)]


def _admin_pages(client) -> list[str]:
    pages = _profile_pages()
    for endpoint in ("unitview", "users", "journalview"):
        listing = _get(client, f"/{endpoint}/list/")
        assert listing.status_code == 200, f"/{endpoint}/list/ -> {listing.status_code}"
        pk = _first_id(listing.get_data(as_text=True), endpoint)
        pages += [f"/{endpoint}/list/", f"/{endpoint}/show/{pk}"]
        if endpoint != "journalview":
            pages += [f"/{endpoint}/add", f"/{endpoint}/edit/{pk}"]
    return pages


def _pages_of(client, username: str) -> list[str]:
    if username == ADMIN:
        return _admin_pages(client)
    return [*_profile_pages(), *LIST_PAGES]


def _collect(client, pages: list[str]) -> tuple[dict[str, set[str]], list[str]]:
    leaks: dict[str, set[str]] = {}
    seen = []
    for url in pages:
        response = _get(client, url)
        if response.status_code == 200:
            seen.append(url)
        # Error pages (403 for a screen the user may not open) are seen too.
        if response.mimetype != "text/html" or 300 <= response.status_code < 400:
            continue
        found = english_leaks(response.get_data(as_text=True))
        if found:
            leaks[url] = found
    return leaks, seen


def _report(leaks: dict[str, set[str]]) -> str:
    return "\n".join(f"{url}: {sorted(found)}" for url, found in leaks.items())


def test_login_page_shows_no_english(client):
    leaks, seen = _collect(client, ["/login/"])
    assert seen == ["/login/"]
    unknown = {url: _unknown(found) for url, found in leaks.items() if _unknown(found)}
    assert not unknown, "English on the login page:\n" + _report(unknown)


@pytest.mark.parametrize("username", [u[0] for u in USERS])
def test_pages_of_each_user_show_no_english(login, username):
    client = login(username)
    pages = _pages_of(client, username)
    leaks, seen = _collect(client, pages)
    closed = sorted(set(_profile_pages()) - set(seen))
    assert not closed, f"{username} could not open {closed}"
    if username == ADMIN:
        assert seen == pages, f"admin could not open {sorted(set(pages) - set(seen))}"
    unknown = {url: _unknown(found) for url, found in leaks.items() if _unknown(found)}
    assert not unknown, (
        f"{username}: English interface strings (add their Russian translation to "
        "translations/ru/LC_MESSAGES/messages.po, see docs/translations.md):\n"
        + _report(unknown)
    )


def _assert_russian(response, *expected: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in expected:
        assert text in html, f"{text!r} not shown"
    unknown = _unknown(english_leaks(html))
    assert not unknown, f"English after the action: {sorted(unknown)}"


def test_messages_after_actions_are_russian(app, login, session):
    from tests.support import unit

    leaf, parent = unit(session, "MSK-TVR-USD"), unit(session, "MSK-TVR")
    client = login(ADMIN)
    _assert_russian(client.post("/unitview/add", data={}), "Обязательное поле.")
    form = {"kind": leaf.kind, "parent": str(parent.id), "code": leaf.code, "name": leaf.name,
            "active": "y"}
    edited = client.post(f"/unitview/edit/{leaf.id}", data=form, follow_redirects=True)
    _assert_russian(edited, "Запись изменена")
    deleted = client.post(f"/unitview/delete/{leaf.id}", follow_redirects=True)
    _assert_russian(deleted, "Запись удалена")
    password = _profile_pages()[2]
    _assert_russian(client.post(password, data={"password": "a", "conf_password": "b"}),
                    "Пароли должны совпадать")
    anonymous = app.test_client()
    refused = anonymous.post("/login/", data={"username": ADMIN, "password": "wrong"},
                             follow_redirects=True)
    _assert_russian(refused, "Неверный логин или пароль")


def test_known_leaks_are_still_there(login):
    client = login(ADMIN)
    leaks, _seen = _collect(client, _admin_pages(client))
    found = {leak.split(": ", 1)[1] for page in leaks.values() for leak in page}
    fixed = sorted(set(KNOWN_LEAKS) - found)
    assert not fixed, f"no longer shown, remove from KNOWN_LEAKS: {fixed}"
    _get(client, "/lang/en")
    shown = {
        text
        for url in _admin_pages(client)
        for text in visible_text(_get(client, url).get_data(as_text=True)).texts
    }
    fixed = sorted(k for k in KNOWN_RUSSIAN_IN_ENGLISH if not any(k in t for t in shown))
    assert not fixed, f"no longer shown, remove from KNOWN_RUSSIAN_IN_ENGLISH: {fixed}"


def test_detector_catches_a_leak():
    html = (
        '<p>Record Count: 5</p><a title="Show record">x</a><option>Not Equal to</option>'
        '<button>Cancel</button><script>f("Equal to", \'Удалить?\')</script>'
        "<td>MSK-TVR</td><td>admin@demo.uchet.local</td><td>admin</td><td>Записей: 5</td>"
    )
    assert english_leaks(html) == {
        "FAB msgid: Record Count",
        "Latin words: Record Count",
        "FAB msgid: Show record",
        "Latin words: Show record",
        "FAB msgid: Not Equal to",
        "Latin words: Not Equal to",
        "FAB template text: Cancel",
        "FAB msgid in script: Equal to",
    }


# --- English interface --------------------------------------------------------------------


def _data_texts(session) -> list[str]:
    """Return names stored in the database (roles, units, users, services: the home page
    lists services), longest first: data, not UI."""
    from flask_appbuilder.security.sqla.models import Role
    from sqlalchemy import select

    from models.org import Unit
    from models.pricelist import Service
    from models.user import AppUser

    names = set(session.scalars(select(Role.name))) | set(session.scalars(select(Unit.name)))
    names |= set(session.scalars(select(Service.name)))
    for user in session.scalars(select(AppUser)):
        names |= {user.first_name, user.last_name, user.get_full_name(), user.position or ""}
    return sorted((n for n in names if n), key=len, reverse=True)


def _russian_left(text: str, data: list[str]) -> bool:
    for name in data:
        text = text.replace(name, "")
    return bool(CYRILLIC.search(text))


def test_english_interface(login, session):
    """In English, our strings are English: no Russian msgid, no Russian label or heading."""
    client = login(ADMIN)
    assert _get(client, "/lang/en").status_code == 302
    home = _get(client, "/")
    assert home.status_code == 200
    assert "All sections" in home.get_data(as_text=True)
    data = [*_data_texts(session), *KNOWN_RUSSIAN_IN_ENGLISH]
    ours = {m for m in source_msgids() if CYRILLIC.search(m)} - set(data)
    untranslated = {}
    for url in _admin_pages(client):
        response = _get(client, url)
        assert response.status_code == 200, f"{url} -> {response.status_code}"
        page = visible_text(response.get_data(as_text=True))
        left = {t for t in page.texts if t in ours}
        left |= {t for t in page.labels if _russian_left(t, data)}
        if left:
            untranslated[url] = left
    assert not untranslated, f"Russian interface text in the English UI: {untranslated}"
