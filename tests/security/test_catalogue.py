"""The rights catalogue: it covers the seed, encodes its dependencies, refuses a malformed
file naming the right, merges several roles' values the permissive way, and stored rights
that no longer fit it stop `flask uchet check` and `sync_all`."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import delete, select, update

from models.rights import RoleRight
from security.catalogue import CatalogueError, RightValueError, load_catalogue
from security.presets import load_presets
from security.sync import ensure_rights_rows, role_values, sync_all

SEED = Path("/work/shared/seeds/003_042619cef73a7190.txt")
SEED_SECTIONS = [
    "Справочники",
    "Прейскурант услуг",
    "Организации и договоры",
    "Документы / Талоны",
    "Документы / Счета",
    "Документы / Оплата",
    "Документы / Касса",
    "Просмотр информации об оказанных пациенту услугах",
    "Экспорт в бухгалтерию",
    "Импорт",
    "Параметры",
]
SEED_REFBOOKS = [
    "Базовые отделения",
    "Профили отделений",
    "Отделения",
    "Типы цен",
    "Категории цен",
    "Способы оплаты",
    "Секции оплаты",
    "Категории пациентов",
    "Валюты",
    "Курсы валют",
    "Типы курсов валют",
    "Налоги",
    "Скидки/Надбавки",
    "Типы рисков",
    "Коды экспорта",
    "Цвета",
]
# Sections that do not come from seed 003 (cabinet: seed 000; the others are Uchet's own).
NOT_FROM_SEED_003 = {"cabinet", "general", "admin", "patients"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def seed_text():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is not available")
    return SEED.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- coverage


def test_every_seed_section_and_the_cabinet_are_sections(catalogue, seed_text):
    names = [section.ru for section in catalogue.sections.values()]
    for name in SEED_SECTIONS:
        assert name in seed_text, f"the test's section list is wrong: {name}"
        assert name in names, f"section «{name}» of the seed is missing"
    cabinet = [s for s in catalogue.sections.values() if s.ru == "Личный кабинет"]
    assert cabinet, "the cabinet section is missing"
    assert catalogue.section_rights(cabinet[0].code), "the cabinet section has no rights"


def test_every_seed_section_holds_rights(catalogue):
    for section in catalogue.sections.values():
        assert catalogue.section_rights(section.code), f"section {section.code} is empty"


def test_the_sixteen_reference_books_are_rights_of_the_refbooks_section(catalogue, seed_text):
    section = next(s for s in catalogue.sections.values() if s.ru == "Справочники")
    labels = [right.ru for right in catalogue.section_rights(section.code)]
    for label in SEED_REFBOOKS:
        assert label in seed_text, f"the test's reference book list is wrong: {label}"
    assert labels == SEED_REFBOOKS
    for right in catalogue.section_rights(section.code):
        assert right.kind == "access"
        assert right.default == "none"


def test_the_catalogue_holds_at_least_130_rights(catalogue):
    assert len(catalogue.rights) >= 130


def test_every_seed_right_label_occurs_verbatim_in_the_seed(catalogue, seed_text):
    missing = [
        (right.code, right.ru)
        for right in catalogue.rights.values()
        if right.section not in NOT_FROM_SEED_003 and right.ru.lstrip("·") not in seed_text
    ]
    assert missing == []


def test_every_right_denies_by_default_where_it_grants_access(catalogue):
    for right in catalogue.rights.values():
        if right.kind in ("access", "scope"):
            assert right.default == "none", right.code
        elif right.kind == "flag":
            assert right.default == "no", right.code
        elif right.kind == "policy":
            assert right.default == "forbid", right.code


def test_default_presets_load_and_satisfy_the_dependencies(catalogue):
    presets = load_presets()
    assert {"admin", "registrar", "branch_head", "client_user"} <= presets.keys()
    for code, preset in presets.items():
        assert set(preset.values) == set(catalogue.rights), code
        assert catalogue.check_dependencies(preset.values) == [], code


# --------------------------------------------------------------------------- dependencies


@pytest.mark.parametrize(
    ("code", "value", "needs", "too_low", "enough"),
    [
        ("refbook.exchange_rates", "edit", "refbook.currencies", "view", "edit"),
        ("contract.attach_patients", "yes", "contract.contracts", "none", "view"),
        ("invoice.patients.confirm", "yes", "invoice.patients", "view", "edit"),
    ],
)
def test_seed_dependency_is_enforced(catalogue, code, value, needs, too_low, enough):
    problems = catalogue.check_dependencies({code: value, needs: too_low})
    assert len(problems) == 1
    assert catalogue.rights[code].ru.lstrip("·") in problems[0]
    assert catalogue.rights[needs].ru in problems[0]
    assert catalogue.check_dependencies({code: value, needs: enough}) == []


def test_a_missing_right_counts_as_its_default_in_a_dependency(catalogue):
    assert catalogue.check_dependencies({"refbook.exchange_rates": "delete"}) != []


def test_a_dependency_applies_only_from_its_when_level(catalogue):
    # Viewing exchange rates does not need the right to edit currencies.
    values = {"refbook.exchange_rates": "view", "refbook.currencies": "none"}
    assert catalogue.check_dependencies(values) == []


def test_check_dependencies_rejects_unknown_codes_and_values(catalogue):
    with pytest.raises(RightValueError, match=r"refbook\.unicorns"):
        catalogue.check_dependencies({"refbook.unicorns": "view"})
    with pytest.raises(RightValueError, match=r"refbook\.currencies"):
        catalogue.check_dependencies({"refbook.currencies": "superuser"})


def test_price_categories_inherit_price_types(catalogue):
    right = catalogue.rights["refbook.price_categories"]
    assert right.inherit_from == "refbook.price_types"


def test_ensure_rights_rows_copies_price_types_into_a_role_lacking_price_categories(session):
    role = session.scalar(select(Role).where(Role.name == "Регистратор"))
    row = session.scalar(
        select(RoleRight).where(RoleRight.role_id == role.id,
                                RoleRight.code == "refbook.price_types")
    )
    row.value = "create"  # differs from the preset and from the default
    session.execute(
        delete(RoleRight).where(RoleRight.role_id == role.id,
                                RoleRight.code == "refbook.price_categories")
    )
    session.flush()
    assert "refbook.price_categories" not in role_values(session, role)

    ensure_rights_rows(session, role, load_catalogue())
    session.flush()

    assert role_values(session, role)["refbook.price_categories"] == "create"


def test_sync_all_copies_price_types_into_an_existing_preset_role(app, session):
    role = session.scalar(select(Role).where(Role.name == "Регистратор"))
    session.execute(
        update(RoleRight)
        .where(RoleRight.role_id == role.id, RoleRight.code == "refbook.price_types")
        .values(value="create")
    )
    session.execute(
        delete(RoleRight).where(RoleRight.role_id == role.id,
                                RoleRight.code == "refbook.price_categories")
    )
    session.commit()

    sync_all(session, app.appbuilder)
    session.flush()

    assert role_values(session, role)["refbook.price_categories"] == "create"


def test_ensure_rights_rows_gives_a_new_right_its_default_without_inherit_from(session):
    role = session.scalar(select(Role).where(Role.name == "Регистратор"))
    session.execute(
        delete(RoleRight).where(RoleRight.role_id == role.id, RoleRight.code == "admin.units")
    )
    session.flush()
    ensure_rights_rows(session, role, load_catalogue())
    session.flush()
    assert role_values(session, role)["admin.units"] == "none"


# --------------------------------------------------------------------------- loader errors

MINIMAL = {
    "version": 1,
    "kinds": {
        "access": {"values": ["none", "view", "edit"]},
        "flag": {"values": ["no", "yes"]},
        "number": {},
        "choice": {},
    },
    "value_labels": {
        "access": {
            "none": {"ru": "нет доступа", "en": "no access"},
            "view": {"ru": "просмотр", "en": "view"},
            "edit": {"ru": "изменение", "en": "edit"},
        },
        "flag": {"no": {"ru": "нет", "en": "no"}, "yes": {"ru": "да", "en": "yes"}},
    },
    "sections": [{"code": "books", "ru": "Справочники", "en": "Books"}],
    "rights": [
        {"code": "book.colours", "section": "books", "ru": "Цвета", "en": "Colours",
         "kind": "access", "default": "none"},
        {"code": "book.taxes", "section": "books", "ru": "Налоги", "en": "Taxes",
         "kind": "access", "default": "none"},
    ],
}


def _write(tmp_path, data) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _with_right(**right):
    data = copy.deepcopy(MINIMAL)
    data["rights"].append({"section": "books", "ru": "Проба", "en": "Probe", **right})
    return data


def test_the_minimal_catalogue_loads(tmp_path):
    loaded = load_catalogue(_write(tmp_path, MINIMAL))
    assert list(loaded.rights) == ["book.colours", "book.taxes"]


@pytest.mark.parametrize(
    ("data", "code", "problem"),
    [
        (_with_right(code="book.colours", kind="access", default="none"),
         "book.colours", "duplicate"),
        (_with_right(code="book.probe", kind="superpower", default="none"),
         "book.probe", "unknown kind"),
        (_with_right(code="book.probe", kind="access", default="delete"),
         "book.probe", "default"),
        (_with_right(code="book.probe", kind="access", default="none",
                     depends=[{"right": "book.unicorns", "min": "view", "when": "view"}]),
         "book.probe", "book.unicorns"),
        (_with_right(code="book.probe", kind="choice", default="a"),
         "book.probe", "values"),
        (_with_right(code="book.probe", kind="number", unit="days", default=-1),
         "book.probe", "default"),
    ],
    ids=["duplicate-code", "unknown-kind", "default-not-a-value", "unknown-dependency",
         "choice-without-values", "negative-number-default"],
)
def test_a_malformed_right_is_refused_naming_it(tmp_path, data, code, problem):
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_write(tmp_path, data))
    assert code in str(exc.value)
    assert problem in str(exc.value)


def test_a_dependency_with_an_invalid_minimum_is_refused_naming_the_right(tmp_path):
    data = _with_right(code="book.probe", kind="access", default="none",
                       depends=[{"right": "book.taxes", "min": "superuser", "when": "view"}])
    with pytest.raises(CatalogueError, match=r"book\.probe"):
        load_catalogue(_write(tmp_path, data))


PRESET = {
    "ru": "Проба",
    "en": "Probe",
    "description": {"ru": "Проба", "en": "Probe"},
    "side": "back_office",
}


@pytest.mark.parametrize(
    ("rights", "named"),
    [
        ({"refbook.unicorns": "view"}, "refbook.unicorns"),
        ({"refbook.colours": "superuser"}, "superuser"),
        ({"refbook.exchange_rates": "edit"}, "Курсы валют"),
    ],
    ids=["unknown-code", "invalid-value", "broken-dependency"],
)
def test_a_bad_preset_is_refused_naming_the_preset(tmp_path, rights, named):
    path = tmp_path / "presets.yaml"
    data = {"presets": {"probe_role": {**PRESET, "rights": rights}}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError) as exc:
        load_presets(path, load_catalogue())
    assert "probe_role" in str(exc.value)
    assert named in str(exc.value)


# --------------------------------------------------------------------------- merging


@pytest.mark.parametrize(
    ("code", "values", "merged"),
    [
        ("refbook.colours", ["view", "delete", "none"], "delete"),
        ("refbook.colours", ["none", "none"], "none"),
        ("contract.attach_patients", ["no", "yes"], "yes"),
        ("price.prices.view", ["own", "none"], "own"),
        ("price.prices.view", ["own", "all", "none"], "all"),
        ("voucher.without_staff", ["forbid", "warn"], "warn"),
        ("voucher.without_staff", ["warn", "allow", "forbid"], "allow"),
        ("voucher.without_staff", ["forbid"], "forbid"),
        # "да" restricts: the role that does not restrict wins.
        ("voucher.control_branches", ["yes", "no"], "no"),
        # Zero means unlimited and beats any limit.
        ("voucher.edit_days", ["3", "0", "30"], "0"),
        ("voucher.edit_days", ["3", 30], "30"),
        ("params.warn_balance", ["0", "5"], "5"),
    ],
)
def test_merge_keeps_the_most_permissive_value(catalogue, code, values, merged):
    assert catalogue.merge(code, values) == merged


def test_merge_of_no_values_is_the_default(catalogue):
    assert catalogue.merge("refbook.colours", []) == "none"
    assert catalogue.merge("scope.data", []) == frozenset({"own_unit"})


def test_data_scope_merges_as_a_union(catalogue):
    merged = catalogue.merge("scope.data", ["own_unit", "delegated", "own_unit"])
    assert merged == frozenset({"own_unit", "delegated"})


def test_merge_rejects_an_invalid_value(catalogue):
    with pytest.raises(RightValueError, match=r"refbook\.colours"):
        catalogue.merge("refbook.colours", ["view", "superuser"])


# --------------------------------------------------------------------------- stored rights


def _registrar(session) -> Role:
    return session.scalar(select(Role).where(Role.name == "Регистратор"))


def test_uchet_check_passes_on_the_demo_database(app, session):
    result = app.test_cli_runner().invoke(args=["uchet", "check"])
    assert result.exit_code == 0, result.output
    assert "error" not in result.output


def test_uchet_check_fails_naming_an_unknown_stored_code(app, session):
    session.add(RoleRight(role_id=_registrar(session).id, code="refbook.unicorns",
                          value="view"))
    session.commit()
    result = app.test_cli_runner().invoke(args=["uchet", "check"])
    assert result.exit_code != 0
    assert "refbook.unicorns" in result.output
    assert "Регистратор" in result.output


def test_uchet_check_fails_naming_an_invalid_stored_value(app, session):
    row = session.scalar(select(RoleRight).where(
        RoleRight.role_id == _registrar(session).id, RoleRight.code == "admin.units"))
    row.value = "superuser"
    session.commit()
    result = app.test_cli_runner().invoke(args=["uchet", "check"])
    assert result.exit_code != 0
    assert "admin.units" in result.output
    assert "superuser" in result.output


def test_sync_all_refuses_stored_rights_that_do_not_fit(app, session):
    session.add(RoleRight(role_id=_registrar(session).id, code="refbook.unicorns",
                          value="view"))
    session.commit()
    with pytest.raises(CatalogueError, match=r"refbook\.unicorns"):
        sync_all(session, app.appbuilder)
    session.rollback()


@pytest.mark.no_db_isolation
def test_a_server_with_rights_outside_the_catalogue_refuses_to_serve(app, database_url):
    """The first request of a worker checks the stored rights; a bad one stops it."""
    from app import create_app
    from app.extensions import db

    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "Регистратор"))
        bad = RoleRight(role_id=role.id, code="voucher.no_such_right", value="yes")
        db.session.add(bad)
        db.session.commit()
        bad_id = bad.id
    try:
        worker = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
        response = worker.test_client().get("/login/")
        assert response.status_code == 503
        assert "voucher.no_such_right" in response.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.execute(delete(RoleRight).where(RoleRight.id == bad_id))
            db.session.commit()
    healthy = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert healthy.test_client().get("/login/").status_code == 200
