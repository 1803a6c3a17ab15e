"""Личный кабинет / Направительные бланки: download a blank form as PDF, or fill it
online and get the filled form as a PDF to print. Forms: services.cabinet.forms.
"""

from __future__ import annotations

from flask import Response, abort, request
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import lazy_gettext as _l

from security.effective import current
from services.cabinet import requests as cabinet_requests
from services.cabinet.forms import FORMS, SEXES, check, render
from views.base import screen_command
from views.cabinet.requests import form_int
from views.registry import register

PDF_MIME = "application/pdf"


def _form(code: str):
    form = FORMS.get(code)
    if form is None:
        abort(404)
    return form


def _pdf(body: bytes, name: str, inline: bool) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(body, mimetype=PDF_MIME,
                    headers={"Content-Disposition": f"{disposition}; filename={name}"})


class ReferralFormsView(BaseView):
    """The forms, each as a blank PDF and as an online form."""

    route_base = "/cabinet/forms"
    default_view = "show"
    governing_right = "cabinet.referral_forms"
    base_permissions = ["can_show"]

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The list of forms."""
        return self.render_template("uchet/cabinet_forms.html", forms=FORMS.values())

    @expose("/<code>.pdf", methods=["GET"])
    @has_access
    @permission_name("show")
    def blank(self, code: str):
        """A blank form to print and fill by hand."""
        return _pdf(render(_form(code)), f"blank_{code}.pdf", inline=False)

    @expose("/<code>/fill", methods=["GET", "POST"])
    @has_access
    @permission_name("show")
    def fill(self, code: str):
        """The online form; a correct submission answers with the filled PDF."""
        form = _form(code)
        session = self.appbuilder.session
        offices = cabinet_requests.offices(session, current())
        if request.method == "POST":
            def filled():
                office = cabinet_requests.office(session, current(), form_int("unit"))
                return check(form, request.form, office.name)

            return screen_command(
                filled, done=lambda values: _pdf(render(form, values), f"referral_{code}.pdf",
                                                 inline=True),
                again=lambda _exc: (self.render_template(
                    "uchet/cabinet_form_fill.html", form=form, offices=offices, sexes=SEXES,
                    values=request.form), 400))
        return self.render_template("uchet/cabinet_form_fill.html", form=form,
                                    offices=offices, sexes=SEXES, values=None)


register(ReferralFormsView, name="CabinetReferralForms", label=_l("Направительные бланки"),
         category="cabinet", icon="fa-file-pdf-o")
