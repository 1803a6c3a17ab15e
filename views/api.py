"""The base of every Uchet REST API: the same row scope, hidden fields and save
rules as the screens (views.base), with refusals answered by `app.errors`."""

from __future__ import annotations

from flask import g
from flask_appbuilder import ModelRestApi, expose
from flask_babel import gettext as _
from marshmallow import ValidationError as FieldError
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate
from marshmallow_sqlalchemy.fields import Related, RelatedList
from werkzeug.exceptions import BadRequest

from core.errors import UchetError
from security.fields import FieldScopeApiMixin
from services.boundary import refused
from views.base import ScopedMixin, merge_filters, rel_filters
from views.guards import (
    MAX_KEY,
    csrf_for_cookie_sessions,
    no_nul_characters,
    parseable_query,
    plain_database_errors,
    typed_filters,
)
from views.openapi import correct_components, correct_many_links, correct_paths


def loosen_schema(schema) -> None:
    """Leave text length and decimal places to `services.values`: marshmallow would
    refuse a long text in English before it is trimmed, and silently round
    10.005 to 10.00 where the screens refuse it."""
    for field in schema.fields.values():
        if isinstance(field, ma_fields.String):
            field.validators = [v for v in field.validators
                                if not isinstance(v, ma_validate.Length)]
        if isinstance(field, ma_fields.Decimal):
            field.places = None


def _checked_key(field: Related):
    """Return the Related `field`'s deserializer refusing a value that is not a key
    first: the field looks the value up in the database, and PostgreSQL answers
    "x" or 2**31 with an error (a 500) where SQLite finds nothing. An object must
    name the key itself ({"id": 5}): {"other": 5} would be looked up as a NULL key
    (an SAWarning, a 500 under the tests' settings)."""
    deserialize = field._deserialize

    def checked(value, *args, **kwargs):
        key = value
        if isinstance(value, dict):
            names = [prop.key for prop in field.related_keys]
            key = value[names[0]] if len(names) == 1 and list(value) == names else None
        if isinstance(key, str) and key.strip().isdecimal():
            key = int(key)
        if isinstance(key, bool) or not isinstance(key, int) or not 0 < key <= MAX_KEY:
            raise FieldError(_("Не номер записи: %(v)s", v=value))
        return deserialize(value, *args, **kwargs)

    return checked


def check_related_keys(schema) -> None:
    """Make each link field of `schema` refuse a value that is not a key (400)."""
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, RelatedList) else field
        if isinstance(inner, Related):
            inner._deserialize = _checked_key(inner)


class Refused(BadRequest):
    """A 400 whose message is just the Russian reason (FAB prints str(exception))."""

    def __str__(self) -> str:
        return str(self.description)


class UchetModelRestApi(ScopedMixin, FieldScopeApiMixin, ModelRestApi):
    """A generated REST API bound to the rights catalogue and the row scope."""

    allow_browser_login = True

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(csrf_for_cookie_sessions)
        blueprint.before_request(no_nul_characters)
        blueprint.before_request(parseable_query)
        blueprint.before_request(lambda: typed_filters(self.datamodel))
        blueprint.after_request(self.scrub_response)
        blueprint.after_request(plain_database_errors)
        # Columns a save rule fills in may be left out of a POST, as on the screen
        # (FAB builds the schemas in create_blueprint).
        # So may the fields a user's rights can hide (`fill_hidden_required`).
        for name in (*getattr(self.datamodel, "optional", ()), *(self.field_rights or {})):
            if name in self.add_model_schema.fields:
                self.add_model_schema.fields[name].required = False
        for schema in (self.add_model_schema, self.edit_model_schema):
            loosen_schema(schema)
            check_related_keys(schema)
        return blueprint

    @expose("/<pk>", methods=["GET"])
    def get_no_such_key(self, pk):
        """Answer 404 to a GET of a key that is not an integer: FAB routes GET as
        `/<int:pk>`, so such a key would only meet the PUT/DELETE route (a 405)."""
        return self.response_404()

    def add_api_spec(self, api_spec) -> None:
        """Describe the API in the OpenAPI document without `get_no_such_key`: it
        shares FAB's `GET /{pk}` path and, undocumented, would replace FAB's
        operation (its `pk` parameter and answers) with an empty one."""
        declared = self.exclude_route_methods
        self.exclude_route_methods = {*declared, "get_no_such_key"}
        try:
            super().add_api_spec(api_spec)
        finally:
            self.exclude_route_methods = declared
        correct_paths(api_spec._paths, f"/api/v1/{self.resource_name}/")
        correct_components(api_spec.components)
        model = self.datamodel
        many = {column.split(".")[0] for column in (*self.list_columns, *self.show_columns)}
        many = {name for name in many if model.is_relation_many_to_many(name)
                or model.is_relation_one_to_many(name)}
        correct_many_links(api_spec.components.schemas,
                           (self.list_model_schema_name, self.show_model_schema_name), many)

    def __init__(self):
        self._apply_scope_declarations()
        rel = rel_filters(self.datamodel.obj)
        self.add_query_rel_fields = merge_filters(rel, self.add_query_rel_fields)
        self.edit_query_rel_fields = merge_filters(rel, self.edit_query_rel_fields)
        super().__init__()

    def _api_guard(self, fn, item) -> None:
        try:
            self._guard(fn, item)
        except UchetError as exc:
            refused(self._session(), exc)
            # FAB's `safe` answers a BadRequest raised in pre_* hooks through
            # `response_400` (anything else is a 500): that hands the refusal on.
            g.uchet_refusal = exc
            raise Refused(description=str(exc)) from None

    def response_400(self, message=None):
        """Let a refusal of the rules reach `app.errors`, which answers it with its
        own status (400, 403, 404, 409); other bad requests stay FAB's 400."""
        refusal = g.pop("uchet_refusal", None)
        if refusal is not None:
            raise refusal
        return super().response_400(message=message)

    def pre_add(self, item) -> None:
        self._api_guard(self._guard_write, item)

    def pre_update(self, item) -> None:
        self._api_guard(self._guard_write, item)

    def pre_delete(self, item) -> None:
        self._api_guard(self.check_delete, item)
