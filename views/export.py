"""«Экспорт в бухгалтерию»: one screen per kind of export (cash revenue, invoices to
counterparties), each governed by its right of the section — «просмотр» opens the
screen, its log and the files, «создание» starts an export (POST). The form takes the
period (ДД.ММ.ГГГГ), a branch of the user's scope and the format; the export runs as a
job of the import framework (progress, cancel) and lands in the log below the form."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, g, redirect, request, stream_with_context, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from app.extensions import db
from core.errors import Forbidden
from models.exports import EXPORT_FORMATS, KIND_RIGHTS
from security.effective import current
from services.export import jobs as export_jobs
from services.export import log as export_log
from services.export import run as export_run
from services.imports.framework import jobs
from views.base import screen_command
from views.imports.screens import STATE_LABELS, job_status
from views.registry import register

TITLES = {"cash": _l("Экспорт в бухгалтерию: выручка по кассе"),
          "invoices": _l("Экспорт в бухгалтерию: счета контрагентам")}
MIMETYPES = {"xml": "application/xml",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _month() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


class ExportScreen(BaseView):
    """The form, the job page and the log of one kind of export (`kind`)."""

    default_view = "index"
    kind: str = ""
    method_permission_name = {"index": "get", "job": "get", "status": "get",
                              "download": "get", "start": "post", "cancel": "post"}

    @expose("/")
    @has_access
    def index(self):
        """The form (period, branch, format) and the log of past exports."""
        start, end = _month()
        return self._form({"start": start, "end": end, "fmt": "xml"})

    def _form(self, typed: dict, status: int = 200):
        rights = current()
        return self.render_template(
            "uchet/export.html", title=self._title(), kind=self.kind, typed=typed,
            branches=export_run.branches(db.session, rights), formats=EXPORT_FORMATS,
            may_start=rights.allows(KIND_RIGHTS[self.kind], "create"),
            entries=export_log.entries(db.session, rights, self.kind)), status

    def _title(self) -> str:
        return str(TITLES[self.kind])

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):
        """Check the request and start the export job; a refusal shows the form again."""
        typed = {name: request.form.get(name, "") for name in ("start", "end", "fmt",
                                                               "branch_id")}

        def checked():
            req = export_run.typed_request(self.kind, **typed)
            export_run.check(db.session, current(), req)
            return req

        def started(req):
            # The job is a unit of work of its own (inline under testing), never run
            # inside the check's transaction.
            return redirect(url_for(".job", job_id=export_jobs.submit(req, g.user.id)))

        def again(exc):
            flash(str(exc), "danger")
            return self._form(typed, 403 if isinstance(exc, Forbidden) else 400)

        return screen_command(checked, done=started, again=again, flash_refusal=False)

    @expose("/job/<job_id>")
    @has_access
    def job(self, job_id):
        """Progress while the export runs, then its result and the file."""
        state = self._state(job_id)
        entry = None
        if state.get("log_id"):
            entry = export_log.entry(db.session, current(), state["log_id"], self.kind)
        return self.render_template("uchet/export_job.html", title=self._title(),
                                    job_id=job_id, state=state, labels=STATE_LABELS,
                                    entry=entry, formats=EXPORT_FORMATS)

    @expose("/job/<job_id>/status")
    @has_access
    def status(self, job_id):
        """JSON for the progress bar (the imports' answer)."""
        return job_status(self._state(job_id))

    @expose("/job/<job_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, job_id):
        """Stop the export: nothing of it is kept."""
        self._state(job_id)
        jobs.cancel(job_id, g.user.id)
        return redirect(url_for(".job", job_id=job_id))

    @expose("/download/<int:log_id>")
    @has_access
    def download(self, log_id):
        """The file of a past export, streamed piece by piece."""
        # Out of scope or another kind: NotFound, answered 404 by app.errors.
        entry = export_log.entry(db.session, current(), log_id, self.kind)
        session = db.session
        body = stream_with_context(export_run.chunks(session, entry.id))
        response = Response(body, mimetype=MIMETYPES[entry.fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="{entry.filename}"'
        response.headers["Content-Length"] = str(entry.size)
        return response

    def _state(self, job_id: str) -> dict:
        state = jobs.status(job_id, g.user.id)
        if state is None or state.get("kind") != export_jobs.job_kind(self.kind):
            abort(404)
        return state


class ExportCashView(ExportScreen):
    """«Экспорт в бухгалтерию: выручка по кассе»."""

    route_base = "/export/cash"
    kind = "cash"
    governing_right = KIND_RIGHTS["cash"]


class ExportInvoicesView(ExportScreen):
    """«Экспорт в бухгалтерию: счета контрагентам»."""

    route_base = "/export/invoices"
    kind = "invoices"
    governing_right = KIND_RIGHTS["invoices"]


for _view in (ExportCashView, ExportInvoicesView):
    register(_view, name=_view.__name__, label=TITLES[_view.kind], category="documents",
             icon="fa-share-square-o")
