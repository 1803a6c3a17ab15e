"""The old address of «Импорт прейскуранта», `/priceimport/`: it now sends the user to
the price list's import on the framework (`/imports/service_prices/`, views.imports.screens:
progress, cancel, the same checks), so bookmarks keep working. The page has no menu
entry of its own any more; the right «Импорт прейскуранта услуг» still governs it, so
a user without it gets 403 here as on the screen it points to."""

from __future__ import annotations

from flask import redirect, url_for
from flask_appbuilder import BaseView, expose, has_access

from views.registry import register


class PriceImportView(BaseView):
    """`/priceimport/`: a redirect to the framework's price list import."""

    route_base = "/priceimport"
    default_view = "index"
    governing_right = "import.service_prices"
    method_permission_name = {"index": "get"}

    @expose("/")
    @has_access
    def index(self):
        """Send the user to the price list import screen (302)."""
        return redirect(url_for("ImportServicePricesView.index"))


register(PriceImportView)
