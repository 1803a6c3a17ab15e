"""Security headers on every answer, and no caching of anything but static files.

The pages come from Flask-AppBuilder's templates, which run inline scripts and inline
event handlers (onclick=...): the Content-Security-Policy allows inline code, but only
from this site — no script, style, font, frame or form target from elsewhere, no
plugins, and the app may not be framed (clickjacking). Pages and API answers carry
patients' personal data: `no-store` keeps them out of the browser's and proxies' caches
(the back button and a shared workstation). HSTS only in production, where HTTPS is a
given; development and tests run over plain HTTP.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"
# Static files (ours and Flask-AppBuilder's) hold no personal data: the browser may cache them.
_STATIC = ("static", "appbuilder.static")


def security_headers(response: Response, *, production: bool) -> Response:
    """Return `response` with the security headers set (an answer's own are kept)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if production:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint not in _STATIC:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
        headers.pop("Expires", None)
    return response


def install(app: Flask) -> None:
    """Set the security headers on every answer of `app`."""
    production = app.config.get("UCHET_ENV") == "production"
    app.after_request(lambda response: security_headers(response, production=production))
