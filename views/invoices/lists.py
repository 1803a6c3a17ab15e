"""The invoice lists (one per kind), their invoicing forms and their REST APIs,
declared as `RefBook`s and registered under «Документы»."""

from __future__ import annotations

from flask import abort, redirect, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l

from models.invoices import INVOICE_KINDS, INVOICE_STATES, Invoice
from security.effective import current
from services.admin.params import typed_day
from services.contracts.rules import money
from services.invoices import card
from services.invoices.create import invoice_contract, invoice_patient
from views.base import screen_command
from views.contracts.patients import patient_where
from views.formatters import choice_label
from views.invoices.api import InvoiceApi
from views.invoices.screens import InvoiceScreen
from views.lookup import split_query
from views.refbook import RefBook, register_refbook


class PatientInvoiceScreen(InvoiceScreen):
    """Invoices to patients; «Выставить счёт» from the patient or voucher card."""

    invoice_kind = "patient"

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """Find the patient, tick his owed services, make the draft invoice."""
        session, rights = self._session(), current()
        patient = card.find_patient(session, rights, request.values.get("patient", type=int))
        if patient is None:
            if request.values.get("patient"):
                abort(404)
            text = request.args.get("q", "")[:100]
            words, dates = split_query(text)
            found = card.search_patients(session, rights, patient_where(words, dates)) \
                if text.strip() else card.patients_owing(session, rights)
            return self.render_template("uchet/invoice_new_patient.html", patient=None,
                                        found=found, q=text, view=type(self).__name__)

        def page(status=200):
            lines = card.owed_patient_lines(session, patient.id, rights)
            return self.render_template(
                "uchet/invoice_new_patient.html", patient=patient, lines=lines, money=money,
                form=request.form, view=type(self).__name__), status

        if request.method == "GET":
            return page()
        ticked = [v for v in request.form.getlist("line") if v.isdecimal() and len(v) < 10]
        return screen_command(
            lambda: invoice_patient(session, rights, patient_id=patient.id,
                                    invoice_date=typed_day(request.form.get("invoice_date", "")),
                                    line_ids=[int(v) for v in ticked],
                                    note=request.form.get("note")),
            session, done=lambda invoice: redirect(self._card_url(invoice.id)),
            again=lambda _exc: page(400))


class ContractInvoiceScreen(InvoiceScreen):
    """Invoices by contract and period (organisations, insurers, individuals)."""

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """«Счёт по договору за период»: the contract, the period, the date."""
        session, rights = self._session(), current()

        def page(status=200):
            return self.render_template(
                "uchet/invoice_new_contract.html", view=type(self).__name__, form=request.values,
                contracts=card.invoiceable_contracts(session, rights, self.invoice_kind)), status

        if request.method == "GET":
            return page()
        raw = request.form.get("contract", "")
        contract_id = int(raw) if raw.isdecimal() and len(raw) < 10 else None
        return screen_command(
            lambda: invoice_contract(
                session, rights, contract_id=contract_id,
                period_from=typed_day(request.form.get("period_from", "")),
                period_to=typed_day(request.form.get("period_to", "")),
                invoice_date=typed_day(request.form.get("invoice_date", "")),
                note=request.form.get("note"), kind=self.invoice_kind),
            session, done=lambda invoice: redirect(self._card_url(invoice.id)),
            again=lambda _exc: page(400))


class OrganisationInvoiceScreen(ContractInvoiceScreen):
    """Invoices to organisations and insurers."""

    invoice_kind = "organisation"


class IndividualInvoiceScreen(ContractInvoiceScreen):
    """Invoices to individuals."""

    invoice_kind = "individual"


FORMATTERS = {"state": choice_label(INVOICE_STATES), "kind": choice_label(INVOICE_KINDS)}
LABELS = {"number": _l("Номер"), "payer": _l("Плательщик")}
SEARCH = ("invoice_date", "state", "branch", "total", "number_seq")


def _book(kind, right, name, label, columns, search, screen, icon):
    return RefBook(
        Invoice, right, name, "documents", columns, label=label, stem=name,
        base_filters=(("kind", FilterEqual, kind),),
        search_columns=search, order=("invoice_date", "desc"), icon=icon,
        view_columns=("payer",), labels=LABELS, formatters=FORMATTERS,
        view_base=screen, api_base=InvoiceApi,
        permission_levels={"confirm_selected": "edit"},
        extra={"list_columns": ["number", *columns, "payer"],
               "order_columns": ["invoice_date", "total", "paid_amount", "state"]})


PATIENT_COLUMNS = ("invoice_date", "branch", "patient", "state", "total", "paid_amount")
CONTRACT_COLUMNS = ("invoice_date", "branch", "contract", "period_from", "period_to", "state",
                    "total", "paid_amount")

PATIENT_INVOICES = register_refbook(_book(
    "patient", "invoice.patients", "PatientInvoice", _l("Счета пациентам"), PATIENT_COLUMNS,
    (*SEARCH, "patient"), PatientInvoiceScreen, "fa-file-text"))
ORGANISATION_INVOICES = register_refbook(_book(
    "organisation", "invoice.organisations", "OrganisationInvoice",
    _l("Счета организациям и страховым компаниям"), CONTRACT_COLUMNS,
    (*SEARCH, "contract", "period_from", "period_to"), OrganisationInvoiceScreen, "fa-building"))
INDIVIDUAL_INVOICES = register_refbook(_book(
    "individual", "invoice.individuals", "IndividualInvoice", _l("Счета физическим лицам"),
    CONTRACT_COLUMNS, (*SEARCH, "contract", "period_from", "period_to"),
    IndividualInvoiceScreen, "fa-user"))
