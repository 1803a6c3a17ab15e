"""The role x endpoint x row matrix, generated from the catalogue and the view
registry: for every governed screen and API and every value of its governing
right, a user of branch MSK-TVR (scope: own unit and children) gets exactly
what the value allows, on a row he may reach and, where rows are scoped, on a
row he may not (which must answer 404).

The rows come from the registry: a reference book's screen and API are tested on
the first row its list shows (a book whose model is placed in the organisation
tree by a unit column: on the first row under MSK-TVR, and on one under SPB-NEV as
the foreign row); a screen under a yes/no right on its default page. ROWS adds or
overrides rows where that is not enough (rows placed through a parent, a marker
other than the code, screens that are not reference books); COVERED_ELSEWHERE
names views tested in their own files. A governed view none of these covers fails
the first test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import current_app, url_for
from flask_appbuilder.api import BaseApi
from sqlalchemy import select

from models import (
    Address,
    Contract,
    Individual,
    Insurer,
    MedicalInstitution,
    Patient,
    PrepaymentSchemeStep,
    Programme,
    ProgrammeService,
)
from models.org import UnitClosure
from models.staff import Employee
from models.user import AppUser
from security.catalogue import load_catalogue
from tests.support import make_role, make_user, unit

LEVELS = ["none", "view", "edit", "create", "delete"]
OWN_UNIT, FOREIGN_UNIT = "MSK-TVR", "SPB-NEV"


def _code(row):
    return getattr(row, "code", None)


@dataclass(frozen=True)
class Rows:
    """How to find the rows a view is tested on, and where the view lives
    (`prefix` None: where the registered view says)."""

    own: Callable | None
    foreign: Callable | None
    prefix: str | None = None
    marker: Callable = _code


def _unit(code):
    return lambda s: unit(s, code)


def _user(username):
    return lambda s: s.scalar(select(AppUser).where(AppUser.username == username))


def _first(model, *where):
    return lambda s: s.scalars(select(model).where(*where).order_by(model.id)).first()


def _book(model, *, own=None, foreign=None, view=None, marker=_code):
    """Rows of a generated reference book that its declaration cannot give: its
    screen and its API."""
    getter = own or _first(model)
    return {f"{view or model.__name__}{kind}": Rows(getter, foreign, None, marker)
            for kind in ("View", "Api")}


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
    **_book(MedicalInstitution, view="InternalInstitution",
            own=_first(MedicalInstitution, MedicalInstitution.external.is_(False)),
            foreign=_first(MedicalInstitution, MedicalInstitution.external.is_(True))),
    **_book(MedicalInstitution, view="ExternalInstitution",
            own=_first(MedicalInstitution, MedicalInstitution.external.is_(True)),
            foreign=_first(MedicalInstitution, MedicalInstitution.external.is_(False))),
    # Payers: the network's rows are read below it; a branch's rows stay in the branch.
    **_book(Insurer, own=_owned(Insurer, "NET"), foreign=_owned(Insurer, "SPB-NEV")),
    **_book(Individual, own=_owned(Individual, "MSK-TVR"),
            foreign=_owned(Individual, "SPB-NEV"), marker=lambda row: row.phone),
    **_book(Address, own=_owned(Address, "NET"), marker=lambda row: None),
    **_book(PrepaymentSchemeStep, marker=lambda row: None),
    # Contracts and what hangs under them: read and written with the signing branch.
    **_book(Contract, own=_owned(Contract, "MSK-TVR", "branch_id"),
            foreign=_owned(Contract, "SPB-NEV", "branch_id"), marker=lambda row: row.number),
    **_book(Programme, own=_under_contract(Programme, "MSK-TVR"),
            foreign=_under_contract(Programme, "SPB-NEV")),
    **_book(ProgrammeService, own=_programme_service("MSK-TVR"),
            foreign=_programme_service("SPB-NEV"), marker=lambda row: None),
    # The alphabetically first patient of MSK-TVR: the list's first page shows him.
    **_book(Patient, own=lambda s: s.scalars(select(Patient).where(
                Patient.home_branch_id == unit(s, "MSK-TVR").id)
                .order_by(Patient.last_name, Patient.id)).first(),
            foreign=_owned(Patient, "SPB-NEV", "home_branch_id"), marker=lambda row: row.phone),
    **_book(Employee, own=_owned(Employee, "MSK-TVR", "branch_id"),
            foreign=_owned(Employee, "SPB-NEV", "branch_id"), marker=lambda row: None),
}
# Views whose rights are not access levels on one right: tested in their own files.
COVERED_ELSEWHERE = {
    "PriceView": "tests/refbooks/test_prices.py (view and edit scopes by branch)",
    "PriceApi": "tests/refbooks/test_prices.py",
    "PriceImportView": "tests/imports/test_price_import.py",
    # The same import on the import framework: own / all by category, refused without.
    "ImportServicePricesView": "tests/imports/test_catalogue_imports.py",
    # Read under «Договоры», written under a yes/no right of their own.
    "AttachmentView": "tests/contracts/test_attachments.py",
    "AttachmentApi": "tests/contracts/test_attachments.py",
    "PaymentGuaranteeView": "tests/contracts/test_guarantees.py",
    "PaymentGuaranteeApi": "tests/contracts/test_guarantees.py",
    "InstalmentView": "tests/contracts/test_instalment_schedule.py",
    "InstalmentApi": "tests/contracts/test_instalment_schedule.py",
    "InstalmentScheduleView": "tests/contracts/test_instalment_schedule.py",
    # Access levels plus «Доступ к талонам других пользователей», which narrows the rows.
    "VoucherView": "tests/vouchers/test_vouchers.py",
    "VoucherApi": "tests/vouchers/test_vouchers.py",
    "VoucherLineView": "tests/vouchers/test_vouchers.py",
    "VoucherLineApi": "tests/vouchers/test_vouchers.py",
    # Invoices: an access level per kind plus the yes/no rights of «Документы / Счета»;
    # made and changed only by commands.
    "PatientInvoiceView": "tests/invoices/test_invoice_patients.py",
    "PatientInvoiceApi": "tests/invoices/test_invoice_patients.py",
    "OrganisationInvoiceView": "tests/invoices/test_invoice_contracts.py",
    "OrganisationInvoiceApi": "tests/invoices/test_invoice_contracts.py",
    "IndividualInvoiceView": "tests/invoices/test_invoice_contracts.py",
    "IndividualInvoiceApi": "tests/invoices/test_invoice_contracts.py",
    "PatientServicesView": "tests/invoices/test_service_info.py",
    # Money: hand-written screens and APIs with an access level per kind of account
    # plus the yes/no rights of «Документы / Оплата» and «Касса», checked by commands.
    "PatientAccountsView": "tests/money/test_money_rights.py",
    "OrganisationAccountsView": "tests/money/test_money_rights.py",
    "PatientAccountApi": "tests/money/test_money_api.py",
    "CashDeskView": "tests/money/test_money_rights.py, tests/money/test_cash_desk.py",
    "CashApi": "tests/money/test_money_api.py",
}


def _placed(model) -> bool:
    # Any scope declaration counts (`__scope__`, …): a model placed in the tree
    # in a way this file cannot derive must be given its rows in ROWS.
    return any(name.startswith("__scope") for base in model.__mro__ for name in vars(base))


def _unit_column(model) -> tuple[str, bool] | None:
    """Return (unit column, shared) of a model placed by a unit column alone, or
    None (placed through a parent, with readers or rules of its own)."""
    path = getattr(model, "__scope__", None)  # a models.scoping.ScopePath
    if path is not None:
        plain = not any(getattr(path, name, None) for name in
                        ("through", "where", "readers", "rules", "rules_of"))
        return (path.column, bool(path.shared)) if plain and path.column else None
    # The declaration before ScopePath: `__scope_column__` / `__scope_clause__`.
    column = getattr(model, "__scope_column__", None)
    if hasattr(model, "__scope_clause__") or not isinstance(column, str):
        return None
    return column, bool(getattr(model, "__scope_shared__", False))


def _first_listed(book, *where):
    """The first row the book's list shows (its declared order, then id)."""
    column, direction = book.order
    key = getattr(book.model, column)
    key = key.desc() if direction == "desc" else key.asc()
    return lambda s: s.scalars(select(book.model).where(*where)
                               .order_by(key, book.model.id)).first()


