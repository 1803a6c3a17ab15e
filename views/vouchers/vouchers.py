"""Талоны: the voucher list and card with its service lines, under «Редактирование
остальных талонов» (access levels) and the yes/no voucher rights of the seed.

A registrar creates a voucher for a patient, adds services and sees the payer
and the price the system chose (attachment and its programme's price type, or
the patient at the paid price). Warnings (no staff, no diagnosis, a limit
exceeded…) are shown and the save waits for «Подтверждаю».
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action as fab_action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField
from wtforms.widgets import HiddenInput

from models.base import fk_value
from models.patients import Patient
from models.staff import Diagnosis, Employee
from models.vouchers import (
    VOUCHER_KINDS,
    VOUCHER_SOURCES,
    VOUCHER_STATES,
    Voucher,
)
from security.effective import current
from security.scope import scoped
from services.vouchers.bulk import change_doctor, recalculate
from services.vouchers.rules import (
    branch_from_attachment,
    check_voucher_delete,
    check_voucher_save,
)
from views.base import screen_command
from views.contracts.patients import PATIENT_CLASSES, PATIENT_LOOKUP, FilterPatient
from views.formatters import choice_label
from views.lookup import LookupMixin, RemoteSelectField
from views.refbook import RefBook, RefBookApi, RefBookView, register_refbook
from views.vouchers.card import CARD_LOADS, card_context
from views.vouchers.common import (
    CONFIRM,
    COUNT_CAP,
    DIAGNOSIS_LOOKUP,
    RIGHT,
    confirmed,
)
from views.vouchers.lines import LINE_BOOK, LINES


def check_voucher(session, voucher: Voucher) -> None:
    """Save rule of a voucher (see services.vouchers.rules.check_voucher_save)."""
    check_voucher_save(session, voucher, current(), confirmed=confirmed())


def check_voucher_removal(session, voucher: Voucher) -> None:
    """Delete rule of a voucher (see services.vouchers.rules.check_voucher_delete)."""
    check_voucher_delete(session, voucher, current(), current().user_id)


class AutoBranch:
    """A voucher left without a branch gets the one its patient's attachment names
    («Автоматически подставлять филиал по прикреплению пациента») before the scope
    check reads it."""

    def check_write(self, item) -> None:
        if fk_value(item, "branch_id") is None:
            item.branch = branch_from_attachment(self._session(), item, current())
        super().check_write(item)


class VoucherApi(AutoBranch, RefBookApi):
    """The vouchers' REST API."""


