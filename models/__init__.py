"""Uchet's models. Importing this package registers every table on FAB's metadata."""

from models.cabinet import CourierCall, Question
from models.cabinet_orders import (
    AddonOrder,
    AddonOrderLine,
    Consumable,
    ConsumableOrder,
    ConsumableOrderLine,
    Seminar,
    SeminarRegistration,
)
from models.contracts import (
    Contract,
    ContractTemplate,
    InstalmentLine,
    InsuranceTerms,
    PaymentGuarantee,
    PrepaymentSchemeStep,
    PrepaymentSchemeTemplate,
    contract_branch,
    guarantee_programme,
)
from models.journal import JournalEntry
from models.org import Unit, UnitClosure, UnitKind
from models.params import ModuleParameters
from models.parties import Address, Individual, Insurer, Organisation, OrganisationGroup
from models.patients import Attachment, Patient, attachment_branch
from models.pricelist import (
    MedicalInstitution,
    Price,
    Service,
    ServiceComponent,
    ServiceGroup,
    ServiceSet,
    ServiceSetItem,
)
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
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
from models.referrals import Referral
from models.rights import RoleProfile, RoleRight
from models.security_log import PatientAccess, SecurityEvent
from models.staff import Diagnosis, Employee
from models.user import AppUser, manager_client, user_extra_unit
from models.vouchers import Voucher, VoucherLine

__all__ = [
    "AddonOrder",
    "AddonOrderLine",
    "Address",
    "AppUser",
    "Attachment",
    "BaseDepartment",
    "Colour",
    "Consumable",
    "ConsumableOrder",
    "ConsumableOrderLine",
    "Contract",
    "ContractTemplate",
    "CourierCall",
    "Currency",
    "Department",
    "DepartmentProfile",
    "Diagnosis",
    "Discount",
    "Employee",
    "ExchangeRate",
    "ExportCode",
    "Individual",
    "InstalmentLine",
    "InsuranceTerms",
    "Insurer",
    "JournalEntry",
    "MedicalInstitution",
    "ModuleParameters",
    "Organisation",
    "OrganisationGroup",
    "Patient",
    "PatientAccess",
    "PatientCategory",
    "PaymentGuarantee",
    "PaymentMethod",
    "PaymentSection",
    "PrepaymentSchemeStep",
    "PrepaymentSchemeTemplate",
    "Price",
    "PriceCategory",
    "PriceType",
    "Programme",
    "ProgrammeCodeTemplate",
    "ProgrammeService",
    "Question",
    "RateType",
    "Referral",
    "RiskType",
    "RoleProfile",
    "RoleRight",
    "SecurityEvent",
    "Seminar",
    "SeminarRegistration",
    "Service",
    "ServiceComponent",
    "ServiceGroup",
    "ServiceSet",
    "ServiceSetItem",
    "Tax",
    "Unit",
    "UnitClosure",
    "UnitKind",
    "Voucher",
    "VoucherLine",
    "attachment_branch",
    "contract_branch",
    "guarantee_programme",
    "manager_client",
    "user_extra_unit",
]
