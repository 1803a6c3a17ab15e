"""The command boundary and the layers: what the code may not do (read from its
source), and how a refusal reaches a user (over HTTP).

- only `services.boundary` commits; views neither commit nor catch domain errors
  (`views/base.py` is the one place that turns them into a form or a page,
  `views/api.py` hands an API hook's refusal to `app.errors`);
- the layers only look down: core <- models <- security <- services <- views;
- one rights check (`rights.allows` / `rights.require`), no hand-written
  administrator rule;
- a refusal answers 400 / 403 / 404 / 409 by its kind through the API, and a refused or
  warned form stays on the screen with what was typed (issue 13, defect 3).
"""

from __future__ import annotations

import ast
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import Forbidden
from models.programmes import Programme
from models.vouchers import VoucherLine
from security.catalogue import load_catalogue
from tests.contract_rows import contract, count, flashes, message, patient, user_with
from tests.voucher_rows import (
    VOUCHERS,
    screen_confirmation,
    service,
    stored,
    voucher,
    voucher_user,
)

ROOT = Path(__file__).resolve().parents[1]
#: The refusals a module raises under these names are domain errors.
DOMAIN_ERRORS = {"UchetError", "ValidationError", "ScopeError", "Forbidden", "NotFound",
                 "Conflict", "PolicyRefused", "ConfirmationRequired", "ImportRefused"}
#: Business refusals still raised in views, each with the reason it stays there.
REFUSALS_LEFT_IN_VIEWS = {
    # Reading the statistics page's query arguments (dates, office id).
    "views/cabinet/stats.py": 2,
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _commits(path: Path) -> list[int]:
    return [node.lineno for node in ast.walk(_tree(path))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --------------------------------------------------------------------------- the source


def test_only_the_boundary_commits():
    committing = {_rel(p): _commits(p) for package in ("views", "services", "security", "models",
                                                       "core")
                  for p in _modules(package) if _commits(p)}
    # The demo loader commits its batches itself (outside services/ since issue 21, part 8).
    assert committing.keys() <= {"services/boundary.py", "demo/loader.py"}, committing


def test_no_view_catches_a_domain_error_itself():
    catching = {}
    for path in _modules("views"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = ({_name(e) for e in node.type.elts} if isinstance(node.type, ast.Tuple)
                         else {_name(node.type)})
                if names & DOMAIN_ERRORS:
                    catching.setdefault(_rel(path), []).append(node.lineno)
    # views/base.py is the one place where a refusal becomes a form or a page, and
    # views/api.py where an API hook hands it on to app.errors.
    assert catching.keys() <= {"views/base.py", "views/api.py"}, catching


def test_business_refusals_are_raised_in_services_not_in_views():
    raising = {}
    for path in _modules("views"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Raise) and node.exc is not None \
                    and _name(node.exc) in DOMAIN_ERRORS:
                raising[_rel(path)] = raising.get(_rel(path), 0) + 1
    assert raising == REFUSALS_LEFT_IN_VIEWS


@pytest.mark.parametrize(("package", "below"), [
    ("core", ()),
    ("models", ("core",)),
    ("security", ("core", "models")),
])
def test_layers_only_look_down(package, below):
    layers = {"core", "models", "security", "services", "views", "app"}
    upward = {}
    for path in _modules(package):
        for module in _imports(path):
            top = module.split(".")[0]
            if top in layers and top != package and top not in below:
                upward.setdefault(_rel(path), set()).add(module)
    assert upward == {}


def test_the_administrator_rule_lives_in_one_place():
    hand_written = [f"{_rel(p)}:{number}" for package in ("views", "services", "security")
                    for p in _modules(package)
                    for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                    if "is_admin or" in line]
    assert hand_written == []


# --------------------------------------------------------------------------- one rights check


def test_require_names_the_right_from_the_catalogue(app, session):
    from security.effective import resolve
    from tests.support import make_role, make_user, unit

    role = make_role(session, "Без разбивки оплат", {"voucher.split_payments": "no"})
    user = make_user(session, "no_split", roles=[role], home_unit=unit(session, "MSK-TVR"))
    label = load_catalogue().rights["voucher.split_payments"].ru
    with app.test_request_context():
        rights = resolve(session, user)
        assert not rights.allows("voucher.split_payments")
        with pytest.raises(Forbidden) as refused:
            rights.require("voucher.split_payments")
        assert str(refused.value) == f"Нет права «{label}»"


def test_a_missing_right_answers_403_with_the_catalogues_label(session, login):
    owner = voucher(session, patient(session), source="emr")
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_edit_delete": "yes",
                                              "voucher.emr_vouchers": "view"})
    refused = client.put(f"{VOUCHERS}{owner.id}", json={"note": "правка", "version": 1})
    assert refused.status_code == 403
    assert f"«{load_catalogue().rights['voucher.emr_vouchers'].ru}»" in message(refused)
    assert stored(session, type(owner), owner.id).note is None


def test_a_voucher_out_of_sight_answers_404(session, login):
    theirs = voucher(session, patient(session))  # another doctor's, made by nobody here
    item = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_access": "no"})
    changed = client.put(f"{VOUCHERS}{theirs.id}", json={"note": "правка", "version": 1})
    assert changed.status_code == 404
    assert stored(session, type(theirs), theirs.id).note is None
    # A line pointing at it is refused like any link outside the user's scope: for
    # him that voucher does not exist (issue 20, item 1).
    refused = client.post("/api/v1/voucherlines/", json={"voucher": theirs.id,
                                                          "service": item.id, "quantity": 1})
    assert (refused.status_code, message(refused)) == (
        400, "Связанная запись в поле «Талон» не найдена")
    assert count(session, VoucherLine, VoucherLine.voucher_id == theirs.id) == 0


def test_a_stale_version_answers_409(session, login):
    owner = voucher(session, patient(session))
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_edit_delete": "yes"})
    stale = client.put(f"{VOUCHERS}{owner.id}", json={"note": "правка", "version": 0})
    assert stale.status_code == 409
    assert message(stale).startswith("Талон уже изменил другой пользователь")
    assert stored(session, type(owner), owner.id).version == 1


def test_a_broken_rule_answers_400_and_the_warnings_hint_only_the_api(session, login):
    owner = voucher(session, patient(session))
    item = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_edit_delete": "yes",
                                              "voucher.without_attachment": "warn"})
    asked = client.post("/api/v1/voucherlines/", json={"voucher": owner.id,
                                                        "service": item.id, "quantity": 1})
    assert asked.status_code == 400
    assert message(asked).endswith("(в API — параметр confirm=1)")


