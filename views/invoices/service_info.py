"""«Информация об оказанных пациенту услугах» (its own right), opened from the
patient card and the voucher card."""

from __future__ import annotations

from flask_appbuilder import BaseView, expose, has_access, permission_name

from models.invoices import INVOICE_STATES, PAYMENT_STATES
from models.vouchers import LINE_STATES, PAYER_KINDS
from security.effective import current
from services.contracts.rules import money
from services.invoices.service_info import patient_services
from views.registry import register

#: The invoice list of each kind, for the link to an invoice's card.
CARDS = {"patient": "PatientInvoiceView", "organisation": "OrganisationInvoiceView",
         "individual": "IndividualInvoiceView"}


class PatientServicesView(BaseView):
    """Every service of a patient with its voucher, payer, invoice and payment."""

    route_base = "/patient-services"
    governing_right = "service_info.view"
    base_permissions = ["can_show"]
    default_view = "show"

    @expose("/<int:patient_id>", methods=["GET"])
    @has_access
    @permission_name("show")
    def show(self, patient_id: int):
        """The page of one patient (404 outside the scope)."""
        patient, rows = patient_services(self.appbuilder.session, current(), patient_id)
        return self.render_template(
            "uchet/patient_services.html", patient=patient, rows=rows, money=money,
            line_states=LINE_STATES, payer_kinds=PAYER_KINDS, invoice_states=INVOICE_STATES,
            payment_states=PAYMENT_STATES, cards=CARDS)


register(PatientServicesView)
