"""Every import of the application, registered in the order of the «Импорт» page."""

from __future__ import annotations

from services.imports.framework.registry import register
from services.imports.party_specs import CounterpartyImport, ProgrammeTermsImport
from services.imports.patient_specs import AttachmentImport
from services.imports.price_spec import PriceImport, PriceListImport
from services.imports.pricelist_specs import CompositeImport, ServiceSetImport

register(PriceImport())
register(PriceListImport())
register(ServiceSetImport())
register(CompositeImport())
register(CounterpartyImport())
register(ProgrammeTermsImport())
register(AttachmentImport())
