"""The invoice screens: one list, card and API per invoice kind (each governed by its
access right: «Счета пациентам», «… организациям и страховым компаниям», «…
физическим лицам»), built from one mixin.

The card is the document: header, lines with the total, and the actions the user
may take (services.invoices.card.allowed_actions); each action runs its command
(services.invoices.lifecycle), which checks the rights again. Invoices are made
by commands, never by FAB's generic forms: `add` is the invoicing form, `edit`
opens the card, and there is no delete (a draft is cancelled).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action as fab_action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.invoices import INVOICE_KINDS, INVOICE_STATES, PAYMENT_STATES
from security.effective import current
from services.admin.params import typed_day
from services.contracts.rules import money
from services.invoices import lifecycle
from services.invoices.card import allowed_actions, card_lines
from services.invoices.printing import invoice_pdf, register_xlsx
from services.invoices.rules import get_invoice
from services.money.invoices import invoice_payments
from views.base import screen_command
from views.refbook import XLSX_MIME, RefBookView


class InvoiceScreen(RefBookView):
    """List and card of one invoice kind (`invoice_kind`)."""

    invoice_kind = "patient"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_export"]
    exclude_route_methods = {"download", "delete"}

    def _card_url(self, pk) -> str:
        return url_for(f"{type(self).__name__}.show", pk=pk)

    def _invoice(self, pk, write: bool = False):
        """Return the invoice of this screen's kind the user may read; 404 otherwise."""
        return get_invoice(self._session(), pk, current(), write=write, kind=self.invoice_kind)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The invoice as a document."""
        invoice = self._invoice(pk)
        rights = current()
        return self.render_template(
            "uchet/invoice_card.html", invoice=invoice, lines=card_lines(self._session(), invoice),
            actions=allowed_actions(invoice, rights), money=money, kinds=INVOICE_KINDS,
            states=INVOICE_STATES, payment_states=PAYMENT_STATES, view=type(self).__name__,
            payments=invoice_payments(self._session(), rights, invoice.id))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """Change the note (and a draft's date) from the card."""
        if request.method == "GET":
            return redirect(self._card_url(pk))
        self._invoice(pk)
        return self._run(pk, lambda: lifecycle.edit_header(
            self._session(), current(), pk, note=request.form.get("note"),
            invoice_date=typed_day(request.form.get("invoice_date", "")),
            version=request.form.get("version")), _("Счёт сохранён"))

    def _run(self, pk, command, success: str, target=None):
        back = redirect(self._card_url(pk))

        def done(result):
            flash(success, "success")
            return redirect(self._card_url(target(result) if target else pk))

        return screen_command(command, self._session(), done=done, again=lambda _exc: back)

    @expose("/confirm/<pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def confirm(self, pk):
        """Confirm a draft: it gets its number."""
        self._invoice(pk)
        return self._run(pk, lambda: lifecycle.confirm(
            self._session(), current(), pk, version=request.form.get("version")),
            _("Счёт подтверждён"))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def cancel(self, pk):
        """Cancel the invoice (its services may be invoiced again)."""
        self._invoice(pk)
        return self._run(pk, lambda: lifecycle.cancel(
            self._session(), current(), pk, reason=request.form.get("reason"),
            version=request.form.get("version")), _("Счёт отменён"))

    @expose("/storno/<pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def storno(self, pk):
        """Reverse a confirmed invoice; opens the reversing invoice."""
        self._invoice(pk)
        return self._run(pk, lambda: lifecycle.storno(
            self._session(), current(), pk, reason=request.form.get("reason"),
            version=request.form.get("version")), _("Счёт сторнирован"),
            target=lambda reverse: reverse.id)

    @expose("/remove-line/<pk>/<line_id>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def remove_line(self, pk, line_id):
        """Take a service out of the invoice."""
        self._invoice(pk)
        if not line_id.isdecimal() or int(line_id) >= 2**31:
            abort(404)
        return self._run(pk, lambda: lifecycle.remove_line(
            self._session(), current(), pk, int(line_id), reason=request.form.get("reason"),
            version=request.form.get("version")), _("Услуга удалена из счёта"))

    @expose("/pdf/<pk>", methods=["GET"])
    @has_access
    @permission_name("show")
    def pdf(self, pk):
        """The printed invoice."""
        invoice = self._invoice(pk)
        return Response(invoice_pdf(self._session(), invoice), mimetype="application/pdf",
                        headers={"Content-Disposition":
                                 f"inline; filename=invoice_{invoice.id}.pdf"})

    @expose("/register/<pk>", methods=["GET"])
    @has_access
    @permission_name("show")
    def register(self, pk):
        """The register of services of the invoice (XLSX)."""
        invoice = self._invoice(pk)
        return Response(register_xlsx(self._session(), invoice), mimetype=XLSX_MIME,
                        headers={"Content-Disposition":
                                 f"attachment; filename=register_{invoice.id}.xlsx"})

    @fab_action("confirm_selected", _l("Подтвердить счета"),
                _l("Подтвердить выбранные счета?"), "fa-check", single=False)
    def confirm_selected(self, items):
        """Confirm the ticked drafts, all or none."""
        back = redirect(url_for(f"{type(self).__name__}.list"))
        session, rights = self._session(), current()

        def confirm_all():
            return [lifecycle.confirm(session, rights, item.id) for item in items]

        def done(confirmed):
            flash(_("Подтверждено счетов: %(n)s", n=len(confirmed)), "success")
            return back

        return screen_command(confirm_all, session, done=done, again=lambda _exc: back)
