"""Личный кабинет / Документы: the client's contracts, monthly acts and invoices, as PDFs.
Rules and figures: services.cabinet.documents.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import lazy_gettext as _l

from models.invoices import INVOICE_STATES, PAYMENT_STATES
from security.effective import current
from services.cabinet import documents as docs
from services.cabinet import requests as cabinet_requests
from services.cabinet.stats import COST_RIGHT
from services.contracts.rules import money
from services.invoices.printing import invoice_pdf
from views.base import screen_command
from views.registry import register


def _pdf(body: bytes, name: str) -> Response:
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


class DocumentsView(BaseView):
    """Contracts, and with the cost right acts and invoices."""

    route_base = "/cabinet/documents"
    default_view = "show"
    governing_right = "cabinet.documents"
    base_permissions = ["can_show"]

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        """The documents the user may download."""
        session, rights = self.appbuilder.session, current()
        with_cost = rights.allows(COST_RIGHT)
        return self.render_template(
            "uchet/cabinet_documents.html", contracts=docs.client_contracts(session, rights),
            acts=docs.acts(session, rights) if with_cost else None, money=money,
            invoices=docs.client_invoices(session, rights) if with_cost else None,
            invoice_states=INVOICE_STATES, payment_states=PAYMENT_STATES,
            today=dt.date.today())

    @expose("/invoice/<int:pk>.pdf", methods=["GET"])
    @has_access
    @permission_name("show")
    def invoice(self, pk: int):
        """An invoice to the user's client, as printed; 404 for any other."""
        session = self.appbuilder.session
        found = docs.client_invoice(session, current(), pk)
        if found is None:
            abort(404)
        return _pdf(invoice_pdf(session, found), f"invoice_{pk}.pdf")

    @expose("/contract/<int:pk>.pdf", methods=["GET"])
    @has_access
    @permission_name("show")
    def contract(self, pk: int):
        """A contract of the user's client; 404 for any other."""
        found = next((c for c in docs.client_contracts(self.appbuilder.session, current())
                      if c.id == pk), None)
        if found is None:
            abort(404)
        return _pdf(docs.contract_pdf(found), f"contract_{pk}.pdf")

    @expose("/act/<int:year>-<int:month>.pdf", methods=["GET"])
    @has_access
    @permission_name("show")
    def act(self, year: int, month: int):
        """A month's act for the user's offices; 404 for a month without visits or for
        a user without the cost right."""
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            abort(404)
        session, rights = self.appbuilder.session, current()
        offices = [office.name for office in cabinet_requests.offices(session, rights)]
        return screen_command(
            lambda: docs.act_for(session, rights, dt.date(year, month, 1)),
            flash_refusal=False, again=lambda _exc: abort(404),
            done=lambda found: _pdf(docs.act_pdf(found, offices),
                                    f"act_{year}_{month:02d}.pdf"))


register(DocumentsView, name="CabinetDocuments", label=_l("Документы"), category="cabinet",
         icon="fa-folder-open")
