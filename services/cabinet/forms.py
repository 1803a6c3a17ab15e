"""Направительные бланки: the lab's referral forms, declared once and used three ways —
a blank PDF to print and fill by hand, an online form, and the filled form as a PDF
to print and send with the sample.

A form is data (FORMS): its title, the tests one ticks and the notes it asks for.
`check` validates what a user typed (Russian errors, nothing kept); `render` draws
a form, blank or filled, with the bundled DejaVu font (Cyrillic needs a TrueType
font; PDF's built-in fonts have no Cyrillic).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from services.dates import parse_date

FONTS = Path(__file__).resolve().parents[2] / "app" / "fonts"
SEXES = {"m": _l("мужской"), "f": _l("женский")}


@dataclass(frozen=True)
class ReferralForm:
    """One referral form: its code, title, the tests it lists and what it asks."""

    code: str
    title: object
    tests: tuple[tuple[str, object], ...]
    asks_cycle_day: bool = False


FORMS = {form.code: form for form in (
    ReferralForm("general", _l("Направление на лабораторные исследования"), (
        ("CBC", _l("Общий анализ крови с лейкоцитарной формулой")),
        ("ESR", _l("СОЭ")),
        ("GLU", _l("Глюкоза")),
        ("CHOL", _l("Холестерин общий")),
        ("ALT", _l("АЛТ")),
        ("AST", _l("АСТ")),
        ("CREA", _l("Креатинин")),
        ("UA", _l("Общий анализ мочи")),
    )),
    ReferralForm("hormones", _l("Направление на гормональные исследования"), (
        ("TSH", _l("ТТГ")),
        ("FT4", _l("Т4 свободный")),
        ("PRL", _l("Пролактин")),
        ("FSH", _l("ФСГ")),
        ("LH", _l("ЛГ")),
        ("E2", _l("Эстрадиол")),
    ), asks_cycle_day=True),
    ReferralForm("pcr", _l("Направление на ПЦР-исследования"), (
        ("HPV", _l("ВПЧ высокого канцерогенного риска, ДНК")),
        ("CT", _l("Chlamydia trachomatis, ДНК")),
        ("MG", _l("Mycoplasma genitalium, ДНК")),
        ("HSV", _l("Herpes simplex virus 1/2, ДНК")),
    )),
)}


@dataclass(frozen=True)
class Filled:
    """What a user typed on a form, checked."""

    patient: str
    birth_date: dt.date
    sex: str
    sample_date: dt.date
    doctor: str
    office: str
    diagnosis: str
    tests: tuple[str, ...]
    cycle_day: int | None
    note: str


def _date(raw: str, name: str) -> dt.date:
    day = parse_date(raw)
    if day is None:
        raise ValidationError(_("Укажите дату в поле «%(f)s»", f=name))
    return day


def check(form: ReferralForm, values, office: str, today: dt.date | None = None) -> Filled:
    """Return the typed form checked (`values`: a mapping with getlist, as a request's
    form). Raises ValidationError naming the first field to correct."""
    today = today or dt.date.today()
    patient = " ".join((values.get("patient") or "").split())
    if not patient or len(patient) > 200:
        raise ValidationError(_("Укажите фамилию, имя и отчество пациента"), field="patient")
    birth = _date(values.get("birth_date"), _("Дата рождения"))
    if not dt.date(1900, 1, 1) <= birth <= today:
        raise ValidationError(_("Дата рождения — не позже сегодняшнего дня"), field="birth_date")
    sex = values.get("sex", "")
    if sex not in SEXES:
        raise ValidationError(_("Укажите пол пациента"), field="sex")
    sample = _date(values.get("sample_date"), _("Дата взятия биоматериала"))
    if not birth <= sample <= today + dt.timedelta(days=30):
        raise ValidationError(_("Дата взятия биоматериала — между датой рождения и ближайшим "
                                "месяцем"), field="sample_date")
    known = {code for code, _name in form.tests}
    tests = tuple(code for code in values.getlist("test") if code in known)
    if not tests:
        raise ValidationError(_("Отметьте хотя бы одно исследование"), field="test")
    cycle_day = None
    if form.asks_cycle_day and (values.get("cycle_day") or "").strip():
        raw = values.get("cycle_day").strip()
        if not (raw.isdecimal() and 1 <= int(raw) <= 60):
            raise ValidationError(_("День цикла — число от 1 до 60"), field="cycle_day")
        cycle_day = int(raw)
    return Filled(patient, birth, sex, sample, (values.get("doctor") or "").strip()[:200],
                  office, (values.get("diagnosis") or "").strip()[:200], tests, cycle_day,
                  (values.get("note") or "").strip()[:1000])


def render(form: ReferralForm, filled: Filled | None = None) -> bytes:
    """Return the form as a one-page A4 PDF: blank lines to fill by hand, or the
    typed values."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_title(str(form.title))
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, str(form.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 11)

    def field(name, value=None):
        shown = value if value else "_" * 60
        pdf.multi_cell(0, 8, f"{name}: {shown}", new_x="LMARGIN", new_y="NEXT")

    f = filled
    field(_("Направившее подразделение"), f.office if f else None)
    field(_("Пациент (ФИО)"), f.patient if f else None)
    field(_("Дата рождения"), f.birth_date.strftime("%d.%m.%Y") if f else None)
    field(_("Пол"), str(SEXES[f.sex]) if f else " / ".join(str(s) for s in SEXES.values()))
    field(_("Дата взятия биоматериала"), f.sample_date.strftime("%d.%m.%Y") if f else None)
    if form.asks_cycle_day:
        field(_("День цикла"), str(f.cycle_day) if f and f.cycle_day else None)
    field(_("Диагноз"), f.diagnosis if f else None)
    field(_("Врач"), f.doctor if f else None)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, _("Исследования"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for code, name in form.tests:
        mark = "[x]" if f and code in f.tests else "[  ]"
        if f and code not in f.tests:
            continue  # a filled form lists what was ordered
        pdf.cell(0, 7, f"{mark} {name} ({code})", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    field(_("Примечание"), f.note if f else None)
    pdf.ln(6)
    field(_("Подпись врача"))
    return bytes(pdf.output())