def _under(book, column, code, *, shared=False):
    """The first listed row whose unit `column` is `code` or below it (`shared`:
    or above it, rows a network or region shares with the units below)."""
    column = getattr(book.model, column)

    def rows(s):
        place = unit(s, code).id
        units = select(UnitClosure.descendant_id).where(UnitClosure.ancestor_id == place)
        if shared:
            units = units.union(
                select(UnitClosure.ancestor_id).where(UnitClosure.descendant_id == place))
        return _first_listed(book, column.in_(units))(s)

    return rows


def derived_rows(cls, right_kind: str) -> Rows | None:
    """Return the rows a registered view or API is tested on by default, or None
    when the registry cannot tell them."""
    if right_kind == "flag":
        return Rows(None, None)  # its default page, open or closed
    book = getattr(cls, "refbook", None)
    if book is None or right_kind != "access":
        return None
    marker = _code if hasattr(book.model, "code") else (lambda row: None)
    if not _placed(book.model):
        return Rows(_first_listed(book), None, None, marker)
    placed = _unit_column(book.model)
    if placed is None:
        return None
    column, shared = placed
    return Rows(_under(book, column, OWN_UNIT, shared=shared),
                _under(book, column, FOREIGN_UNIT), None, marker)


def governed_views() -> dict[str, type]:
    """Return {class name: class} of every registered view and API a right governs."""
    import views
    from views.registry import REGISTRY

    views.load_all()
    return {cls.__name__: cls for entry in REGISTRY for cls in (entry.view, *entry.apis)
            if getattr(cls, "governing_right", None)}


