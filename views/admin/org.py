"""Organisation tree screens: units of the provider network and of clients."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from models.org import KIND_LABELS, Unit
from services.admin.orgtree import check_unit_delete, validate_placement
from views.api import UchetModelRestApi
from views.base import UchetModelView
from views.datamodel import UchetInterface
from views.registry import register

UNIT_LABELS = {
    "name": _l("Наименование"),
    "short_name": _l("Краткое наименование"),
    "code": _l("Код"),
    "kind": _l("Тип"),
    "kind_label": _l("Тип"),
    "parent": _l("Входит в"),
    "path_label": _l("Место в структуре"),
    "children": _l("Подчинённые подразделения"),
    "inn": _l("ИНН"),
    "address": _l("Адрес"),
    "phone": _l("Телефон"),
    "email": _l("Эл. почта"),
    "active": _l("Действует"),
}
KIND_CHOICES = [(kind.value, label) for kind, label in KIND_LABELS.items()]


class _UnitRules:
    """Rules shared by the unit screen and API."""

    governing_right = "admin.units"

    def check_write(self, item: Unit) -> None:
        validate_placement(self._session(), item)
        super().check_write(item)

    def check_delete(self, item: Unit) -> None:
        check_unit_delete(item)
        super().check_delete(item)


class UnitView(_UnitRules, UchetModelView):
    """The organisation tree as a searchable list with parent links."""

    datamodel = UchetInterface(Unit, eager=("parent",))
    list_title = _l("Подразделения")
    show_title = _l("Подразделение")
    add_title = _l("Новое подразделение")
    edit_title = _l("Изменение подразделения")
    label_columns = UNIT_LABELS
    list_columns = ["code", "name", "kind_label", "parent", "active"]
    show_columns = ["code", "name", "short_name", "kind_label", "path_label", "inn", "address",
                    "phone", "email", "active"]
    add_columns = ["kind", "parent", "code", "name", "short_name", "inn", "address",
                   "phone", "email", "active"]
    edit_columns = add_columns
    search_columns = ["code", "name", "kind", "parent", "active", "address"]
    order_columns = ["code", "name", "kind", "active"]
    # Codes group a branch with its departments and a client with its offices.
    base_order = ("code", "asc")
    add_form_extra_fields = {"kind": SelectField(_l("Тип"), choices=KIND_CHOICES)}
    edit_form_extra_fields = add_form_extra_fields


class UnitApi(_UnitRules, UchetModelRestApi):
    """REST API of the organisation tree."""

    resource_name = "unit"
    datamodel = SQLAInterface(Unit)
    list_columns = ["id", "code", "name", "kind", "parent_id", "active"]
    show_columns = ["id", "code", "name", "short_name", "kind", "parent_id", "inn", "address",
                    "phone", "email", "active"]
    add_columns = ["kind", "parent", "code", "name", "short_name", "inn", "address", "phone",
                   "email", "active"]
    edit_columns = add_columns
    search_columns = ["code", "name", "kind", "parent", "active"]
    order_columns = ["code", "name", "kind"]



register(UnitView, name="Units", label=_l("Подразделения"), category="org",
         icon="fa-sitemap", apis=(UnitApi,))
