"""Contracts, their templates and terms, medical programmes with their services,
payment guarantees and instalment schedules (section «Организации и договоры»).

Contracts and everything under them are read in the signing branch and, for a
network contract, in each branch it serves; they are written in the signing
branch's scope. Yes/no rights of the seed guard their parts: «Изменение списка
гарантий оплат», «Изменение схем рассрочек…», «Ручное изменение стоимости
медпрограммы», «Сетевые договоры».
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from models.contracts import (
    CONTRACT_KINDS,
    INSURANCE_KINDS,
    PAYMENT_SCHEMES,
    Contract,
    ContractTemplate,
    InstalmentLine,
    InsuranceTerms,
    PaymentGuarantee,
    PrepaymentSchemeStep,
    PrepaymentSchemeTemplate,
)
from models.programmes import Programme, ProgrammeCodeTemplate, ProgrammeService
from security.effective import current
from services.contracts.instalments import check_instalment_line, check_instalment_removal
from services.contracts.rules import (
    check_code_pattern,
    check_contract,
    check_guarantee,
    check_insurance_terms,
    check_programme,
    check_programme_service,
    check_scheme_step,
)
from views.base import deleted_together
from views.contracts.card import ContractScreen
from views.contracts.patients import ATTACHMENT_CLASSES
from views.formatters import choice_label
from views.refbook import RefBook, build, register_refbook

EDITING = ("can_add", "can_edit", "can_delete", "muldelete", "can_post", "can_put")
OWNER = ("unit",)


def _selects(**fields) -> dict:
    """Return FAB form overrides rendering the given columns as choice lists."""
    built = {key: SelectField(label, choices=list(options.items()))
             for key, (label, options) in fields.items()}
    return {"add_form_extra_fields": built, "edit_form_extra_fields": dict(built)}


def _with_rights(rule):
    """Adapt a service rule taking the user's rights to RefBook's (session, item)."""
    return lambda session, item: rule(session, item, current())


def _check_removal(session, line: InstalmentLine) -> None:
    check_instalment_removal(session, line, together=deleted_together())


GUARANTEE_RIGHT = "contract.payment_guarantees"
INSTALMENT_RIGHT = "contract.instalment_schemes"

TEMPLATE_BOOKS = [
    RefBook(ContractTemplate, "contract.contract_templates", "ContractTemplates", "contracts",
            ("code", "name", "kind", "payment_scheme", "active"),
            edit_columns=("code", "name", "kind", "payment_scheme", "body", "active", *OWNER),
            icon="fa-file-text-o",
            formatters={"kind": choice_label(CONTRACT_KINDS),
                        "payment_scheme": choice_label(PAYMENT_SCHEMES)},
            extra=_selects(kind=(_l("Вид договора"), CONTRACT_KINDS),
                           payment_scheme=(_l("Способ оплаты"), PAYMENT_SCHEMES))),
    RefBook(InsuranceTerms, "contract.insurance_terms", "InsuranceTerms", "contracts",
            ("code", "name", "insurance", "period_months", "policy_cost", "active"),
            edit_columns=("code", "name", "insurance", "period_months", "policy_cost",
                          "description", "active", *OWNER),
            icon="fa-shield", formatters={"insurance": choice_label(INSURANCE_KINDS)},
            validate=check_insurance_terms,
            extra=_selects(insurance=(_l("Вид страхования"), INSURANCE_KINDS))),
    RefBook(PrepaymentSchemeTemplate, "contract.prepayment_scheme_templates",
            "PrepaymentSchemes", "contracts", ("code", "name", "active"), stem="PrepaymentScheme",
            edit_columns=("code", "name", "active", *OWNER), icon="fa-calendar-check-o"),
    RefBook(PrepaymentSchemeStep, "contract.prepayment_scheme_templates",
            "PrepaymentSchemeSteps", "contracts", ("scheme", "days_after_start", "share"),
            stem="PrepaymentSchemeStep",
            order=("days_after_start", "asc"), icon="fa-list-ol", validate=check_scheme_step),
    RefBook(ProgrammeCodeTemplate, "contract.programme_code_templates", "ProgrammeCodeTemplates",
            "contracts", ("code", "name", "pattern", "active"),
            edit_columns=("code", "name", "pattern", "active", *OWNER), icon="fa-barcode",
            validate=check_code_pattern),
]

PROGRAMME_SERVICE_BOOK = RefBook(
    ProgrammeService, "contract.contracts", "ProgrammeServices", "contracts",
    ("programme", "service", "max_count"), order=("id", "asc"), icon="fa-list",
    validate=check_programme_service)
GUARANTEE_BOOK = RefBook(
    PaymentGuarantee, "contract.contracts", "PaymentGuarantees", "contracts",
    ("contract", "number", "issued_on", "valid_from", "valid_to", "amount"),
    edit_columns=("contract", "number", "issued_on", "valid_from", "valid_to", "amount",
                  "programmes", "note"),
    order=("issued_on", "desc"), icon="fa-envelope-o",
    permission_rights=dict.fromkeys(EDITING, GUARANTEE_RIGHT), validate=check_guarantee)
INSTALMENT_BOOK = RefBook(
    InstalmentLine, "contract.contracts", "Instalments", "contracts",
    ("contract", "due_date", "amount"), order=("due_date", "asc"), icon="fa-calendar",
    stem="Instalment",
    permission_rights=dict.fromkeys(EDITING, INSTALMENT_RIGHT), validate=check_instalment_line,
    delete_rule=_check_removal)

PROGRAMME_SERVICES = build(PROGRAMME_SERVICE_BOOK)
GUARANTEES = build(GUARANTEE_BOOK)
INSTALMENTS = build(INSTALMENT_BOOK)

PROGRAMME_BOOK = RefBook(
    Programme, "contract.contracts", "Programmes", "contracts",
    ("code", "name", "contract", "price_type", "period_months", "max_cost", "policy_cost",
     "active"),
    edit_columns=("contract", "code", "code_template", "name", "price_type", "period_months",
                  "max_cost", "policy_cost", "active"),
    search_columns=("code", "name", "contract", "price_type", "active"),
    icon="fa-medkit", validate=_with_rights(check_programme), optional=("code",),
    extra={"related_views": [PROGRAMME_SERVICES[0], ATTACHMENT_CLASSES[0]]})
PROGRAMMES = build(PROGRAMME_BOOK)

CONTRACT_BOOK = RefBook(
    Contract, "contract.contracts", "Contracts", "contracts",
    ("number", "signed_on", "kind", "branch", "valid_from", "valid_to", "amount", "network"),
    edit_columns=("number", "signed_on", "kind", "payment_scheme", "branch", "network",
                  "branches", "insurer", "organisation", "individual", "template",
                  "insurance_terms", "price_category", "valid_from", "valid_to", "amount",
                  "note"),
    search_columns=("number", "signed_on", "kind", "branch", "insurer", "organisation",
                    "individual", "valid_from", "valid_to", "network"),
    view_columns=("payer",), labels={"payer": _l("Плательщик")},
    eager=("insurer", "organisation", "individual"),
    order=("signed_on", "desc"), icon="fa-handshake-o",
    formatters={"kind": choice_label(CONTRACT_KINDS),
                "payment_scheme": choice_label(PAYMENT_SCHEMES)},
    validate=_with_rights(check_contract), view_base=ContractScreen,
    extra={**_selects(kind=(_l("Вид договора"), CONTRACT_KINDS),
                      payment_scheme=(_l("Способ оплаты"), PAYMENT_SCHEMES)),
           "related_views": [PROGRAMMES[0], GUARANTEES[0], INSTALMENTS[0]],
           "show_template": "uchet/contract_show.html",
           "add_title": _l("Новый договор"), "edit_title": _l("Изменение договора")})

register_refbook(CONTRACT_BOOK)
register_refbook(PROGRAMME_BOOK, PROGRAMMES)
register_refbook(PROGRAMME_SERVICE_BOOK, PROGRAMME_SERVICES)
register_refbook(GUARANTEE_BOOK, GUARANTEES)
register_refbook(INSTALMENT_BOOK, INSTALMENTS)
for _book in TEMPLATE_BOOKS:
    register_refbook(_book)
