"""Demo reference books and price list (demo.refbooks): every book is
filled (every declared one, read from the registry), the declared samples are
loaded with their links, and the data obey the rules the screens enforce."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

import views
from demo.refbooks import CENTRAL_LAB, add_samples
from models import pricelist as pl
from models import refbooks as rb
from models.org import Unit, UnitKind
from views.refbook import RefBook, declared_books, table

TABLES = [
    rb.BaseDepartment, rb.DepartmentProfile, rb.Department, rb.PriceType, rb.PriceCategory,
    rb.PaymentMethod, rb.PaymentSection, rb.PatientCategory, rb.Currency, rb.RateType,
    rb.ExchangeRate, rb.Tax, rb.Discount, rb.RiskType, rb.ExportCode, rb.Colour,
    pl.ServiceGroup, pl.Service, pl.ServiceComponent, pl.ServiceSet, pl.ServiceSetItem,
    pl.MedicalInstitution, pl.Price,
]


def _count(session, what) -> int:
    return session.scalar(select(func.count()).select_from(what))


def _codes(items) -> set[str]:
    return {i.code for i in items}


@pytest.mark.parametrize("table", [m.__table__ for m in TABLES] + [rb.price_category_branch],
                         ids=lambda t: t.name)
def test_every_reference_book_and_price_list_table_has_rows(session, table):
    assert _count(session, table) > 0


def _declared() -> list[RefBook]:
    views.load_all()
    return declared_books()


@pytest.mark.parametrize("book", _declared(), ids=lambda book: book.name)
def test_every_declared_book_has_demo_rows(session, book):
    assert _count(session, book.model.__table__) > 0, \
        f"give {book.name} its demo rows: `samples` on its declaration"


@pytest.mark.parametrize("book", [b for b in _declared() if b.samples],
                         ids=lambda book: book.name)
def test_the_declared_samples_are_the_demo_rows(session, book):
    rows = book.sample_rows()
    if not hasattr(book.model, "code"):
        assert _count(session, book.model.__table__) >= len(rows)
        return
    codes = {row["code"] for row in rows}
    stored = set(session.scalars(select(book.model.code).where(book.model.code.in_(codes))))
    assert stored == codes


def test_samples_link_by_code_and_load_after_what_they_link_to(session):
    categories = RefBook(rb.PriceCategory, "refbook.price_categories", "T", "refbooks", ("code",),
                         samples=table("code name price_type branches",
                                       ("T-CAT", "Тестовая категория", "T-TYPE", ["MSK-TVR"])))
    types = RefBook(rb.PriceType, "refbook.price_types", "T2", "refbooks", ("code",),
                    samples=table("code name funding", ("T-TYPE", "Тестовый тип", "paid")))
    made = add_samples(session, [categories, types])
    session.flush()
    category = made[rb.PriceCategory]["T-CAT"]
    assert category.price_type is made[rb.PriceType]["T-TYPE"]
    assert [b.code for b in category.branches] == ["MSK-TVR"]
    assert session.scalar(select(rb.PriceCategory).where(rb.PriceCategory.code == "T-CAT"))


def test_a_sample_may_link_to_an_earlier_row_of_its_own_book(session):
    groups = RefBook(pl.ServiceGroup, "price.service_groups", "T", "pricelist", ("code",),
                     samples=table("code name parent", ("T-ROOT", "Корень", None),
                                   ("T-LEAF", "Лист", "T-ROOT")))
    made = add_samples(session, [groups])
    session.flush()
    assert made[pl.ServiceGroup]["T-LEAF"].parent is made[pl.ServiceGroup]["T-ROOT"]


def test_a_sample_linking_to_an_unknown_code_is_refused_naming_it(session):
    book = RefBook(rb.PriceCategory, "refbook.price_categories", "T", "refbooks", ("code",),
                   samples=table("code name price_type", ("T-CAT", "Категория", "NO-SUCH")))
    with pytest.raises(LookupError, match="PriceCategory: no PriceType with code 'NO-SUCH'"):
        add_samples(session, [book])


def test_every_branch_has_the_departments_of_its_org_tree(session):
    branches = session.scalars(select(Unit).where(Unit.kind == UnitKind.branch.value)).all()
    assert len(branches) >= 10
    for branch in branches:
        tree = _codes(c for c in branch.children if c.kind == UnitKind.department.value)
        rows = session.scalars(select(rb.Department).where(rb.Department.branch_id == branch.id))
        rows = rows.all()
        assert tree and _codes(rows) == tree, branch.code
        for row in rows:
            assert row.code.rsplit("-", 1)[1] == row.base_department.code, row.code
            assert row.profile is not None and row.active, row.code


def test_each_price_category_is_used_by_the_branches_of_its_regions(session):
    categories = {c.code: c for c in session.scalars(select(rb.PriceCategory))}
    assert {c.price_type.funding for c in categories.values()} == {"paid", "oms", "dms"}
    for category in categories.values():
        assert category.branches, category.code
        assert {b.kind for b in category.branches} == {UnitKind.branch.value}, category.code
    regions = {code: {b.parent.code for b in c.branches} for code, c in categories.items()}
    assert regions["MSK-BASE"] == regions["DMS-MSK"] == {"MSK"}
    assert regions["SPB"] == {"SPB"} and regions["VOLGA"] == {"KZN"}
    all_branches = _count(session, select(Unit).where(Unit.kind == "branch").subquery())
    assert len(categories["OMS"].branches) == all_branches


def test_no_two_prices_of_a_service_in_a_category_overlap(session):
    a, b = aliased(pl.Price), aliased(pl.Price)
    overlaps = select(func.count()).select_from(a).join(b, and_(
        a.service_id == b.service_id, a.category_id == b.category_id, a.id < b.id,
        or_(a.valid_to.is_(None), a.valid_to >= b.valid_from),
        or_(b.valid_to.is_(None), b.valid_to >= a.valid_from)))
    assert session.scalar(overlaps) == 0
    # The check means something: some services have a closed price before the current one.
    closed = session.scalars(select(pl.Price).where(pl.Price.valid_to.is_not(None))).all()
    assert len(closed) >= 20
    for price in closed:
        assert price.valid_to >= price.valid_from
        later = session.scalar(select(pl.Price).where(
            pl.Price.service_id == price.service_id, pl.Price.category_id == price.category_id,
            pl.Price.valid_from > price.valid_to, pl.Price.valid_to.is_(None)))
        assert later is not None, price


def test_every_price_is_positive_in_roubles_from_a_year_start(session):
    assert session.scalar(select(func.min(pl.Price.amount))) > 0
    prices = session.scalars(select(pl.Price)).all()
    assert {p.currency.code for p in prices} == {"RUB"}
    assert {(p.valid_from.month, p.valid_from.day) for p in prices} == {(1, 1)}
    assert all(p.tax is not None for p in prices)
    medical = [p for p in prices if p.service.group.code != "OTH"]
    assert {p.tax.rate for p in medical} == {0}
    assert session.scalar(select(func.min(pl.ServiceSet.price))) > 0


def test_every_service_has_one_current_price_per_category_that_funds_it(session):
    services = session.scalars(select(pl.Service)).all()
    assert len(services) >= 200
    current = Counter()
    for service_id, code in session.execute(
        select(pl.Price.service_id, rb.PriceCategory.code)
        .join(rb.PriceCategory, pl.Price.category_id == rb.PriceCategory.id)
        .where(pl.Price.valid_to.is_(None))
    ):
        current[service_id, code] += 1
    for service in services:
        for code in ("MSK-BASE", "SPB", "VOLGA"):
            assert current[service.id, code] == 1, (service.code, code)
        assert current[service.id, "DMS-MSK"] == (service.insurance in ("dms", "both"))
        assert current[service.id, "OMS"] == (service.insurance in ("oms", "both"))


def test_services_have_unique_names_groups_and_lab_binding(session):
    services = session.scalars(select(pl.Service)).all()
    assert len({s.name for s in services}) == len(services)
    assert {s.insurance for s in services} == set(pl.INSURANCE_KINDS)
    lab = [s for s in services if s.group.parent is not None and s.group.parent.code == "LAB"]
    assert lab and {s.department.code for s in lab} == {CENTRAL_LAB}
    assert any(s.department is None for s in services)
    roots = session.scalars(select(pl.ServiceGroup).where(pl.ServiceGroup.parent_id.is_(None)))
    assert len(roots.all()) >= 4


def test_each_composite_service_has_components(session):
    composites = session.scalars(select(pl.Service).where(pl.Service.composite.is_(True))).all()
    assert len(composites) >= 3
    for service in composites:
        parts = session.scalars(select(pl.ServiceComponent).where(
            pl.ServiceComponent.composite_id == service.id)).all()
        assert len(parts) >= 2, service.name
        assert all(not p.component.composite and p.quantity > 0 for p in parts), service.name
    owners = session.scalars(select(pl.ServiceComponent.composite_id).distinct()).all()
    assert set(owners) == {s.id for s in composites}
    thyroid = next(s for s in composites if "Щитовидная" in s.name)
    names = set(session.scalars(
        select(pl.Service.name).join(pl.ServiceComponent, pl.ServiceComponent.component_id
                                     == pl.Service.id)
        .where(pl.ServiceComponent.composite_id == thyroid.id)))
    assert {"ТТГ", "Т4 свободный"} <= names


def test_each_service_set_has_items(session):
    for service_set in session.scalars(select(pl.ServiceSet)):
        items = _count(session, select(pl.ServiceSetItem)
                       .where(pl.ServiceSetItem.set_id == service_set.id).subquery())
        assert items >= 2, service_set.name


def test_institutions_are_internal_and_external_with_valid_inns(session):
    institutions = session.scalars(select(pl.MedicalInstitution)).all()
    assert {i.external for i in institutions} == {True, False}
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    for inn in (i.inn for i in institutions):
        assert re.fullmatch(r"\d{10}", inn), inn
        check = sum(int(d) * w for d, w in zip(inn[:9], weights, strict=True)) % 11 % 10
        assert check == int(inn[9]), inn


def test_book_values_obey_the_screen_rules(session):
    for discount in session.scalars(select(rb.Discount)):
        assert (discount.percent is None) != (discount.amount is None), discount.code
        assert discount.kind in ("discount", "markup")
        assert discount.valid_to is None or discount.valid_to >= discount.valid_from
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c.hex) for c in session.scalars(select(rb.Colour)))
    assert {t.rate for t in session.scalars(select(rb.Tax))} == {0, 10, 20}
    sections = session.scalars(select(rb.PaymentSection.register_section)).all()
    assert sorted(sections) == [1, 2, 3]
    currencies = {c.code: c for c in session.scalars(select(rb.Currency))}
    assert currencies["RUB"].name == "Российский рубль" and currencies["RUB"].symbol == "₽"


def test_exchange_rates_cover_a_month_per_currency_and_rate_type(session):
    rows = session.execute(
        select(rb.Currency.code, rb.RateType.code, func.count(), func.min(rb.ExchangeRate.value))
        .join(rb.Currency).join(rb.RateType)
        .group_by(rb.Currency.code, rb.RateType.code)).all()
    assert {(c, t) for c, t, _n, _m in rows} == {(c, t) for c in ("USD", "EUR")
                                                 for t in ("CBR", "INT")}
    assert all(n >= 28 and low > 0 for _c, _t, n, low in rows)