# --------------------------------------------------------------------------- forms (issue 13)


def _page(response) -> str:
    return re.sub(r"[\xa0\u202f]", " ", html.unescape(response.get_data(as_text=True)))


def _value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return found.group(1) if found else None


def _error_after(page: str, name: str) -> str:
    """Return the text of the error block shown under the field `name`."""
    found = re.search(rf'name="{name}".*?<div class="alert alert-danger">(.*?)</div>', page,
                      re.S)
    return " ".join(found.group(1).split()) if found else ""


def test_a_warned_line_from_the_voucher_card_stays_on_its_form_until_confirmed(session,
                                                                              login):
    owner = voucher(session, patient(session))
    item = service(session)
    session.commit()
    client, _ = voucher_user(session, login, {"voucher.others_edit_delete": "yes",
                                              "voucher.without_attachment": "warn"})
    card = f"/voucherview/show/{owner.id}"
    assert client.get(card).status_code == 200
    url = f"/voucherlineview/add?_flt_0_voucher={owner.id}"
    assert client.get(url).status_code == 200
    form = {"voucher": str(owner.id), "service": str(item.id), "quantity": "3",
            "price": "", "discount": "", "payer_kind": "", "state": "rendered"}
    asked = client.post(url, data=form)
    page = _page(asked)
    warning = screen_confirmation("Пациент не прикреплён к программе, покрывающей услугу: "
                                  "услуга платная")
    # The same form, not the card: what was typed is there, and «Подтверждаю» with it.
    assert asked.status_code == 200 and 'name="confirm"' in page
    assert _value(page, "quantity") == "3"
    assert flashes(asked, "danger") == [warning]
    assert _error_after(page, "confirm") == warning
    assert "confirm=1" not in page and "API" not in page
    assert count(session, VoucherLine, VoucherLine.voucher_id == owner.id) == 0

    saved = client.post(url, data={**form, "confirm": "y"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(card)
    rows = session.execute(VoucherLine.__table__.select().where(
        VoucherLine.voucher_id == owner.id)).all()
    assert [row.quantity for row in rows] == [3]


def test_a_refused_programme_from_the_contract_card_keeps_what_was_typed(session, login):
    agreement = contract(session, "MSK-TVR")
    session.commit()
    client = user_with(session, login, {"contract.contracts": "delete"})
    card = f"/contractview/show/{agreement.id}"
    assert client.get(card).status_code == 200
    url = f"/programmeview/add?_flt_0_contract={agreement.id}"
    assert client.get(url).status_code == 200
    name = "Программа, набранная до отказа"
    refused = client.post(url, data={"contract": str(agreement.id), "code": "T-TYPED",
                                     "name": name, "period_months": "12", "active": "y",
                                     "max_cost": "-100"})
    page = _page(refused)
    message_text = "Максимальная стоимость лечения не может быть отрицательной"
    assert refused.status_code == 200, refused.headers.get("Location")
    assert _value(page, "name") == name and _value(page, "max_cost") == "-100"
    assert _error_after(page, "max_cost") == message_text
    assert count(session, Programme, Programme.contract_id == agreement.id) == 0

    fixed = client.post(url, data={"contract": str(agreement.id), "code": "T-TYPED",
                                   "name": name, "period_months": "12", "active": "y",
                                   "max_cost": "100"})
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith(card)
    saved = session.execute(Programme.__table__.select().where(
        Programme.contract_id == agreement.id)).all()
    assert [(row.name, row.max_cost) for row in saved] == [(name, Decimal("100.00"))]
