"""Payers (section «Организации и договоры»): addresses, organisation groups,
organisations, insurers and individuals. Rows registered higher up the tree
(the network, a region) are read by the branches below and changed only there.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models.parties import Address, Individual, Insurer, Organisation, OrganisationGroup
from views.refbook import RefBook, register_refbook

OWNER = ("unit",)
ORDER_BY_NAME = ("last_name", "asc")

PARTY_BOOKS = [
    RefBook(OrganisationGroup, "contract.organisation_groups", "OrganisationGroups",
            "contracts", ("code", "name", "active", *OWNER), icon="fa-object-group"),
    RefBook(Organisation, "contract.organisations", "Organisations", "contracts",
            ("code", "name", "inn", "kpp", "group", "phone", "active"),
            edit_columns=("code", "name", "inn", "kpp", "group", "address", "phone", "email",
                          "active", *OWNER), icon="fa-building"),
    RefBook(Insurer, "contract.insurers", "Insurers", "contracts",
            ("code", "name", "inn", "register_code", "licence", "active"),
            edit_columns=("code", "name", "inn", "kpp", "register_code", "licence", "address",
                          "phone", "email", "active", *OWNER), icon="fa-umbrella"),
    RefBook(Individual, "contract.individuals", "Individuals", "contracts",
            ("last_name", "first_name", "middle_name", "birth_date", "phone"),
            edit_columns=("last_name", "first_name", "middle_name", "birth_date", "document",
                          "inn", "phone", "address", *OWNER),
            order=ORDER_BY_NAME, icon="fa-user", label=_l("Физические лица (плательщики)")),
    RefBook(Address, "contract.addresses", "Addresses", "contracts",
            ("postcode", "region", "city", "street", "house", "flat", "unit"),
            order=("city", "asc"), icon="fa-map-marker"),
]

for _book in PARTY_BOOKS:
    register_refbook(_book)