class VoucherScreen(AutoBranch, LookupMixin, RefBookView):
    """Vouchers: the patient and the diagnosis are chosen by search (the classifier
    and the registry are far too long for a drop-down); recalculation and the bulk
    change of doctor work on the rows ticked in the list."""

    lookups = {"patient": PATIENT_LOOKUP, "diagnosis": DIAGNOSIS_LOOKUP}
    show_template = "uchet/voucher_show.html"

    def render_template(self, template, **kwargs):
        """The card reads as a document (views/vouchers/card.py): its title names
        the voucher's number and date."""
        voucher = (kwargs.get("widgets") or {}).get("voucher")
        if template == self.show_template and voucher is not None:
            card = card_context(voucher)
            kwargs.update(card)
            kwargs["title"] = _("Талон № %(n)s от %(d)s", n=voucher.id,
                                d=voucher.service_date.strftime("%d.%m.%Y"))
        return super().render_template(template, **kwargs)

    def _show(self, pk):
        """Return the card's widgets: the voucher the user sees (404 for any other),
        read once with its lines, their services and payers (CARD_LOADS). The card is
        a document (uchet/voucher_show.html): FAB's field-by-field show widget and
        the lines' tab (a list of lines and its count) are not built only to be left
        out of the page."""
        voucher = self.datamodel.get(pk, self._base_filters, load=CARD_LOADS)
        if voucher is None:
            abort(404)
        self.update_redirect()
        return {"voucher": voucher, "related_views": []}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The patient is found by what people know, name and birth date or his number
        # (FilterPatient: `_flt_0_patient_name=…`), not from a dropdown of every patient.
        found = FilterPatient("patient", self.datamodel)
        self._filters._search_filters[PATIENT_SEARCH_KEY] = [found]
        self._filters._all_filters[PATIENT_SEARCH_KEY] = [found]
        setattr(self.search_form, PATIENT_SEARCH_KEY, PATIENT_SEARCH)
        self.search_columns = [PATIENT_SEARCH_KEY, *self.search_columns]
        self.label_columns = {**self.label_columns, PATIENT_SEARCH_KEY: _l("Пациент")}
        # The version guards concurrent edits; it is not something a person reads.
        self.show_columns = [c for c in self.show_columns if c != "version"]

    def post_add(self, item) -> None:
        """Remember the new voucher: the next page is its card, where its services go."""
        super().post_add(item)
        g.uchet_new_voucher = item.id

    def post_add_redirect(self):
        """Return to the new voucher's card (FAB would go back to the list)."""
        if g.get("uchet_new_voucher") is not None:
            return redirect(url_for(f"{type(self).__name__}.show", pk=g.uchet_new_voucher))
        return super().post_add_redirect()

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        """Open the add form with the patient of the card it came from (?patient=id),
        if the user may see that patient."""
        wanted = request.args.get("patient", type=int) if request.method == "GET" else None
        if wanted is not None and abs(wanted) < 2**31:
            form.patient.data = self._session().scalar(scoped(
                select(Patient).where(Patient.id == wanted), current()))
        if request.method == "GET" and form.service_date.data is None:
            form.service_date.data = dt.date.today()  # a visit is recorded on its day
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        """Return the edit widgets; `version` travels in the form's hidden tag only."""
        return super()._get_edit_widget(form, exclude_cols=[*(exclude_cols or []), "version"],
                                        widgets=widgets)

    @fab_action("recalculate", _l("Пересчитать талоны"),
                _l("Пересчитать цены и плательщиков выбранных талонов?"), "fa-refresh",
                single=False)
    def recalculate(self, items):
        """Re-price the chosen vouchers in one transaction and say what changed."""
        # From the card (one voucher, back=card) the user returns to the card.
        card = request.form.get("back") == "card" and len(items) == 1
        back = redirect(url_for(f"{type(self).__name__}.show", pk=items[0].id) if card
                        else url_for(f"{type(self).__name__}.list"))

        def done(result):
            flash(_("Пересчитано: изменено строк %(c)s, без изменений %(u)s; оплаченные, "
                    "выставленные в счёт и отменённые не пересчитываются: %(k)s",
                    c=result.changed, u=result.unchanged, k=result.kept), "success")
            for reason in result.skipped:
                flash(reason, "warning")
            return back

        return screen_command(lambda: recalculate(self._session(), items, current(),
                                                  current().user_id),
                              self._session(), done=done, again=lambda _exc: back)

    @fab_action("pay", _l("Оплатить"), "", "fa-money", multiple=False)
    def pay(self, item):
        """Open the cash desk on the voucher's patient («Касса»)."""
        return redirect(url_for("CashDeskView.desk", patient=item.patient_id))

    @fab_action("change_doctor", _l("Изменить врача"), "", "fa-user-md", single=False)
    def change_doctor_action(self, items):
        """Ask for the doctor to set on the chosen vouchers."""
        return self._doctor_page(items)

    def _doctor_page(self, items, status=200):
        doctors = self._session().scalars(scoped(
            select(Employee).where(Employee.is_doctor.is_(True), Employee.active.is_(True))
            .order_by(Employee.last_name, Employee.first_name), current())).all()
        return self.render_template("uchet/voucher_doctor.html", items=items,
                                    doctors=doctors), status

    @expose("/change-doctor", methods=["POST"])
    @has_access
    @permission_name("edit")
    def change_doctor(self):
        """Set the chosen doctor on the vouchers, all or nothing."""
        session = self._session()
        items = self._scoped_items(request.form.getlist("rowid"))
        doctor = session.scalar(scoped(select(Employee).where(
            Employee.id == request.form.get("doctor", type=int)), current()))

        def done(changed):
            flash(_("Врач «%(d)s» указан в талонах: %(n)s", d=doctor, n=changed), "success")
            return redirect(url_for(f"{type(self).__name__}.list"))

        return screen_command(
            lambda: change_doctor(session, items, doctor, current(), current().user_id),
            session, done=done, again=lambda _exc: self._doctor_page(
                self._scoped_items(request.form.getlist("rowid")), 400))


