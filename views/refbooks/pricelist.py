"""The price list (section «Прейскурант услуг»), one declaration per object.

Prices obey two branch-scope rights: «Просмотр цен на услуги» narrows which
price categories a user sees (none / his branches' / all), «Изменение цен на
услуги» which ones he may add or change. Service set prices are hidden from
users who may not see prices.
"""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from models.pricelist import (
    INSURANCE_KINDS,
    MedicalInstitution,
    Price,
    Service,
    ServiceComponent,
    ServiceGroup,
    ServiceSet,
    ServiceSetItem,
)
from security.branches import category_clause
from security.effective import current
from services.refbooks.prices import (
    PRICE_EDIT,
    PRICE_VIEW,
    check_component,
    check_price,
    check_price_category,
    check_price_delete,
    check_quantity,
    check_service,
    check_service_set,
)
from views.formatters import choice_label
from views.refbook import RefBook, register_refbook

EDITING = ("can_add", "can_edit", "can_delete", "muldelete", "can_post", "can_put")


class FilterPriceVisible(BaseFilter):
    """Keeps prices whose category «Просмотр цен на услуги» lets the user see."""

    name = _l("Цены, доступные пользователю")
    arg_name = "uchet_prices"

    def apply(self, query, value):
        return query.filter(category_clause(current(), PRICE_VIEW, Price.category_id))


class FilterCategoryEditable(BaseFilter):
    """Keeps price categories «Изменение цен на услуги» lets the user write."""

    name = _l("Категории, доступные для изменения")
    arg_name = "uchet_categories"

    def apply(self, query, value):
        return query.filter(category_clause(current(), PRICE_EDIT, self.model.id))


def _check_price(session, item: Price) -> None:
    check_price_category(session, current(), item)
    check_price(session, item)


def _check_price_delete(session, item: Price) -> None:
    check_price_delete(session, current(), item)


def _institution(external: bool):
    def _check(_session, item: MedicalInstitution) -> None:
        # The screen decides the kind; a crafted form cannot move a row across.
        item.external = external

    return _check


INSURANCE_FIELD = SelectField(_l("Признак ОМС/ДМС"), choices=list(INSURANCE_KINDS.items()))
EDITABLE_CATEGORIES = {"category": [["id", FilterCategoryEditable, None]]}

PRICE_BOOKS = [
    RefBook(ServiceGroup, "price.service_groups", "ServiceGroups", "pricelist",
            ("code", "name", "parent", "active"), icon="fa-folder-open"),
    RefBook(Service, "price.services", "Services", "pricelist",
            ("code", "name", "group", "department", "insurance", "composite", "export_code",
             "active"),
            icon="fa-stethoscope", formatters={"insurance": choice_label(INSURANCE_KINDS)},
            validate=check_service,
            extra={"add_form_extra_fields": {"insurance": INSURANCE_FIELD},
                   "edit_form_extra_fields": {"insurance": INSURANCE_FIELD}}),
    RefBook(ServiceComponent, "price.services", "ServiceComponents", "pricelist",
            ("composite", "component", "quantity"), order=("id", "asc"),
            label=_l("Состав сложных услуг"), icon="fa-sitemap", validate=check_component),
    RefBook(ServiceSet, "price.service_sets", "ServiceSets", "pricelist",
            ("code", "name", "price", "active"), icon="fa-cubes",
            field_rights={"price": f"{PRICE_VIEW}>=own"}, validate=check_service_set),
    RefBook(ServiceSetItem, "price.service_sets", "ServiceSetItems", "pricelist",
            ("service_set", "service", "quantity"), order=("id", "asc"),
            label=_l("Состав наборов услуг"), icon="fa-list", validate=check_quantity),
    RefBook(MedicalInstitution, "price.internal_institutions", "InternalInstitutions",
            "pricelist", ("code", "name", "inn", "address", "active"),
            label=_l("Внутренние мед. учреждения"), icon="fa-hospital-o",
            stem="InternalInstitution", base_filters=(("external", FilterEqual, False),),
            validate=_institution(False)),
    RefBook(MedicalInstitution, "price.external_institutions", "ExternalInstitutions",
            "pricelist", ("code", "name", "inn", "address", "active"),
            label=_l("Внешние мед. учреждения"), icon="fa-building-o",
            stem="ExternalInstitution", base_filters=(("external", FilterEqual, True),),
            validate=_institution(True)),
    RefBook(Price, PRICE_VIEW, "Prices", "pricelist",
            ("service", "category", "valid_from", "valid_to", "amount", "currency", "tax"),
            search_columns=("service", "category", "valid_from", "valid_to", "amount"),
            order=("valid_from", "desc"), icon="fa-rub",
            base_filters=(("id", FilterPriceVisible, None),),
            permission_rights=dict.fromkeys(EDITING, PRICE_EDIT),
            validate=_check_price, delete_rule=_check_price_delete,
            extra={"add_form_query_rel_fields": EDITABLE_CATEGORIES,
                   "edit_form_query_rel_fields": EDITABLE_CATEGORIES,
                   "add_query_rel_fields": EDITABLE_CATEGORIES,
                   "edit_query_rel_fields": EDITABLE_CATEGORIES}),
]

for _book in PRICE_BOOKS:
    register_refbook(_book)
