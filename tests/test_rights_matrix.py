"""The role x endpoint x row matrix, generated from the catalogue and the view
registry: for every governed screen and API and every value of its governing
right, a user of branch MSK-TVR (scope: own unit and children) gets exactly
what the value allows, on a row he may reach and, where rows are scoped, on a
row he may not (which must answer 404).

A new governed view must be given its rows in ROWS (or be named in
COVERED_ELSEWHERE with the test that covers it), or the first test fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from models import (
    Address,
    BaseDepartment,
    Colour,
    Contract,
    ContractTemplate,
    Currency,
    Department,
    DepartmentProfile,
    Discount,
    ExchangeRate,
    ExportCode,
    Individual,
    InsuranceTerms,
    Insurer,
    MedicalInstitution,
    Organisation,
    OrganisationGroup,
    Patient,
    PatientCategory,
    PaymentMethod,
    PaymentSection,
    PrepaymentSchemeStep,
    PrepaymentSchemeTemplate,
    PriceCategory,
    PriceType,
    Programme,
    ProgrammeCodeTemplate,
    ProgrammeService,
    RateType,
    Referral,
    RiskType,
    Service,
    ServiceComponent,
    ServiceGroup,
    ServiceSet,
    ServiceSetItem,
    Tax,
)
from models.staff import Diagnosis, Employee
from models.user import AppUser
from security.catalogue import load_catalogue
from tests.support import make_role, make_user, unit

LEVELS = ["none", "view", "edit", "create", "delete"]


@dataclass(frozen=True)
class Rows:
    """How to find the rows a view is tested on, and where the view lives."""

    own: Callable | None
    foreign: Callable | None
    prefix: str
    marker: Callable = lambda row: getattr(row, "code", None)


def _unit(code):
    return lambda s: unit(s, code)


def _user(username):
    return lambda s: s.scalar(select(AppUser).where(AppUser.username == username))


def _first(model, *where):
    return lambda s: s.scalars(select(model).where(*where).order_by(model.id)).first()


def _department(branch_code):
    return lambda s: s.scalars(select(Department).where(
        Department.branch_id == unit(s, branch_code).id).order_by(Department.id)).first()


def _book(model, name, *, own=None, foreign=None, view=None,
          marker=lambda row: getattr(row, "code", None)):
    """Rows of a generated reference book: its screen and its API."""
    stem = (view or model.__name__).lower()
    getter = own or _first(model)
    return {
        f"{view or model.__name__}View": Rows(getter, foreign, f"/{stem}view", marker),
        f"{view or model.__name__}Api": Rows(getter, foreign, f"/api/v1/{name.lower()}"),
    }


def _owned(model, code, column="unit_id"):
    """The first row of `model` placed in unit `code` (by its owner or branch column)."""
    return lambda s: s.scalars(select(model).where(
        getattr(model, column) == unit(s, code).id).order_by(model.id)).first()


def _under_contract(model, code):
    """The first row of `model` under a contract signed by unit `code`."""
    return lambda s: s.scalars(select(model).join(Contract).where(
        Contract.branch_id == unit(s, code).id).order_by(model.id)).first()


def _programme_service(code):
    return lambda s: s.scalars(select(ProgrammeService).join(Programme).join(Contract).where(
        Contract.branch_id == unit(s, code).id).order_by(ProgrammeService.id)).first()


ROWS = {
    "UnitView": Rows(_unit("MSK-TVR-THR"), _unit("SPB-NEV"), "/unitview"),
    "UnitApi": Rows(_unit("MSK-TVR-THR"), _unit("SPB-NEV"), "/api/v1/unit"),
    "UserView": Rows(_user("registrar"), _user("client_user"), "/users",
                     marker=lambda u: u.username),
    "UserApi": Rows(_user("registrar"), _user("client_user"), "/api/v1/user"),
    "JournalView": Rows(None, None, "/journalview/list/"),
    "RightsView": Rows(None, None, "/rights/"),
    **_book(BaseDepartment, "BaseDepartments"),
    **_book(DepartmentProfile, "DepartmentProfiles"),
    **_book(Department, "Departments", own=_department("MSK-TVR"),
            foreign=_department("SPB-NEV")),
    **_book(PriceType, "PriceTypes"),
    **_book(PriceCategory, "PriceCategories"),
    **_book(PaymentMethod, "PaymentMethods"),
    **_book(PaymentSection, "PaymentSections"),
    **_book(PatientCategory, "PatientCategories"),
    **_book(Currency, "Currencies"),
    **_book(ExchangeRate, "ExchangeRates"),
    **_book(RateType, "RateTypes"),
    **_book(Tax, "Taxes"),
    **_book(Discount, "Discounts"),
    **_book(RiskType, "RiskTypes"),
    **_book(ExportCode, "ExportCodes"),
    **_book(Colour, "Colours"),
    **_book(ServiceGroup, "ServiceGroups"),
    **_book(Service, "Services"),
    **_book(ServiceComponent, "ServiceComponents"),
    **_book(ServiceSet, "ServiceSets"),
    **_book(ServiceSetItem, "ServiceSetItems"),
    **_book(MedicalInstitution, "InternalInstitutions", view="InternalInstitution",
            own=_first(MedicalInstitution, MedicalInstitution.external.is_(False)),
            foreign=_first(MedicalInstitution, MedicalInstitution.external.is_(True))),
    **_book(MedicalInstitution, "ExternalInstitutions", view="ExternalInstitution",
            own=_first(MedicalInstitution, MedicalInstitution.external.is_(True)),
            foreign=_first(MedicalInstitution, MedicalInstitution.external.is_(False))),
    # Payers: the network's rows are read below it; a branch's rows stay in the branch.
    **_book(OrganisationGroup, "OrganisationGroups"),
    **_book(Organisation, "Organisations", own=_owned(Organisation, "MSK-TVR"),
            foreign=_owned(Organisation, "SPB-NEV")),
    **_book(Insurer, "Insurers", own=_owned(Insurer, "NET"),
            foreign=_owned(Insurer, "SPB-NEV")),
    **_book(Individual, "Individuals", own=_owned(Individual, "MSK-TVR"),
            foreign=_owned(Individual, "SPB-NEV"), marker=lambda row: row.phone),
    **_book(Address, "Addresses", own=_owned(Address, "NET"), marker=lambda row: None),
    **_book(ContractTemplate, "ContractTemplates"),
    **_book(InsuranceTerms, "InsuranceTerms"),
    **_book(PrepaymentSchemeTemplate, "PrepaymentSchemes", view="PrepaymentScheme"),
    **_book(PrepaymentSchemeStep, "PrepaymentSchemeSteps", view="PrepaymentSchemeStep",
            marker=lambda row: None),
    **_book(ProgrammeCodeTemplate, "ProgrammeCodeTemplates"),
    # Contracts and what hangs under them: read and written with the signing branch.
    **_book(Contract, "Contracts", own=_owned(Contract, "MSK-TVR", "branch_id"),
            foreign=_owned(Contract, "SPB-NEV", "branch_id"), marker=lambda row: row.number),
    **_book(Programme, "Programmes", own=_under_contract(Programme, "MSK-TVR"),
            foreign=_under_contract(Programme, "SPB-NEV")),
    **_book(ProgrammeService, "ProgrammeServices", own=_programme_service("MSK-TVR"),
            foreign=_programme_service("SPB-NEV"), marker=lambda row: None),
    # The alphabetically first patient of MSK-TVR: the list's first page shows him.
    **_book(Patient, "Patients", own=lambda s: s.scalars(select(Patient).where(
                Patient.home_branch_id == unit(s, "MSK-TVR").id)
                .order_by(Patient.last_name, Patient.id)).first(),
            foreign=_owned(Patient, "SPB-NEV", "home_branch_id"), marker=lambda row: row.phone),
    **_book(Employee, "Employees", own=_owned(Employee, "MSK-TVR", "branch_id"),
            foreign=_owned(Employee, "SPB-NEV", "branch_id"), marker=lambda row: None),
    **_book(Diagnosis, "Diagnoses"),
    **_book(Referral, "Referrals", own=_owned(Referral, "MSK-TVR", "branch_id"),
            foreign=_owned(Referral, "SPB-NEV", "branch_id"), marker=lambda row: None),
}
# Views whose rights are not access levels on one right: tested in their own files.
COVERED_ELSEWHERE = {
    "PriceView": "tests/test_prices.py (view and edit scopes by branch)",
    "PriceApi": "tests/test_prices.py",
    "PriceImportView": "tests/test_price_import.py",
    # Read under «Договоры», written under a yes/no right of their own.
    "AttachmentView": "tests/test_attachments.py",
    "AttachmentApi": "tests/test_attachments.py",
    "PaymentGuaranteeView": "tests/test_guarantees.py",
    "PaymentGuaranteeApi": "tests/test_guarantees.py",
    "InstalmentView": "tests/test_instalment_schedule.py",
    "InstalmentApi": "tests/test_instalment_schedule.py",
    "InstalmentScheduleView": "tests/test_instalment_schedule.py",
    # Access levels plus «Доступ к талонам других пользователей», which narrows the rows.
    "VoucherView": "tests/test_vouchers.py",
    "VoucherApi": "tests/test_vouchers.py",
    "VoucherLineView": "tests/test_vouchers.py",
    "VoucherLineApi": "tests/test_vouchers.py",
    "ParametersView": "tests/test_parameters.py",
    "CabinetStatisticsView": "tests/test_cabinet_statistics.py (per demo cabinet role)",
    "CourierView": "tests/test_cabinet_requests.py",
    "QuestionsView": "tests/test_cabinet_requests.py",
    "ConsumablesView": "tests/test_cabinet_orders.py",
    "AddonOrdersView": "tests/test_cabinet_addons.py",
    "ReferralFormsView": "tests/test_cabinet_forms.py",
    "DocumentsView": "tests/test_cabinet_documents.py",
    "ManagerProfileView": "tests/test_cabinet_manager.py",
    "ManagerCabinetView": "tests/test_cabinet_manager.py",
    "SeminarsView": "tests/test_cabinet_orders.py",
    # Catalogues under the yes/no «Кабинет менеджера»: the managers keep them.
    "ConsumableView": "tests/test_cabinet_orders.py",
    "ConsumableApi": "tests/test_cabinet_orders.py",
    "SeminarView": "tests/test_cabinet_orders.py",
    "SeminarApi": "tests/test_cabinet_orders.py",
}


def _governed():
    import views
    from views.registry import REGISTRY

    views.load_all()
    found = {}
    for entry in REGISTRY:
        for cls in (entry.view, *entry.apis):
            if getattr(cls, "governing_right", None):
                found[cls.__name__] = cls.governing_right
    return found


GOVERNED = _governed()
CASES = [
    (view, right, value)
    for view, right in sorted(GOVERNED.items()) if view not in COVERED_ELSEWHERE
    for value in load_catalogue().rights[right].values
]


def test_every_governed_view_is_in_the_matrix():
    assert set(GOVERNED) - set(COVERED_ELSEWHERE) == set(ROWS), \
        "give new governed views their rows in ROWS"


def _at_least(value, level):
    return LEVELS.index(value) >= LEVELS.index(level)


@pytest.fixture
def as_role(session, login):
    def _make(right, value):
        role = make_role(session, f"Проверка {right}={value}",
                         {right: value, "scope.data": "own_subtree"})
        make_user(session, "probe", roles=[role], home_unit=unit(session, "MSK-TVR"))
        return login("probe")

    return _make


def _denied(response):
    return response.status_code in (401, 403) or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    )


@pytest.mark.parametrize(("view", "right", "value"), CASES)
def test_matrix(session, as_role, view, right, value):
    rows = ROWS[view]
    own = rows.own(session) if rows.own else None
    foreign = rows.foreign(session) if rows.foreign else None
    if rows.own is not None:
        assert own is not None, f"{view}: the demo data has no row to test on"
    client = as_role(right, value)
    if load_catalogue().rights[right].kind == "flag":
        response = client.get(rows.prefix)
        assert (response.status_code == 200) == (value == "yes"), response.status_code
        if value != "yes":
            assert _denied(response)
        return
    if rows.prefix.startswith("/api/"):
        _check_api(client, rows.prefix, value, own.id, foreign.id if foreign else None)
    else:
        _check_ui(client, rows, value, own, foreign)


def _check_ui(client, rows, value, own, foreign):
    prefix = rows.prefix
    listing = client.get(f"{prefix}/list/")
    if not _at_least(value, "view"):
        assert _denied(listing)
        assert _denied(client.get(f"{prefix}/show/{own.id}"))
        assert _denied(client.get(f"{prefix}/edit/{own.id}"))
        if foreign is not None:
            assert _denied(client.get(f"{prefix}/show/{foreign.id}"))
        return
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    own_marker = rows.marker(own)
    if own_marker:
        assert own_marker in text
    if foreign is not None and rows.marker(foreign):
        assert rows.marker(foreign) not in text
    assert client.get(f"{prefix}/show/{own.id}").status_code == 200
    if foreign is not None:
        assert client.get(f"{prefix}/show/{foreign.id}").status_code == 404
    edit_own = client.get(f"{prefix}/edit/{own.id}")
    if _at_least(value, "edit"):
        assert edit_own.status_code == 200
        if foreign is not None:
            assert client.get(f"{prefix}/edit/{foreign.id}").status_code == 404
    else:
        assert _denied(edit_own)
    add = client.get(f"{prefix}/add")
    assert (add.status_code == 200) == _at_least(value, "create")
    if _at_least(value, "delete"):
        if foreign is not None:
            assert client.post(f"{prefix}/delete/{foreign.id}").status_code == 404
            bulk = client.post(f"{prefix}/action_post",
                               data={"action": "muldelete", "rowid": [foreign.id]})
            assert bulk.status_code == 404
    else:
        assert _denied(client.post(f"{prefix}/delete/{own.id}"))


def _check_api(client, prefix, value, own, foreign):
    listing = client.get(f"{prefix}/")
    if not _at_least(value, "view"):
        assert listing.status_code in (401, 403)
        assert client.get(f"{prefix}/{own}").status_code in (401, 403)
        return
    assert listing.status_code == 200
    ids = set(listing.get_json()["ids"])
    assert own in ids or listing.get_json()["count"] > len(ids)
    if foreign is not None:
        assert foreign not in ids
        assert client.get(f"{prefix}/{foreign}").status_code == 404
    assert client.get(f"{prefix}/{own}").status_code == 200
    if foreign is not None:
        put = client.put(f"{prefix}/{foreign}", json={})
        assert put.status_code == (404 if _at_least(value, "edit") else put.status_code)
        if not _at_least(value, "edit"):
            assert put.status_code in (401, 403, 405)
        delete = client.delete(f"{prefix}/{foreign}")
        if _at_least(value, "delete"):
            assert delete.status_code in (404, 405)
        else:
            assert delete.status_code in (401, 403, 405)
    elif not _at_least(value, "edit"):
        assert client.put(f"{prefix}/{own}", json={}).status_code in (401, 403, 405)