# No label: the row stays empty; the value travels with the form (concurrent edits).
VERSION = IntegerField("", widget=HiddenInput())


PATIENT_FIELD = RemoteSelectField(_l("Пациент"), model=Patient, view_name="VoucherView")
DIAGNOSIS_FIELD = RemoteSelectField(_l("Диагноз МКБ-10"), model=Diagnosis,
                                    view_name="VoucherView",
                                    placeholder=_l("Начните вводить код или название"))
PATIENT_SEARCH_KEY = "patient_name"
PATIENT_SEARCH = StringField(_l("Пациент"), description=_l(
    "Фамилия, имя, отчество (начало) и/или дата рождения ДД.ММ.ГГГГ"))
KIND_FIELD = SelectField(_l("Вид талона"), choices=list(VOUCHER_KINDS.items()),
                         default="regular")

VOUCHER_FIELDS = {"patient": PATIENT_FIELD, "diagnosis": DIAGNOSIS_FIELD, "kind": KIND_FIELD,
                  "confirm": CONFIRM}
EDIT_COLUMNS = ("service_date", "kind", "branch", "department", "doctor", "nurse",
                "patient", "diagnosis", "referring_unit", "contract", "note", "version")

VOUCHER_COLUMNS = ("service_date", "branch", "patient", "doctor", "kind", "source", "total",
                   "line_count")

VOUCHER_BOOK = RefBook(
    Voucher, RIGHT, "Vouchers", "documents", VOUCHER_COLUMNS,
    edit_columns=EDIT_COLUMNS,
    # The API filters by the patient's id; the screen by name (VoucherScreen).
    search_columns=("id", "service_date", "patient", "branch", "department", "doctor", "kind",
                    "source", "total"),
    order=("service_date", "desc"), icon="fa-ticket", count_cap=COUNT_CAP,
    optional=("branch",),  # «Автоматически подставлять филиал по прикреплению»
    # The state is read from the lines: one query for the page's lines, of their
    # state alone (the card reads them whole).
    eager=("lines",), eager_columns={"lines": ("state",)},
    labels={"id": _l("Номер"), "state": _l("Состояние")},
    formatters={"kind": choice_label(VOUCHER_KINDS), "source": choice_label(VOUCHER_SOURCES),
                "state": choice_label(VOUCHER_STATES)},
    validate=check_voucher, delete_rule=check_voucher_removal, view_base=VoucherScreen,
    api_base=VoucherApi, form_only=("confirm",),
    # The yes/no rights of the seed decide, in the service; «изменение» opens the actions.
    permission_levels={"recalculate": "edit", "change_doctor": "edit", "pay": "view"},
    # «Оплатить» opens the cash desk: offered to those who may reach it.
    permission_rights={"pay": "payment.patient_accounts"},
    extra={"related_views": [LINES[0]],
           # A document's titles name one document (the card's names its number and date).
           "add_title": _l("Новый талон"), "edit_title": _l("Изменение талона"),
           # The number first, the state last: what a registrar looks a voucher up by.
           "list_columns": ["id", *VOUCHER_COLUMNS, "state"],
           "order_columns": ["id", *(c for c in VOUCHER_COLUMNS
                                     if c not in ("branch", "patient", "doctor"))],
           "search_columns": ["id", "service_date", "branch", "department", "doctor", "kind",
                              "source", "total"],
           "add_columns": [*(c for c in EDIT_COLUMNS if c != "version"), "confirm"],
           "add_form_extra_fields": VOUCHER_FIELDS,
           "edit_form_extra_fields": {**VOUCHER_FIELDS, "version": VERSION}})

VOUCHERS = register_refbook(VOUCHER_BOOK)
# The patient card's «Талоны» tab: his vouchers the user sees (the list's own filters).
PATIENT_CLASSES[0].related_views = [*PATIENT_CLASSES[0].related_views, VOUCHERS[0]]
# After the vouchers: the menu lists «Талоны» first.
register_refbook(LINE_BOOK, LINES)