def rows_of(cls) -> Rows | None:
    """Return the rows `cls` is tested on: ROWS's, else the derived ones."""
    kind = load_catalogue().rights[cls.governing_right].kind
    return ROWS.get(cls.__name__) or derived_rows(cls, kind)


GOVERNED = governed_views()
CASES = [
    (view, cls.governing_right, value)
    for view, cls in sorted(GOVERNED.items()) if view not in COVERED_ELSEWHERE
    for value in load_catalogue().rights[cls.governing_right].values
]


def test_every_governed_view_is_in_the_matrix():
    tested = set(GOVERNED) - set(COVERED_ELSEWHERE)
    missing = sorted(name for name in tested if rows_of(GOVERNED[name]) is None)
    assert not missing, f"give these governed views their rows in ROWS: {missing}"
    assert set(ROWS) <= tested, f"ROWS names views that are not tested here: " \
                                f"{sorted(set(ROWS) - tested)}"
    assert set(COVERED_ELSEWHERE) <= set(GOVERNED)


def prefix_of(name: str, flag: bool) -> str:
    """Return where the registered view `name` lives in the running app: its route
    base (a flag-governed screen: its default page; an API: its list)."""
    view = next(v for v in current_app.appbuilder.baseviews if type(v).__name__ == name)
    if isinstance(view, BaseApi):
        return f"{view.route_base}/" if flag else view.route_base
    if not flag:
        return view.route_base
    with current_app.test_request_context():
        return url_for(f"{name}.{view.default_view}")


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
    rows = rows_of(GOVERNED[view])
    flag = load_catalogue().rights[right].kind == "flag"
    rows = dataclasses.replace(rows, prefix=rows.prefix or prefix_of(view, flag))
    own = rows.own(session) if rows.own else None
    foreign = rows.foreign(session) if rows.foreign else None
    if rows.own is not None:
        assert own is not None, f"{view}: the demo data has no row to test on"
    client = as_role(right, value)
    if flag:
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
