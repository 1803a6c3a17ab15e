"""Uchet's models. Importing this package registers every table on FAB's metadata."""

from models.journal import JournalEntry
from models.org import Unit, UnitClosure, UnitKind
from models.pricelist import (
    MedicalInstitution,
    Price,
    Service,
    ServiceComponent,
    ServiceGroup,
    ServiceSet,
    ServiceSetItem,
)
from models.refbooks import (
    BaseDepartment,
    Colour,
    Currency,
    Department,
    DepartmentProfile,
    Discount,
    ExchangeRate,
    ExportCode,
    PatientCategory,
    PaymentMethod,
    PaymentSection,
    PriceCategory,
    PriceType,
    RateType,
    RiskType,
    Tax,
)
from models.rights import RoleProfile, RoleRight
from models.user import AppUser, manager_client, user_extra_unit

__all__ = [
    "AppUser",
    "BaseDepartment",
    "Colour",
    "Currency",
    "Department",
    "DepartmentProfile",
    "Discount",
    "ExchangeRate",
    "ExportCode",
    "JournalEntry",
    "MedicalInstitution",
    "PatientCategory",
    "PaymentMethod",
    "PaymentSection",
    "Price",
    "PriceCategory",
    "PriceType",
    "RateType",
    "RiskType",
    "RoleProfile",
    "RoleRight",
    "Service",
    "ServiceComponent",
    "ServiceGroup",
    "ServiceSet",
    "ServiceSetItem",
    "Tax",
    "Unit",
    "UnitClosure",
    "UnitKind",
    "manager_client",
    "user_extra_unit",
]
