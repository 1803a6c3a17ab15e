"""Направления: referrals of patients to services, and «Сформировать талоны», which
forms prepaid vouchers from the ticked referrals (one per patient, branch and date),
priced and paid for by the same rules as a voucher typed by hand.

The list is governed by «Редактирование остальных талонов» (the seed names «Объект
Направления, кнопка Сформировать талоны» under it); forming needs the flag
«Создание предоплатных талонов из ЭМК» and the «создание» level of «Редактирование
талонов из ЭМК», since the vouchers formed are EMR vouchers.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action as fab_action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ConfirmationRequired
from models.patients import Patient
from models.referrals import Referral
from models.staff import Diagnosis
from security.effective import current
from services.vouchers.prepaid import check_referral_delete, check_referral_save, form_vouchers
from views.base import screen_command
from views.contracts.patients import PATIENT_LOOKUP
from views.lookup import LookupMixin, RemoteSelectField
from views.refbook import RefBook, RefBookView, build, register_refbook
from views.vouchers.common import DIAGNOSIS_LOOKUP, RIGHT, confirmed

#: Changing these on a referral already formed would part it from its voucher.


def check_referral(session, referral: Referral) -> None:
    """Save rule of a referral (see services.vouchers.prepaid.check_referral_save)."""
    check_referral_save(session, referral, current())


class ReferralScreen(LookupMixin, RefBookView):
    """Referrals: patient and diagnosis by search; «Сформировать талоны» on ticked rows."""

    lookups = {"patient": PATIENT_LOOKUP, "diagnosis": DIAGNOSIS_LOOKUP}

    @fab_action("form_vouchers", _l("Сформировать талоны"),
                _l("Сформировать предоплатные талоны по выбранным направлениям?"),
                "fa-ticket", single=False)
    def form_vouchers_action(self, items):
        """Form prepaid vouchers from the ticked referrals."""
        return self._form(items, confirm=False)

    @expose("/form-vouchers", methods=["POST"])
    @has_access
    # The list's permission, as the button's level is "view": the EMR rights decide.
    @permission_name("list")
    def form_confirmed(self):
        """Form the vouchers again, the user having confirmed the warnings."""
        return self._form(self._scoped_items(request.form.getlist("rowid")),
                          confirm=confirmed())

    def _form(self, items, confirm: bool):
        session = self._session()
        rights = current()
        listing = redirect(url_for(f"{type(self).__name__}.list"))

        def done(formed):
            flash(_("Сформировано предоплатных талонов: %(n)s (%(v)s)",
                    n=len(formed.vouchers), v=", ".join(str(v) for v in formed.vouchers)),
                  "success")
            return listing

        def again(exc):
            # Nothing is kept until the warnings are confirmed on the next page.
            if isinstance(exc, ConfirmationRequired):
                return self.render_template("uchet/referral_confirm.html", items=items,
                                            warnings=exc.warnings)
            flash(str(exc), "danger")
            return listing

        return screen_command(
            lambda: form_vouchers(session, items, rights, rights.user_id, confirmed=confirm),
            session, done=done, again=again, flash_refusal=False)


PATIENT_FIELD = RemoteSelectField(_l("Пациент"), model=Patient, view_name="ReferralView")
DIAGNOSIS_FIELD = RemoteSelectField(_l("Диагноз МКБ-10"), model=Diagnosis,
                                    view_name="ReferralView",
                                    placeholder=_l("Начните вводить код или название"))
FIELDS = {"patient": PATIENT_FIELD, "diagnosis": DIAGNOSIS_FIELD}

REFERRAL_BOOK = RefBook(
    Referral, RIGHT, "Referrals", "documents",
    ("issued_on", "appointment_date", "branch", "patient", "service", "quantity", "doctor"),
    edit_columns=("issued_on", "appointment_date", "branch", "patient", "service", "quantity",
                  "doctor", "diagnosis", "note"),
    search_columns=("issued_on", "appointment_date", "branch", "service", "doctor"),
    # Whether it was formed, not into which voucher (another user's may be hidden).
    view_columns=("formed",), labels={"formed": _l("Талон")},
    order=("issued_on", "desc"), icon="fa-share-square-o", count_cap=10_000,
    validate=check_referral, delete_rule=check_referral_delete, view_base=ReferralScreen,
    # Reading the referrals is enough to reach the button; the EMR rights decide.
    permission_levels={"form_vouchers": "view"},
    extra={"add_form_extra_fields": FIELDS, "edit_form_extra_fields": dict(FIELDS)})

register_refbook(REFERRAL_BOOK, build(REFERRAL_BOOK))
