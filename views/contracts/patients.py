"""The patient registry and attachments to medical programmes.

A registrar finds a patient by name and birth date, sees his attachments in the
card, and attaches him to a programme from there (the programme is prefilled
from the patient's card) or from the attachments list.
"""

from __future__ import annotations

from flask import flash
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select
from wtforms import SelectField

from models.patients import SEXES, Attachment, Patient, name_key
from security.effective import current
from security.scope import scoped
from services.contracts.patients import check_attachment, check_patient, duplicates_of
from views.formatters import choice_label
from views.lookup import Lookup, LookupMixin, RemoteSelectField, split_query
from views.refbook import RefBook, RefBookView, build, register_refbook

ATTACH_RIGHT = "contract.attach_patients"
EDITING = ("can_add", "can_edit", "can_delete", "muldelete", "can_post", "can_put")
SEX_FIELD = SelectField(_l("Пол"), choices=list(SEXES.items()))


class PatientScreen(RefBookView):
    """The patient card warns about namesakes born on the same day and, with «Создание
    талонов для выбранного пациента из меню Пациент», offers «Создать талон»."""

    show_template = "uchet/patient_show.html"

    def render_template(self, template, **kwargs):
        rights = current()
        kwargs["may_create_voucher"] = rights.flag("voucher.create_from_patient_menu") and \
            self.appbuilder.sm.has_access("can_add", "VoucherView")
        kwargs["may_read_access_journal"] = self.appbuilder.sm.has_access(
            "can_list", "PatientAccessView")
        return super().render_template(template, **kwargs)

    def post_add(self, item) -> None:
        self._warn_duplicates(item)

    def post_update(self, item) -> None:
        self._warn_duplicates(item)

    def _warn_duplicates(self, item) -> None:
        others = duplicates_of(self._session(), item, current())
        if others:
            flash(_("Пациентов с теми же ФИО и датой рождения: %(n)s. Проверьте, не дубль ли это "
                    "(фильтр «Возможный дубль» в списке)", n=others), "warning")
        elif item.possible_duplicate:
            flash(_("Пациент с теми же ФИО и датой рождения есть в другом филиале: "
                    "обратитесь к администратору картотеки"), "warning")


def patient_where(words: list[str], dates: list) -> list:
    """Patients whose name starts with the typed words (any case, «ё» as «е»),
    born on the typed date."""
    clauses = []
    if words:
        typed = name_key(*words[:3], *[None] * (3 - len(words[:3])))
        typed = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(Patient.name_key.like(typed + "%", escape="\\"))
    if dates:
        clauses.append(Patient.birth_date == dates[0])
    return clauses


class FilterPatient(BaseFilter):
    """Rows of the patients a user finds by what he knows: the start of the name and/or
    the birth date (dd.mm.yyyy), or the patient's number; only patients in his scope."""

    name = _l("Пациент")
    arg_name = "patient"

    def apply(self, query, value):
        words, dates = split_query(str(value or "")[:100])
        if len(words) == 1 and words[0].isdecimal() and len(words[0]) < 10 and not dates:
            where = [Patient.id == int(words[0])]
        else:
            where = patient_where(words, dates) or [false()]
        found = scoped(select(Patient.id).where(*where), current(), model=Patient)
        column = getattr(self.model, self.column_name + "_id")
        return query.filter(column.in_(found.scalar_subquery()))


PATIENT_LOOKUP = Lookup(Patient, patient_where,
                        lambda: [Patient.last_name, Patient.first_name, Patient.birth_date],
                        needs=("can_list", "PatientView"))


class AttachmentScreen(LookupMixin, RefBookView):
    """Attachments: the patient is chosen by search, not from a list of every patient."""

    lookups = {"patient": PATIENT_LOOKUP}


PATIENT_FIELD = RemoteSelectField(_l("Пациент"), model=Patient, view_name="AttachmentView")

ATTACHMENT_BOOK = RefBook(
    Attachment, "contract.contracts", "Attachments", "patients",
    ("patient", "programme", "valid_from", "valid_to", "policy_number"),
    edit_columns=("patient", "programme", "valid_from", "valid_to", "policy_number",
                  "branches", "note"),
    # No patient filter: its dropdown would list every patient (search from the card).
    search_columns=("programme", "valid_from", "valid_to", "policy_number"),
    view_columns=("contract",), labels={"contract": _l("Договор")},
    eager=("programme.contract",),
    order=("valid_from", "desc"), icon="fa-link",
    permission_rights=dict.fromkeys(EDITING, ATTACH_RIGHT),
    validate=check_attachment, view_base=AttachmentScreen,
    extra={"add_form_extra_fields": {"patient": PATIENT_FIELD},
           "edit_form_extra_fields": {"patient": PATIENT_FIELD}},
)
ATTACHMENT_CLASSES = build(ATTACHMENT_BOOK)
AttachmentView = ATTACHMENT_CLASSES[0]

PATIENT_BOOK = RefBook(
    Patient, "patient.registry", "Patients", "patients",
    ("last_name", "first_name", "middle_name", "birth_date", "sex", "home_branch", "phone",
     "possible_duplicate"),
    edit_columns=("last_name", "first_name", "middle_name", "birth_date", "sex", "category",
                  "home_branch", "snils", "oms_policy", "document_kind", "document_number",
                  "document_issued", "phone", "email", "address", "note"),
    search_columns=("last_name", "first_name", "middle_name", "birth_date", "home_branch",
                    "snils", "phone", "possible_duplicate"),
    order=("last_name", "asc"), icon="fa-user-md", view_base=PatientScreen,
    formatters={"sex": choice_label(SEXES)},
    validate=check_patient,
    extra={"add_form_extra_fields": {"sex": SEX_FIELD},
           "edit_form_extra_fields": {"sex": SEX_FIELD},
           "related_views": [AttachmentView]},
)
PATIENT_CLASSES = register_refbook(PATIENT_BOOK)
register_refbook(ATTACHMENT_BOOK, ATTACHMENT_CLASSES)
