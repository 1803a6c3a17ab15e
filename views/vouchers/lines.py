"""Услуги талонов: a voucher's lines, with the payer, price and state the line rules
set, the department's services offered, and «Разделить оплату».
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action as fab_action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from wtforms import SelectField

from app.extensions import db
from models.patients import Attachment, Patient
from models.pricelist import Service
from models.vouchers import (
    LINE_STATES,
    PAYER_KINDS,
    Voucher,
    VoucherLine,
)
from security.effective import current
from security.scope import scoped
from services.contracts.rules import money
from services.vouchers.lines import check_line_delete, check_line_save, offered_services
from services.vouchers.split import split_to_patient
from views.base import screen_command
from views.contracts.patients import patient_where
from views.dates import NOTHING_CHOSEN
from views.formatters import choice_label
from views.lookup import Lookup, LookupMixin, RemoteSelectField
from views.refbook import RefBook, RefBookView, build
from views.vouchers.common import (
    CONFIRM,
    COUNT_CAP,
    RIGHT,
    VOUCHER_LOOKUP,
    confirmed,
)

#: Adding, changing or removing a line changes the voucher: «изменение» is enough.
LINE_LEVELS = {"can_add": "edit", "can_post": "edit", "can_delete": "edit",
               "muldelete": "edit", "can_put": "edit", "can_edit": "edit"}


def check_voucher_line(session, line: VoucherLine) -> None:
    """Save rule of a line (see services.vouchers.lines.check_line_save)."""
    rights = current()
    check_line_save(session, line, rights, confirmed=confirmed())


def check_line_removal(session, line: VoucherLine) -> None:
    """Delete rule of a line (see services.vouchers.lines.check_line_delete)."""
    check_line_delete(session, line, current())


def _attachment_where(words: list[str], dates) -> list:
    """Attachments of the patients PATIENT_LOOKUP finds."""
    patients = select(Patient.id).where(*patient_where(words, dates))
    return [Attachment.patient_id.in_(patients.scalar_subquery())]


ATTACHMENT_LOOKUP = Lookup(Attachment, _attachment_where, lambda: [Attachment.valid_from],
                           needs=("can_list", "PatientView"))


class VoucherLineScreen(LookupMixin, RefBookView):
    """Voucher lines: the voucher and the attachment are chosen by search; the services
    offered are those the save rules accept for the voucher (its department's unless
    «Показывать услуги всех отделений», its branch's under «Контролировать филиалы»)."""

    lookups = {"voucher": VOUCHER_LOOKUP, "attachment": ATTACHMENT_LOOKUP}

    @fab_action("split_payment", _l("Разделить оплату"), "", "fa-columns", multiple=False)
    def split_payment_action(self, item):
        """Ask how many units of the line the patient pays for."""
        return self._split_page(item)

    def _split_page(self, item, status=200):
        return self.render_template("uchet/voucher_split.html", item=item), status

    @expose("/split/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")  # «изменение», the level of the split action itself
    def split(self, pk):
        """Move the chosen number of units to the patient (both lines or neither)."""
        session = self._session()
        item = self._scoped_items([pk])[0]

        def done(part):
            flash(_("Оплата разделена: %(n)s ед. за счёт пациента на сумму %(s)s",
                    n=part.quantity, s=money(part.amount)), "success")
            return redirect(url_for("VoucherView.show", pk=item.voucher_id))

        return screen_command(
            lambda: split_to_patient(session, item, request.form.get("quantity", type=int),
                                     current(), current().user_id),
            session, done=done, again=lambda _exc: self._split_page(
                self._scoped_items([pk])[0], 400))

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        _offered_services(form)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        _offered_services(form)
        return super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)


def _offered_services(form) -> None:
    """Offer in the form's service field only what saving accepts for the line's
    voucher (services.vouchers.lines.offered_services), by name, nothing preselected
    on a new line; the line's own service stays offered on edit."""
    field = getattr(form, "service", None)
    if field is None:
        return
    voucher = _form_voucher(form)
    chosen = field.data
    session = db.session
    clauses = offered_services(voucher, current())
    query = select(Service).where(*clauses).order_by(Service.name)
    if chosen is not None:
        query = select(Service).where(and_(*clauses) | (Service.id == chosen.id)) \
            .order_by(Service.name)
    field.query_func = lambda: session.scalars(query).all()
    field.allow_blank = True  # required all the same (DataRequired): chosen, not defaulted
    field.blank_text = str(NOTHING_CHOSEN)
    field._object_list = None  # FAB caches the choices it read for validation


def _form_voucher(form) -> Voucher | None:
    """Return the line's voucher: the form's, or the card's the form was opened from
    (`_flt_0_voucher`, a field FAB then leaves out of the form), if the user sees it."""
    voucher = getattr(getattr(form, "voucher", None), "data", None)
    if voucher is not None:
        return voucher
    raw = request.args.get("_flt_0_voucher", "")
    if not (raw.isdecimal() and len(raw) < 10):
        return None
    return db.session.scalar(scoped(select(Voucher).where(Voucher.id == int(raw)), current()))


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
    validate=check_voucher_line, delete_rule=check_line_removal, view_base=VoucherLineScreen,
    permission_levels={**LINE_LEVELS, "split_payment": "edit"}, form_only=("confirm",),
    extra={"add_form_extra_fields": LINE_FIELDS,
           "edit_form_extra_fields": dict(LINE_FIELDS)})
LINES = build(LINE_BOOK)

