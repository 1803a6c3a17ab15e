"""Choices of organisation units that fit their field (GUIDE §6 «Choices fit the field»).

One place for every screen with a unit or department field (`views.base` calls it):
- a field offers only the kinds of unit it means: a «Филиал» the branches, a
  referring unit the client's offices (`FIELD_KINDS`), always within the user's scope;
- a unit reads as itself and, for a department, its branch: four «Терапевтическое
  отделение» become «Терапевтическое отделение (Филиал «Тверской»)»;
- a department (reference book) or staff field next to a branch field offers the
  chosen branch's departments or staff: each option names its branch and choices.js
  keeps those of the chosen branch;
- an add form opens with the user's own unit (or the nearest unit above it that the
  field offers) chosen.
"""

from __future__ import annotations

from flask import g
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from models.org import Unit, UnitClosure, UnitKind
from models.refbooks import Department
from models.staff import Employee

BRANCHES = (UnitKind.branch.value,)
#: A client's offices: the units that send patients and ask through the cabinet.
CLIENT_OFFICES = (UnitKind.client.value, UnitKind.head_unit.value,
                  UnitKind.client_branch.value)
#: The provider's units that own shared rows (organisations, insurers, addresses).
OWNERS = (UnitKind.network.value, UnitKind.region.value, UnitKind.branch.value)

#: relationship name -> the kinds of unit the field offers (others: every kind)
FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "branch": BRANCHES,
    "branches": BRANCHES,
    "home_branch": BRANCHES,
    "referring_unit": CLIENT_OFFICES,
    "unit": OWNERS,
}
#: (dependent field, related model) -> (the field it depends on, the attribute naming
#: the option's parent in it)
DEPENDENT = {Department: ("branch", "branch_id"), Employee: ("branch", "branch_id")}


def unit_label(unit: Unit) -> str:
    """Return how a unit reads in a choice: its name, and for a department its branch."""
    if unit.kind == UnitKind.department and unit.parent is not None:
        return f"{unit.name} ({unit.parent.short_name or unit.parent.name})"
    return unit.name


class FilterUnitKinds(BaseFilter):
    """FAB filter keeping the units of the given kinds (a dropdown's choices)."""

    name = "Вид подразделения"
    arg_name = "uchet_unit_kinds"

    def apply(self, query, value):
        return query.filter(Unit.kind.in_(value))


def kind_filters(model: type) -> dict[str, list]:
    """Return FAB related-field filters narrowing each unit field of `model` to the
    kinds of unit it means (see FIELD_KINDS)."""
    from sqlalchemy import inspect as sa_inspect

    return {rel.key: [["kind", FilterUnitKinds, FIELD_KINDS[rel.key]]]
            for rel in sa_inspect(model).relationships
            if rel.mapper.class_ is Unit and rel.key in FIELD_KINDS and not rel.viewonly}


class DependentSelectWidget(Select2Widget):
    """A select2 whose options carry their parent (data-parent) and which names the
    field it depends on (data-depends-on): choices.js shows the chosen parent's."""

    def __init__(self, master: str):
        super().__init__()
        self.master = master

    def __call__(self, field, **kwargs):
        kwargs["data-depends-on"] = self.master
        return super().__call__(field, **kwargs)


class DependentSelectField(QuerySelectField):
    """A QuerySelectField whose options name their parent (`parent_attr` of the row)."""

    def __init__(self, *args, parent_attr: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_attr = parent_attr

    def iter_choices(self):
        if self.allow_blank:
            yield ("__None", self.blank_text, self.data is None, {})
        for pk, obj in self._get_object_list():
            yield (pk, self.get_label(obj), obj == self.data,
                   {"data-parent": getattr(obj, self.parent_attr) or ""})


def fit_form(datamodel, form_class) -> None:
    """Give the unit and department fields of a generated form class their labels and
    dependent choices (the class is built once; fields are bound per request)."""
    if form_class is None:
        return
    names = set(vars(form_class))
    for name, unbound in list(vars(form_class).items()):
        if not (isinstance(unbound, UnboundField)
                and issubclass(unbound.field_class, QuerySelectField)
                and datamodel.is_relation(name)):
            continue
        related = datamodel.get_related_model(name)
        if related is Unit:
            unbound.kwargs["get_label"] = unit_label
        dependent = DEPENDENT.get(related)
        if dependent and dependent[0] in names and unbound.field_class is QuerySelectField:
            unbound.field_class = DependentSelectField
            unbound.kwargs["parent_attr"] = dependent[1]
            unbound.kwargs["widget"] = DependentSelectWidget(dependent[0])


def own_units() -> list[int]:
    """Return the user's home unit and the units above it, nearest first."""
    home = getattr(getattr(g, "user", None), "home_unit_id", None)
    if home is None:
        return []
    from app.extensions import db

    return list(db.session.scalars(select(UnitClosure.ancestor_id).where(
        UnitClosure.descendant_id == home).order_by(UnitClosure.depth)))


def default_units(datamodel, form) -> None:
    """Choose the user's own unit in the empty unit fields of a new form: the nearest
    of his home unit and the units above it that the field offers (a doctor's
    department gives its branch to a «Филиал»)."""
    fields = [field for field in form
              if type(field) is QuerySelectField and field.data is None
              and datamodel.is_relation(field.name)
              and datamodel.get_related_model(field.name) is Unit]
    if not fields:
        return
    own = own_units()
    for field in fields:
        offered = {obj.id: obj for _pk, obj in field._get_object_list()}
        field.data = next((offered[uid] for uid in own if uid in offered), None)
