"""The invoices' REST API: read like any list (scope, kind filter), and act only
through the commands: POST `/make`, `/<id>/confirm`, `/<id>/edit`, `/<id>/cancel`,
`/<id>/storno`, `/<id>/lines/<line>/remove`. FAB's generic POST, PUT and DELETE
are not routed: an invoice is never written field by field."""

from __future__ import annotations

from flask import request
from flask_appbuilder import expose, permission_name
from flask_appbuilder.api import protect

from security.effective import current
from services.admin.params import typed_day
from services.boundary import transaction
from services.invoices import lifecycle
from services.invoices.create import invoice_contract, invoice_patient
from views.refbook import RefBookApi


def _as_json(invoice) -> dict:
    return {"id": invoice.id, "kind": invoice.kind, "state": invoice.state,
            "number": invoice.number, "invoice_date": invoice.invoice_date.isoformat(),
            "total": str(invoice.total), "paid_amount": str(invoice.paid_amount),
            "storno_of_id": invoice.storno_of_id, "version": invoice.version}


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


def _key(value):
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and abs(value) < 2**31 else None


class InvoiceApi(RefBookApi):
    """Read an invoice kind; make, confirm, cancel, reverse through the commands."""

    include_route_methods = {"get", "get_list", "info", "get_no_such_key", "make",
                             "confirm", "cancel", "storno", "remove_line", "edit_header"}

    @property
    def invoice_kind(self) -> str:
        """Return the kind this API serves (its declaration's kind filter)."""
        return self.refbook.base_filters[0][2]

    def _act(self, fn):
        with transaction(self._session()):
            invoice = fn()
            answer = _as_json(invoice)
        return self.response(200, **{"result": answer})

    @expose("/make", methods=["POST"])
    @protect()
    @permission_name("post")
    def make(self):
        """Make a draft invoice: {"patient", "lines"?} or {"contract", "period_from",
        "period_to"}, with "invoice_date"? and "note"?."""
        body, rights, session = _body(), current(), self._session()
        date = typed_day(_text(body, "invoice_date")) if body.get("invoice_date") else None
        if self.invoice_kind == "patient":
            lines = body.get("lines")
            ids = [v for v in lines if _key(v)] if isinstance(lines, list) else None
            return self._act(lambda: invoice_patient(
                session, rights, patient_id=_key(body.get("patient")), invoice_date=date,
                line_ids=ids, note=_text(body, "note")))
        return self._act(lambda: invoice_contract(
            session, rights, contract_id=_key(body.get("contract")),
            period_from=typed_day(_text(body, "period_from")),
            period_to=typed_day(_text(body, "period_to")), invoice_date=date,
            note=_text(body, "note"), kind=self.invoice_kind))

    def _mine(self, pk):
        from services.invoices.rules import get_invoice

        get_invoice(self._session(), pk, current(), kind=self.invoice_kind)

    @expose("/<int:pk>/confirm", methods=["POST"])
    @protect()
    @permission_name("put")
    def confirm(self, pk):
        """Confirm a draft (gives its number)."""
        self._mine(pk)
        return self._act(lambda: lifecycle.confirm(self._session(), current(), pk,
                                                   version=_body().get("version")))

    @expose("/<int:pk>/edit", methods=["POST"])
    @protect()
    @permission_name("put")
    def edit_header(self, pk):
        """Change the note ({"note"}) and a draft's date ({"invoice_date"})."""
        self._mine(pk)
        body = _body()
        day = typed_day(_text(body, "invoice_date")) if body.get("invoice_date") else None
        return self._act(lambda: lifecycle.edit_header(
            self._session(), current(), pk, note=body.get("note") if isinstance(
                body.get("note"), str) else None, invoice_date=day,
            version=body.get("version")))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @permission_name("put")
    def cancel(self, pk):
        """Cancel an invoice ({"reason"} for a confirmed one)."""
        self._mine(pk)
        return self._act(lambda: lifecycle.cancel(self._session(), current(), pk,
                                                  reason=_text(_body(), "reason"),
                                                  version=_body().get("version")))

    @expose("/<int:pk>/storno", methods=["POST"])
    @protect()
    @permission_name("put")
    def storno(self, pk):
        """Reverse a confirmed invoice ({"reason"}); answers the reversing invoice."""
        self._mine(pk)
        return self._act(lambda: lifecycle.storno(self._session(), current(), pk,
                                                  reason=_text(_body(), "reason"),
                                                  version=_body().get("version")))

    @expose("/<int:pk>/lines/<int:line_id>/remove", methods=["POST"])
    @protect()
    @permission_name("put")
    def remove_line(self, pk, line_id):
        """Take a line out of the invoice ({"reason"} for a confirmed one)."""
        self._mine(pk)
        return self._act(lambda: lifecycle.remove_line(self._session(), current(), pk, line_id,
                                                       reason=_text(_body(), "reason"),
                                                       version=_body().get("version")))
