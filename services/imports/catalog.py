"""Every import of the application, registered in the order of the «Импорт» page."""

from __future__ import annotations

from services.imports.framework.registry import register
from services.imports.price_spec import PriceImport

register(PriceImport())
