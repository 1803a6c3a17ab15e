"""The second factor's pages: enrolment (a QR code for the authenticator app) and
the code asked after the password; and the gate that sends an administrator
there before any other page when UCHET_TOTP_FOR_ADMINS is on (security.totp)."""

from __future__ import annotations

from flask import Flask, abort, flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from security import totp
from security.effective import current
from services.admin import totp as totp_service
from views.base import screen_command
from views.registry import register

PENDING = "uchet_totp_pending"
#: Endpoints an administrator reaches before giving his code.
OPEN = frozenset({"TotpView.enrol", "TotpView.verify", "AuthDBView.login", "AuthDBView.logout",
                  "static", "appbuilder.static", "LocaleView.index"})


class TotpView(BaseView):
    """Enrolment and verification of one's own second factor (self-service)."""

    route_base = "/totp"
    default_view = "verify"

    def _user(self):
        if not current_user.is_authenticated:
            abort(404)
        return g.user

    @expose("/enrol", methods=["GET", "POST"])
    def enrol(self):
        """Show a new secret as a QR code; a right code from the app enrols it."""
        user = self._user()
        secret = session.get(PENDING) or totp.new_secret()
        session[PENDING] = secret

        def page(refusal=None):
            return self.render_template(
                "uchet/totp_enrol.html", error=refusal and str(refusal), secret=secret,
                qr=Markup(totp.provisioning_svg(secret, user.username)))

        def done(codes: list[str] | None):
            if not codes:
                return page(_("Неверный код: проверьте время на телефоне и введите новый код"))
            session.pop(PENDING, None)
            totp.mark_verified(user)
            flash(_("Второй фактор подключён"), "success")
            # Shown once: only their hashes are stored.
            return self.render_template("uchet/totp_recovery.html", codes=codes)

        if request.method != "POST":
            return page()
        return screen_command(lambda: totp_service.enrol(user, secret, request.form.get("code")),
                              done=done, again=page, flash_refusal=False)

    @expose("/verify", methods=["GET", "POST"])
    def verify(self):
        """Ask for the code of the enrolled app; a right one opens the session."""
        user = self._user()

        def page(refusal=None):
            return self.render_template("uchet/totp_verify.html",
                                        error=refusal and str(refusal))

        def done(right: bool):
            if not right:
                return page(_("Неверный код"))
            totp.mark_verified(user)
            return redirect(url_for("HomeView.index"))

        if request.method != "POST":
            return page()
        return screen_command(lambda: totp_service.verify(user, request.form.get("code")),
                              done=done, again=page, flash_refusal=False)


def gate():
    """Send a signed-in administrator without a verified code to the code page
    (or to enrolment), whatever he asked for; an API call gets a 403."""
    if not totp.required() or request.endpoint in OPEN or request.endpoint is None:
        return None
    if not current_user.is_authenticated or totp.is_verified(current_user):
        return None
    if not totp.holds_admin_rights(current()):
        return None
    enrolled = totp_service.is_enrolled(current_user.id)
    if request.path.startswith("/api/"):
        response = jsonify(message=_("Нужен код второго фактора"))
        response.status_code = 403
        return response
    return redirect(url_for("TotpView.verify" if enrolled else "TotpView.enrol"))


def install(app: Flask) -> None:
    """Put the second-factor gate before every request."""
    app.before_request(gate)


register(TotpView)
