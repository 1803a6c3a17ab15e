"""«Импорт прейскуранта»: upload an XLSX or CSV price list, see what it would change,
then load it. The view reads the form and keeps the uploaded file between the two
steps; services.imports.prices checks and writes (one service call per POST).

The file is kept in the instance folder under a random token, with its owner's id:
the load step reads it back from there (never from the client), parses and checks it
again against the database as it is then, and commits.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from security.effective import current
from services.imports import price_file
from services.imports import prices as price_import
from views.base import screen_command
from views.registry import register

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_AGE = 3600  # seconds an uploaded file waits for its load step


class UploadStore:
    """Uploaded files waiting between preview and load: `<token>.bin` holds the bytes,
    `<token>.json` the owner and the file name. A token opens only its owner's file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, user_id: int, filename: str, data: bytes) -> str:
        """Store the file; return its token. Files older than MAX_AGE are removed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.purge()
        token = secrets.token_urlsafe(32)
        self._write(f"{token}.bin", data)
        self._write(f"{token}.json", json.dumps({"user": user_id, "filename": filename})
                    .encode())
        return token

    def get(self, user_id: int, token: str) -> tuple[str, bytes] | None:
        """Return (file name, bytes) of the user's file, or None (unknown, expired, foreign)."""
        if not TOKEN.fullmatch(token or ""):
            return None
        meta, body = self.directory / f"{token}.json", self.directory / f"{token}.bin"
        try:
            if time.time() - body.stat().st_mtime > MAX_AGE:
                return None
            info = json.loads(meta.read_text())
            if info.get("user") != user_id:
                return None
            return str(info.get("filename", "")), body.read_bytes()
        except (OSError, ValueError):
            return None

    def drop(self, token: str) -> None:
        """Remove a stored file (after its load)."""
        if TOKEN.fullmatch(token or ""):
            for suffix in (".bin", ".json"):
                (self.directory / f"{token}{suffix}").unlink(missing_ok=True)

    def purge(self) -> None:
        """Remove files older than MAX_AGE."""
        limit = time.time() - MAX_AGE
        for path in self.directory.glob("*.*"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except OSError:
                continue

    def _write(self, name: str, data: bytes) -> None:
        path = self.directory / name
        partial = path.with_name(f"{name}.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        partial.replace(path)


class PriceImportView(BaseView):
    """Import of the service price list (right «Импорт прейскуранта услуг»)."""

    route_base = "/priceimport"
    default_view = "index"
    governing_right = "import.service_prices"
    # Any value but "none" grants every permission of a scope right; "get" also
    # gives the menu entry (security.sync).
    method_permission_name = {"index": "get", "preview": "post", "load": "post"}

    def _db(self):
        return self.appbuilder.session

    def _store(self) -> UploadStore:
        return UploadStore(Path(current_app.instance_path) / "price_import")

    def _max_bytes(self) -> int:
        return current_app.config.get("MAX_CONTENT_LENGTH") or price_file.MAX_BYTES

    def _form(self, status: int = 200):
        return self.render_template(
            "uchet/price_import.html", columns=price_file.COLUMNS,
            required=price_file.REQUIRED, limit_mb=self._max_bytes() // (1024 * 1024),
            max_rows=f"{price_file.MAX_ROWS:,}".replace(",", " "),
        ), status

    def _plan(self, plan: price_import.Plan, token: str | None):
        return self.render_template(
            "uchet/price_import_preview.html", plan=plan, token=token,
            columns=price_file.COLUMNS, shown=price_file.shown,
            limit=price_import.PREVIEW_ROWS, close_open=_close_open(),
        )

    @expose("/")
    @has_access
    def index(self):
        """The upload form with the expected columns and formats."""
        return self._form()

    @expose("/preview", methods=["POST"])
    @has_access
    def preview(self):
        """Check the uploaded file and show what loading it would do (nothing written)."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Выберите файл прейскуранта"), "danger")
            return self._form(400)
        data = upload.read()
        filename = upload.filename[-255:]
        def shown(plan):
            token = (self._store().put(g.user.id, filename, data) if plan.ok and plan.new
                     else None)
            return self._plan(plan, token)

        return screen_command(
            lambda: price_import.preview(self._db(), filename, data, current(),
                                         max_bytes=self._max_bytes(), close_open=_close_open()),
            done=shown, again=lambda _exc: self._form(400))

    @expose("/load", methods=["POST"])
    @has_access
    def load(self):
        """Load the previewed file, checked again against the prices as they are now."""
        token = request.form.get("token", "")
        stored = self._store().get(g.user.id, token)
        if stored is None:
            flash(_("Файл не найден или устарел: загрузите его ещё раз"), "danger")
            return redirect(url_for(".index"))
        filename, data = stored
        def again(exc):
            self._store().drop(token)
            if getattr(exc, "plan", None) is not None:
                return self._plan(exc.plan, None)
            return redirect(url_for(".index"))

        def done(summary):
            self._store().drop(token)
            flash(_("Прейскурант «%(file)s» загружен: новых цен %(new)s, без изменений "
                    "%(same)s, закрыто прежних цен %(closed)s", file=summary.filename,
                    new=summary.inserted, same=summary.unchanged, closed=summary.closed),
                  "success")
            return redirect(url_for(".index"))

        return screen_command(
            lambda: price_import.import_prices(self._db(), filename, data, current(),
                                               max_bytes=self._max_bytes(),
                                               close_open=_close_open()),
            done=done, again=again)


def _close_open() -> bool:
    """Return True when the form asks to end the open prices the file's new ones follow
    (the upload form's box, ticked by default; the preview carries it to the load)."""
    return request.form.get("close_open") == "1"


# The framework's screen of the same import (with progress, views.imports.screens) is
# listed on the «Импорт» page; the menu keeps this page, where people know it.
register(PriceImportView, name="PriceImport", label=_l("Импорт прейскуранта"),
         category="pricelist", icon="fa-upload")
