"""The new-voucher form as a browser sends it (issue 13, defect 1): every field the
rendered form holds is posted, hidden ones included, exactly as rendered; only what
a registrar fills in (the date, «Подтверждаю») is changed. Tests that post chosen
fields directly did not see that the form's own hidden fields broke the save."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.contract_rows import flashes, patient


class FormFields(HTMLParser):
    """The (name, value) pairs a browser submits for the page's form `#model_form`
    (unticked boxes and selects' unselected options left out; a select without a
    selected option sends its first one), and each input's attributes by name."""

    def __init__(self):
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.attrs: dict[str, dict] = {}
        self.labels: dict[str, dict[str, str]] = {}  # select -> option value -> its text
        self._form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == "model_form":
            self._form = True
        if not self._form or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            self.attrs[a["name"]] = a
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") not in ("submit", "button", "file"):
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.attrs[a["name"]] = a
            self._select, self._options = a["name"], []
            self.labels[a["name"]] = {}
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
            self._option = a.get("value", "")
            self.labels[self._select][self._option] = ""
        elif tag == "textarea":
            self.attrs[a["name"]] = a
            self.pairs.append((a["name"], ""))

    def handle_data(self, data):
        if self._select and self._option is not None:
            self.labels[self._select][self._option] += data.strip()

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        if tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or \
                [v for v, _ in self._options[:1]]
            self.pairs.extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "form":
            self._form = False


def rendered(page: str) -> FormFields:
    parser = FormFields()
    parser.feed(page)
    return parser


def typed_date(field: dict, day: dt.date) -> str:
    """Return `day` as a person types it into the date field (the field's
    data-format, ДД.ММ.ГГГГ where it names none)."""
    wanted = field.get("data-format") or "dd.MM.yyyy"
    return day.strftime(wanted.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d"))


def filled(form: FormFields, day: dt.date) -> list[tuple[str, str]]:
    """Return what a registrar of «Тверской» submits: the rendered fields with the
    date typed, the branch chosen when none is preselected, «Подтверждаю» ticked."""
    fields = dict(form.pairs)
    fields["service_date"] = typed_date(form.attrs["service_date"], day)
    if fields.get("branch", "__None") in ("", "__None"):
        fields["branch"] = next(v for v, text in form.labels["branch"].items()
                                if "Тверской" in text)
    typed = ("service_date", "branch")
    sent = [(k, fields[k]) for k, _ in form.pairs if k not in typed]
    return [*sent, *((k, fields[k]) for k in typed), ("confirm", "y")]


def test_the_new_voucher_form_saves_what_it_renders(session, login):
    from models.vouchers import Voucher

    person = patient(session, last_name="Формочкин")
    session.commit()
    registrar = login("registrar")
    page = registrar.get(f"/voucherview/add?patient={person.id}").get_data(as_text=True)
    form = rendered(page)
    today = dt.date.today()
    fields = filled(form, today)
    response = registrar.post(f"/voucherview/add?patient={person.id}", data=MultiDict(fields))
    assert response.status_code == 302, flashes(response)
    session.expire_all()
    saved = session.scalars(select(Voucher).where(Voucher.patient_id == person.id)).all()
    assert [(v.service_date, v.version) for v in saved] == [(today, 1)]
    assert flashes(registrar.get(response.headers["Location"]), "danger") == []


def test_the_edit_form_sends_its_version_once(session, login):
    from models.vouchers import Voucher

    person = patient(session, last_name="Правкин")
    session.commit()
    registrar = login("registrar")
    add = rendered(registrar.get(f"/voucherview/add?patient={person.id}").get_data(as_text=True))
    fields = filled(add, dt.date.today())
    created = registrar.post(f"/voucherview/add?patient={person.id}", data=MultiDict(fields))
    assert created.status_code == 302
    voucher = session.scalar(select(Voucher).where(Voucher.patient_id == person.id))
    edit = rendered(registrar.get(f"/voucherview/edit/{voucher.id}").get_data(as_text=True))
    assert [(k, v) for k, v in edit.pairs if k == "version"] == [("version", "1")]
    changed = [(k, "Правка" if k == "note" else v) for k, v in edit.pairs] + [("confirm", "y")]
    response = registrar.post(f"/voucherview/edit/{voucher.id}", data=MultiDict(changed))
    assert response.status_code == 302, flashes(response)
    session.expire_all()
    assert (voucher.note, voucher.version) == ("Правка", 2)


def test_the_voucher_card_shows_no_version_and_the_line_list_speaks_russian(session, login):
    from models.vouchers import Voucher

    person = patient(session, last_name="Карточкин")
    session.commit()
    registrar = login("registrar")
    add = rendered(registrar.get(f"/voucherview/add?patient={person.id}").get_data(as_text=True))
    created = registrar.post(f"/voucherview/add?patient={person.id}",
                             data=MultiDict(filled(add, dt.date.today())))
    assert created.status_code == 302
    voucher = session.scalar(select(Voucher).where(Voucher.patient_id == person.id))
    card = registrar.get(f"/voucherview/show/{voucher.id}").get_data(as_text=True)
    assert "Карточкин" in card
    assert "Версия" not in card, "a technical field on the voucher card"
    lines = registrar.get("/voucherlineview/list/").get_data(as_text=True)
    assert "Service Date" not in lines and "Дата услуги" in lines
