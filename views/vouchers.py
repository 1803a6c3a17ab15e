"""Талоны: the voucher list and card with its service lines, under «Редактирование
остальных талонов» (access levels) and the yes/no voucher rights of the seed.

A registrar creates a voucher for a patient, adds services and sees the payer
and the price the system chose (attachment and its programme's price type, or
the patient at the paid price). Warnings (no staff, no diagnosis, a limit
exceeded…) are shown and the save waits for «Подтверждаю».
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.filters import BaseFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from sqlalchemy import inspect as sa_inspect
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.widgets import HiddenInput

from models.base import fk_value, stored_value
from models.patients import Attachment, Patient
from models.staff import Diagnosis, Employee
from models.vouchers import LINE_STATES, PAYER_KINDS, VOUCHER_KINDS, Voucher, VoucherLine
from security.effective import current
from security.scope import row_clause
from services.errors import NeedsConfirmation, UchetError, ValidationError
from services.voucher_bulk import change_doctor, recalculate
from services.voucher_lines import SETTLED, check_line
from services.voucher_rules import (
    branch_from_attachment,
    check_dates,
    check_header,
    check_ownership,
    check_voucher_delete,
)
from views.formatters import choice_label
from views.lookup import Lookup, LookupMixin, RemoteSelectField
from views.patients import PATIENT_LOOKUP, patient_where
from views.refbook import RefBook, RefBookApi, RefBookView, build, register_refbook

RIGHT = "voucher.other_vouchers"
#: The pager counts at most this many vouchers or lines (see UchetInterface.query_count).
COUNT_CAP = 10_000
#: Adding, changing or removing a line changes the voucher: «изменение» is enough.
LINE_LEVELS = {"can_add": "edit", "can_post": "edit", "can_delete": "edit",
               "muldelete": "edit", "can_put": "edit", "can_edit": "edit"}


def confirmed() -> bool:
    """Return True when the user confirmed the warnings (form box or ?confirm=1)."""
    value = request.values.get("confirm", "") if request else ""
    return value.lower() in ("1", "y", "yes", "true", "on")


def visible_vouchers(rights):
    """Return the clause keeping the vouchers a user sees beyond his branch scope: all
    with «Доступ к талонам других пользователей», else those he created or where he
    is the main doctor (None: no restriction)."""
    if rights.is_admin or rights.flag("voucher.others_access"):
        return None
    doctor_of = select(Employee.id).where(Employee.user_id == rights.user_id)
    return or_(Voucher.created_by_id == rights.user_id,
               Voucher.doctor_id.in_(doctor_of.scalar_subquery()))


class FilterOthersVouchers(BaseFilter):
    """Without «Доступ к талонам других пользователей» a user sees the vouchers he
    created and those where he is the main doctor."""

    name = "Свои талоны"
    arg_name = "uchet_own_vouchers"

    def apply(self, query, value):
        clause = visible_vouchers(current())
        return query if clause is None else query.filter(clause)


class FilterOthersLines(FilterOthersVouchers):
    """The lines of the vouchers a user may see (see FilterOthersVouchers)."""

    arg_name = "uchet_own_voucher_lines"

    def apply(self, query, value):
        clause = visible_vouchers(current())
        if clause is None:
            return query  # no "IN (every voucher)" for those who see them all
        visible = select(Voucher.id).where(clause)
        return query.filter(VoucherLine.voucher_id.in_(visible.scalar_subquery()))


def check_voucher(session, voucher: Voucher) -> None:
    """Save rule of a voucher: a stale copy is refused, then the header rules.

    Raises ValidationError, or NeedsConfirmation with the warnings to confirm.
    """
    rights = current()
    state = sa_inspect(voucher)
    if state.persistent:
        stored = stored_value(voucher, "version")
        if voucher.version != stored:
            raise ValidationError(_("Талон уже изменил другой пользователь: откройте его "
                                    "заново, ваши изменения не сохранены"), field="version")
        voucher.version = stored + 1
    else:
        voucher.created_by_id = rights.user_id
        voucher.version = 1
    warnings = check_header(session, voucher, rights, rights.user_id)
    if warnings and not confirmed():
        raise NeedsConfirmation(warnings)


def check_voucher_removal(session, voucher: Voucher) -> None:
    """Delete rule of a voucher (see services.voucher_rules.check_voucher_delete)."""
    check_voucher_delete(session, voucher, current(), current().user_id)


def check_voucher_line(session, line: VoucherLine) -> None:
    """Save rule of a line: price, payer, limits and rights; warnings need confirming."""
    rights = current()
    visible = visible_vouchers(rights)
    voucher_id = fk_value(line, "voucher_id")
    if visible is not None and voucher_id is not None and session.scalar(
            select(Voucher.id).where(Voucher.id == voucher_id, visible)) is None:
        raise ValidationError(_("Талон не найден"), field="voucher")
    warnings = check_line(session, line, rights, rights.user_id, confirmed=confirmed())
    if warnings and not confirmed():
        raise NeedsConfirmation(warnings)


def check_line_removal(session, line: VoucherLine) -> None:
    """Delete rule of a line: the right to delete services, never a paid or invoiced one."""
    import datetime as dt

    rights = current()
    if line.state in SETTLED:
        raise ValidationError(_("Оплаченная или выставленная в счёт услуга не удаляется: "
                                "она отменяется"))
    if not rights.flag("voucher.delete_services"):
        raise ValidationError(_("Услуги удаляет только пользователь с правом «Разрешить "
                                "удаление оказанных услуг/товаров»"))
    check_dates(session, line.voucher, rights, dt.date.today(), dt.datetime.now())
    check_ownership(session, line.voucher, rights, rights.user_id)


def _diagnosis_where(words: list[str], _dates) -> list:
    """Diagnoses whose code starts with, or whose name holds, the typed text."""
    text = " ".join(words).replace("\\", "").replace("%", "").replace("_", "")
    return [or_(Diagnosis.code.ilike(text + "%"), Diagnosis.name.ilike("%" + text + "%"))]


def _voucher_where(words: list[str], _dates) -> list:
    """The voucher whose number (id) is typed, if the user may see it."""
    number = words[0].lstrip("№") if words else ""
    if not (number.isdigit() and len(number) < 18):
        return [false()]
    visible = visible_vouchers(current())
    return [Voucher.id == int(number), *([] if visible is None else [visible])]


def _attachment_where(words: list[str], dates) -> list:
    """Attachments of the patients PATIENT_LOOKUP finds."""
    patients = select(Patient.id).where(*patient_where(words, dates))
    return [Attachment.patient_id.in_(patients.scalar_subquery())]


DIAGNOSIS_LOOKUP = Lookup(Diagnosis, _diagnosis_where, lambda: [Diagnosis.code])
VOUCHER_LOOKUP = Lookup(Voucher, _voucher_where, lambda: [Voucher.id])
ATTACHMENT_LOOKUP = Lookup(Attachment, _attachment_where, lambda: [Attachment.valid_from],
                           needs=("can_list", "PatientView"))


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

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        """Open the add form with the patient of the card it came from (?patient=id),
        if the user may see that patient."""
        wanted = request.args.get("patient", type=int) if request.method == "GET" else None
        if wanted is not None and abs(wanted) < 2**31:
            form.patient.data = self._session().scalar(select(Patient).where(
                Patient.id == wanted, row_clause(Patient, current().scope)))
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    @fab_action("recalculate", _l("Пересчитать талоны"),
                _l("Пересчитать цены и плательщиков выбранных талонов?"), "fa-refresh",
                single=False)
    def recalculate(self, items):
        """Re-price the chosen vouchers in one transaction and say what changed."""
        session = self._session()
        try:
            done = recalculate(session, items, current(), current().user_id)
            session.commit()
        except UchetError as exc:
            session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(f"{type(self).__name__}.list"))
        flash(_("Пересчитано: изменено строк %(c)s, без изменений %(u)s; оплаченные, "
                "выставленные в счёт и отменённые не пересчитываются: %(k)s",
                c=done.changed, u=done.unchanged, k=done.kept), "success")
        for reason in done.skipped:
            flash(reason, "warning")
        return redirect(url_for(f"{type(self).__name__}.list"))

    @fab_action("change_doctor", _l("Изменить врача"), "", "fa-user-md", single=False)
    def change_doctor_action(self, items):
        """Ask for the doctor to set on the chosen vouchers."""
        return self._doctor_page(items)

    def _doctor_page(self, items, status=200):
        doctors = self._session().scalars(
            select(Employee).where(Employee.is_doctor.is_(True), Employee.active.is_(True),
                                   row_clause(Employee, current().scope))
            .order_by(Employee.last_name, Employee.first_name)).all()
        return self.render_template("uchet/voucher_doctor.html", items=items,
                                    doctors=doctors), status

    @expose("/change-doctor", methods=["POST"])
    @has_access
    @permission_name("edit")
    def change_doctor(self):
        """Set the chosen doctor on the vouchers, all or nothing."""
        session = self._session()
        items = self._scoped_items(request.form.getlist("rowid"))
        doctor = session.scalar(select(Employee).where(
            Employee.id == request.form.get("doctor", type=int),
            row_clause(Employee, current().scope)))
        try:
            if doctor is None:
                raise ValidationError(_("Выберите врача из списка"))
            changed = change_doctor(session, items, doctor, current(), current().user_id)
            session.commit()
        except UchetError as exc:
            session.rollback()
            flash(str(exc), "danger")
            return self._doctor_page(self._scoped_items(request.form.getlist("rowid")), 400)
        flash(_("Врач «%(d)s» указан в талонах: %(n)s", d=doctor, n=changed), "success")
        return redirect(url_for(f"{type(self).__name__}.list"))


class VoucherLineScreen(LookupMixin, RefBookView):
    """Voucher lines: the voucher and the attachment are chosen by search."""

    lookups = {"voucher": VOUCHER_LOOKUP, "attachment": ATTACHMENT_LOOKUP}


CONFIRM = BooleanField(_l("Подтверждаю"), description=_l(
    "Отметьте, чтобы сохранить, несмотря на предупреждения"))
# No label: the row stays empty; the value travels with the form (concurrent edits).
VERSION = IntegerField("", widget=HiddenInput())
PAYER_FIELD = SelectField(_l("Плательщик"), choices=[("", _l("Определить автоматически")),
                                                     *PAYER_KINDS.items()])
STATE_FIELD = SelectField(_l("Состояние"), choices=list(LINE_STATES.items()),
                          default="rendered")

VOUCHER_FIELD = RemoteSelectField(_l("Талон"), model=Voucher, view_name="VoucherLineView",
                                  placeholder=_l("Номер талона"))
ATTACHMENT_FIELD = RemoteSelectField(_l("Прикрепление"), model=Attachment,
                                     view_name="VoucherLineView")
LINE_FIELDS = {"voucher": VOUCHER_FIELD, "attachment": ATTACHMENT_FIELD,
               "payer_kind": PAYER_FIELD, "state": STATE_FIELD, "confirm": CONFIRM}

LINE_BOOK = RefBook(
    VoucherLine, RIGHT, "VoucherLines", "documents",
    ("voucher", "service", "quantity", "price", "discount", "amount", "payer_kind",
     "attachment", "state"),
    edit_columns=("voucher", "service", "quantity", "price_type", "price", "discount",
                  "payer_kind", "attachment", "contract", "state"),
    search_columns=("service", "state", "payer_kind", "service_date"),
    order=("id", "asc"), icon="fa-list", count_cap=COUNT_CAP,
    eager=("attachment.patient", "attachment.programme"),  # an attachment reads as both
    optional=("price", "discount", "payer_kind", "state"),
    formatters={"payer_kind": choice_label(PAYER_KINDS), "state": choice_label(LINE_STATES)},
    base_filters=(("id", FilterOthersLines, None),),
    validate=check_voucher_line, delete_rule=check_line_removal, view_base=VoucherLineScreen,
    permission_levels=LINE_LEVELS, form_only=("confirm",),
    extra={"add_form_extra_fields": LINE_FIELDS,
           "edit_form_extra_fields": dict(LINE_FIELDS)})
LINES = build(LINE_BOOK)

PATIENT_FIELD = RemoteSelectField(_l("Пациент"), model=Patient, view_name="VoucherView")
DIAGNOSIS_FIELD = RemoteSelectField(_l("Диагноз МКБ-10"), model=Diagnosis,
                                    view_name="VoucherView",
                                    placeholder=_l("Начните вводить код или название"))
KIND_FIELD = SelectField(_l("Вид талона"), choices=list(VOUCHER_KINDS.items()),
                         default="regular")

VOUCHER_FIELDS = {"patient": PATIENT_FIELD, "diagnosis": DIAGNOSIS_FIELD, "kind": KIND_FIELD,
                  "version": VERSION, "confirm": CONFIRM}

VOUCHER_BOOK = RefBook(
    Voucher, RIGHT, "Vouchers", "documents",
    ("service_date", "branch", "patient", "doctor", "kind", "total", "line_count"),
    edit_columns=("service_date", "kind", "branch", "department", "doctor", "nurse",
                  "patient", "diagnosis", "referring_unit", "contract", "note", "version"),
    search_columns=("service_date", "branch", "department", "doctor", "kind", "total"),
    order=("service_date", "desc"), icon="fa-ticket", count_cap=COUNT_CAP,
    optional=("branch",),  # «Автоматически подставлять филиал по прикреплению»
    formatters={"kind": choice_label(VOUCHER_KINDS)},
    base_filters=(("id", FilterOthersVouchers, None),),
    validate=check_voucher, delete_rule=check_voucher_removal, view_base=VoucherScreen,
    api_base=VoucherApi, form_only=("confirm",),
    # The yes/no rights of the seed decide, in the service; «изменение» opens the actions.
    permission_levels={"recalculate": "edit", "change_doctor": "edit"},
    extra={"related_views": [LINES[0]],
           "add_form_extra_fields": VOUCHER_FIELDS,
           "edit_form_extra_fields": dict(VOUCHER_FIELDS)})

register_refbook(VOUCHER_BOOK)
register_refbook(LINE_BOOK, LINES)
