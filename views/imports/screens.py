"""The «Импорт» screens: a page listing the imports the user may run, and for each
import upload → preview → confirm → progress → result.

One screen class serves every import (`ImportScreen`); `views.imports` registers one
subclass per import declared in `services.imports.catalog`, governed by that import's
right, so the menu «Импорт» shows only what the user may run. Every run is a job
(`services.imports.framework.jobs`): on Redis workers when REDIS_URL is set, in the
web process otherwise; the page polls its JSON status for the progress bar.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from security.effective import current
from services.imports.framework import engine, jobs, reader, registry
from services.imports.framework.spec import MAX_ERRORS, PREVIEW_ROWS
from views.base import screen_command
from views.registry import register

STATE_LABELS = {
    "queued": _l("В очереди"),
    "running": _l("Выполняется"),
    "done": _l("Готово"),
    "refused": _l("Отклонено"),
    "failed": _l("Сбой"),
    "cancelled": _l("Отменено"),
}


# Imports whose menu entry is elsewhere (the price list's own page, views.imports.prices).
IN_OTHER_MENUS = frozenset({"service_prices"})


class ImportHubView(BaseView):
    """«Импорт»: every import the signed-in user may run, with its template."""

    route_base = "/imports"
    default_view = "index"

    @expose("/")
    def index(self):
        """The list of the user's imports (403 when he may run none); a visitor who
        has not signed in is sent to the sign-in page."""
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login_with(request.full_path))
        available = registry.available(current())
        if not available:
            abort(403)
        return self.render_template("uchet/imports_hub.html", specs=available,
                                    endpoint=_endpoint)


def _endpoint(spec, name: str = "index") -> str:
    return f"{screen_class_name(spec.code)}.{name}"


def screen_class_name(code: str) -> str:
    """Return the FAB view name of an import's screen."""
    return "Import" + "".join(p.capitalize() for p in code.split("_")) + "View"


class ImportScreen(BaseView):
    """Upload, preview, confirm, progress and result of one import (`spec_code`)."""

    default_view = "index"
    spec_code: str = ""
    method_permission_name = {"index": "get", "template": "get", "job": "get",
                              "status": "get", "preview": "post", "confirm": "post",
                              "cancel": "post"}

    @property
    def spec(self):
        return registry.get(self.spec_code)

    def _max_bytes(self) -> int:
        return current_app.config.get("MAX_CONTENT_LENGTH") or reader.MAX_BYTES

    @expose("/")
    @has_access
    def index(self):
        """The upload form: the columns expected, the template, the limits."""
        return self._form()

    def _form(self, status: int = 200):
        return self.render_template(
            "uchet/import_form.html", spec=self.spec,
            limit_mb=self._max_bytes() // (1024 * 1024),
            max_rows=f"{reader.MAX_ROWS:,}".replace(",", " ")), status

    @expose("/template")
    @has_access
    def template(self):
        """The XLSX template: the header row with a note on each column."""
        spec = self.spec
        data = reader.template(spec.columns, str(spec.title))
        import io

        return send_file(io.BytesIO(data), download_name=f"{spec.code}.xlsx",
                         as_attachment=True, mimetype="application/vnd.openxmlformats-"
                         "officedocument.spreadsheetml.sheet")

    @expose("/preview", methods=["POST"])
    @has_access
    def preview(self):
        """Start the check of the uploaded file (a job; nothing is written)."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Выберите файл"), "danger")
            return self._form(400)
        data = upload.read()
        filename = upload.filename[-255:]
        options = {"close_open": request.form.get("close_open") == "1"}

        def started(_none):
            # The job is a unit of work of its own (inline under testing): never
            # started inside the right check's transaction.
            job_id = jobs.submit(self.spec_code, filename, data, g.user.id, dry_run=True,
                                 options=options)
            return redirect(url_for(".job", job_id=job_id))

        return screen_command(lambda: engine.require(self.spec, current()), done=started,
                              again=lambda _exc: self._form(403))

    @expose("/job/<job_id>")
    @has_access
    def job(self, job_id):
        """The job's page: progress while it runs, then the preview or the result."""
        state = self._state(job_id)
        return self.render_template(
            "uchet/import_job.html", spec=self.spec, job_id=job_id, state=state,
            report=jobs.report_of(state), labels=STATE_LABELS, limit=PREVIEW_ROWS,
            max_errors=MAX_ERRORS)

    @expose("/job/<job_id>/status")
    @has_access
    def status(self, job_id):
        """JSON: state, rows done of total, percent, message (polled by the page)."""
        state = self._state(job_id)
        total, done = state.get("total") or 0, state.get("done") or 0
        finished = state["state"] not in jobs.ACTIVE
        return jsonify({"state": state["state"], "label": str(STATE_LABELS[state["state"]]),
                        "done": done, "total": total, "finished": finished,
                        "percent": 100 if finished else (min(99, done * 100 // total)
                                                         if total else 0),
                        "message": state.get("message") or ""})

    @expose("/job/<job_id>/confirm", methods=["POST"])
    @has_access
    def confirm(self, job_id):
        """Load the previewed file (checked again as the database is then)."""
        self._state(job_id)
        new = jobs.confirm(job_id, g.user.id)
        if new is None:
            flash(_("Файл не найден, устарел или содержит ошибки: загрузите его ещё раз"),
                  "danger")
            return redirect(url_for(".index"))
        return redirect(url_for(".job", job_id=new))

    @expose("/job/<job_id>/cancel", methods=["POST"])
    @has_access
    def cancel(self, job_id):
        """Stop the job: what it wrote is rolled back."""
        self._state(job_id)
        jobs.cancel(job_id, g.user.id)
        return redirect(url_for(".job", job_id=job_id))

    def _state(self, job_id: str) -> dict:
        state = jobs.status(job_id, g.user.id)
        if state is None or state.get("kind") != self.spec_code:
            abort(404)
        return state


register(ImportHubView)


def register_screens() -> None:
    """Register one screen per declared import, governed by its right."""
    for spec in registry.every():
        view = type(screen_class_name(spec.code), (ImportScreen,), {
            "route_base": f"/imports/{spec.code}", "spec_code": spec.code,
            "governing_right": spec.right, "__doc__": f"Import screen of {spec.code}."})
        if spec.code in IN_OTHER_MENUS:
            register(view)
        else:
            register(view, name=screen_class_name(spec.code), label=spec.title,
                     category="documents", icon="fa-upload")


register_screens()
