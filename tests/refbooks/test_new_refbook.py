"""A new reference book is a model, one declaration and a migration: this test
declares a throw-away book (its table created in a database of its own, in place
of the migration) and registers nothing else by hand. Its screen, REST API, menu
entry, FAB permissions, demo rows and rights-matrix rows all come from the
declaration; the matrix's own checks then run on it for every value of its right.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask_appbuilder import Model
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from demo.refbooks import add_samples
from models.base import CodeNameMixin, label
from models.org import Unit
from tests.security.test_rights_matrix import LEVELS, _check_api, _check_ui, derived_rows, prefix_of
from tests.support import make_role, make_unit, make_user
from views.refbook import RefBook, declared_books, register_refbook, table
from views.registry import REGISTRY

# Its own database and metadata: the session's database and `Model.metadata` (which
# the migrations test compares with the migrations) never see the throw-away table.
pytestmark = pytest.mark.no_db_isolation

RIGHT = "refbook.risk_types"  # any access-level right of the catalogue


class Base(DeclarativeBase):
    pass


class Grade(CodeNameMixin, Base):
    """A throw-away reference book: code, name, active and a number."""

    __tablename__ = "tmp_grade"
    __label__ = "Тестовые разряды"
    id: Mapped[int] = mapped_column(primary_key=True)
    weight: Mapped[int] = mapped_column(info=label("Вес разряда"))


GRADES = RefBook(Grade, RIGHT, "Grades", "refbooks", ("code", "name", "weight", "active"),
                 samples=table("code name weight", ("G-2", "Второй", 2), ("G-1", "Первый", 1)))


@pytest.fixture
def new_book(tmp_path):
    """Yield a fresh app whose registry holds GRADES, on its own SQLite database
    with the declared demo rows; the registry loses GRADES afterwards."""
    from app import create_app
    from app.extensions import db

    before, application = len(REGISTRY), None
    register_refbook(GRADES)
    try:
        application = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new_book.sqlite3'}",
            "TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-000"})
        with application.app_context():
            Model.metadata.create_all(db.engine)
            Base.metadata.create_all(db.engine)  # what the migration would do
            _create_permissions(application.appbuilder)
            add_samples(db.session, [GRADES])
            make_unit(db.session, kind="network", code="NET", name="Сеть")
            db.session.commit()
        yield application
    finally:
        del REGISTRY[before:]
        if application is not None:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def _create_permissions(appbuilder) -> None:
    # `flask uchet sync` creates every view's permissions (FAB's add_permissions);
    # here only the new book's, which is all this database needs.
    sm = appbuilder.sm
    sm.add_role(sm.auth_role_admin)  # FAB gives the administrator each new permission
    for view in appbuilder.baseviews:
        if type(view).__name__ in ("GradeView", "GradeApi"):
            sm.add_permissions_view(view.base_permissions, view.class_permission_name)
    sm.add_permissions_view(["can_get"], "MenuApi")  # every signed-in user's menu
    sm.add_permissions_menu("Grades")
    sm.add_permissions_menu("refbooks")


def _client_with(application, value):
    """Return a signed-in client of a new user whose role holds RIGHT = `value`, and
    the (permission, view) pairs the role was given."""
    from app.extensions import db

    with application.app_context():
        role = make_role(db.session, f"Разряды {value}", {RIGHT: value, "scope.data": "all"})
        home = db.session.scalar(select(Unit).where(Unit.code == "NET"))
        make_user(db.session, f"grades_{value}", roles=[role], home_unit=home)
        permissions = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
    client = application.test_client()
    response = client.post("/login/", data={"username": f"grades_{value}", "password": "demo"})
    assert response.status_code == 302
    return client, permissions


def test_the_declaration_alone_gives_screen_api_menu_permissions_samples_and_matrix(new_book):
    assert GRADES in declared_books()
    clients = {}
    for value in LEVELS:
        client, permissions = _client_with(new_book, value)
        clients[value] = client
        # FAB permissions, from the right's level.
        assert (("can_list", "GradeView") in permissions) == (value != "none")
        assert (("can_add", "GradeView") in permissions) == (value in ("create", "delete"))
        assert (("can_delete", "GradeApi") in permissions) == (value == "delete")
        assert (("menu_access", "Grades") in permissions) == (value != "none")
        # The menu entry, under «Справочники».
        menu = client.get("/api/v1/menu/")
        labels = {child["label"] for item in menu.get_json()["result"]
                  for child in item.get("childs", [])}
        assert ("Тестовые разряды" in labels) == (value != "none"), labels
        # The screen and the API with their derived matrix rows, checked as the
        # matrix checks every book.
        with new_book.app_context():
            from app.extensions import db

            entry = next(e for e in REGISTRY if e.name == "Grades")
            for cls in (entry.view, *entry.apis):
                name = cls.__name__
                rows = derived_rows(cls, "access")
                assert rows is not None, name
                own = rows.own(db.session)
                assert own is not None and own.code == "G-1"  # the list's first row
                prefix = prefix_of(name, flag=False)
                if name == "GradeApi":
                    assert prefix == "/api/v1/grades"
                    _check_api(client, prefix, value, own.id, None)
                else:
                    assert prefix == "/gradeview"
                    _check_ui(client, replace(rows, prefix=prefix), value, own, None)
    # The demo rows of the declaration, shown on the screen.
    page = clients["view"].get("/gradeview/list/").get_data(as_text=True)
    assert "Первый" in page and "Второй" in page and "Вес разряда" in page
