"""Screens and APIs. Each module declares its views in `views.registry`."""

import importlib

# Order here is menu order within a category.
MODULES = (
    "views.refbooks",
    "views.pricelist",
    "views.price_import",
    "views.patients",
    "views.staff",
    "views.parties",
    "views.contracts",
    "views.instalments",
    "views.vouchers",
    "views.referrals",
    "views.parameters",
    "views.cabinet",
    "views.cabinet_requests",
    "views.cabinet_orders",
    "views.cabinet_manager",
    "views.cabinet_forms",
    "views.cabinet_documents",
    "views.org",
    "views.security",
    "views.rights",
    "views.journal",
)


def load_all() -> None:
    """Import every view module once, so their declarations reach the registry."""
    for name in MODULES:
        importlib.import_module(name)
