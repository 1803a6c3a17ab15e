"""Base classes every Uchet screen and API derives from.

A subclass is a declaration: model, columns, labels and `governing_right`.
The base wires in the row scope (list, show, edit, delete, bulk actions,
related-field choices, search) and is the one place where a refusal meets a
screen: a form comes back with what was typed and the message at its field
(`_add`, `_edit`), a hand-written page through `screen_command`; an API's
refusal goes on to `app.errors`, which answers 400/403/404/409 by its class.
Views never commit nor catch UchetError themselves.
"""

from __future__ import annotations

from flask import abort, flash, g, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.urltools import (
    get_filter_args,
    get_order_args,
    get_page_args,
    get_page_size_args,
)
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from core.errors import ConfirmationRequired, NotFound, UchetError
from security.fields import (
    FieldScopeViewMixin,
    fill_hidden_required,
    hidden_fields,
    keep_stored_values,
)
from security.rowscope import (
    check_in_scope,
    check_links_exist,
    check_stored_writable,
    filter_column,
    related_scoped,
    restore_unseen_links,
    unseen,
)
from security.scope import FilterInScope
from services.boundary import refused, transaction
from services.values import check_required_text, normalise_values
from views import unit_fields
from views.dates import russian_form
from views.formatters import default_formatters
from views.guards import (
    SCREEN_FILTER,
    no_nul_characters,
    typed_filters,
    valid_key,
)
from views.search_choices import UchetSearchWidget

SCOPE_FILTER = [FilterInScope, None]


class UchetListWidget(ListWidget):
    """FAB's list widget whose rows are written in Python (views.list_rows)."""

    template = "uchet/widgets/list.html"


def rel_filters(model: type) -> dict[str, list]:
    """Return FAB related-field filters narrowing every scoped dropdown to the scope,
    and each unit field to the kinds of unit it means (views.unit_fields)."""
    scoped = {
        key: [[filter_column(target), *SCOPE_FILTER]]
        for key, target in related_scoped(model).items()
    }
    return merge_filters(scoped, unit_fields.kind_filters(model))


def deleted_together() -> frozenset:
    """Return the ids of the rows a bulk delete removes in this request: a rule that
    weighs what is left (an instalment schedule's total) counts them all as gone."""
    return g.get("deleted_together", frozenset())


def merge_filters(scoped: dict[str, list], declared: dict[str, list] | None) -> dict[str, list]:
    """Return the scope filters plus a view's own dropdown filters: both apply, the
    view's never replace the scope's."""
    merged = {key: list(filters) for key, filters in scoped.items()}
    for key, filters in (declared or {}).items():
        merged[key] = merged.get(key, []) + list(filters)
    return merged


def screen_command(command, session=None, *, done, again, flash_refusal: bool = True):
    """Run `command()` as one unit of work (`services.boundary.transaction`) for a
    hand-written page. Returns `done(result)`; on a refusal flashes its message
    (unless the page shows it itself) and returns `again(refusal)`: the page
    again, with what was typed.

    Raises NotFound (rolled back): a row that does not exist or lies outside the
    user's scope is answered 404 by `app.errors`, as on every other channel, never
    as a page refusing the typing."""
    try:
        with transaction(session):
            result = command()
    except NotFound:
        raise
    except UchetError as exc:
        if flash_refusal:
            flash(str(exc), "danger")
        return again(exc)
    return done(result)


def screen_steps(operation, *, done, again, flash_refusal: bool = True):
    """Run `operation()`, a service that runs its own units of work one after another
    (a fiscal operation: reserve, print, confirm — `services.money.desk`), for a
    hand-written page: no transaction around it, since its first step must be stored
    before a device prints. Returns `done(result)`, or on a refusal flashes it and
    returns `again(refusal)`.

    Raises NotFound, answered 404 by `app.errors` (as `screen_command`)."""
    try:
        result = operation()
    except NotFound:
        raise
    except UchetError as exc:
        if flash_refusal:
            flash(str(exc), "danger")
        return again(exc)
    return done(result)


class ScopedMixin:
    """Row scope and domain-error handling shared by screens and APIs."""

    #: Catalogue code of the right that grants this view's permissions.
    governing_right: str | None = None
    #: FAB permission name -> access level it needs, beyond the standard ones.
    permission_levels: dict[str, str] = {}

    def _apply_scope_declarations(self) -> None:
        model = self.datamodel.obj
        column = filter_column(model)
        base = list(self.base_filters or [])
        if column:
            base.append([column, *SCOPE_FILTER])
        self.base_filters = base

    def _session(self):
        return self.datamodel.session

    def _guard(self, fn, item) -> None:
        """Run a save-time check (what it raises is the caller's to answer)."""
        # No autoflush while checking: a query inside a rule would otherwise
        # write the unchecked change and make it look unchanged to the next rule.
        with self._session().no_autoflush:
            fn(item)

    def _guard_write(self, item) -> None:
        # Unknown linked ids first: every later rule may read those objects.
        check_links_exist(item)
        normalise_values(item)
        self.check_write(item)
        fill_hidden_required(item, getattr(self, "field_rights", {}))
        check_required_text(item)

    def check_write(self, item) -> None:
        """Raise UchetError when `item` may not be written. Override to add rules.

        Hidden fields first get their stored values back: a user cannot change
        what his rights do not let him see."""
        keep_stored_values(item, hidden_fields(getattr(self, "field_rights", {})))
        restore_unseen_links(self._session(), item)
        check_in_scope(self._session(), item)

    def check_delete(self, item) -> None:
        """Raise UchetError when `item` may not be deleted. Override to add rules.

        A row the user only reads (owned above his units) is not his to delete."""
        check_stored_writable(self._session(), item)


class UchetModelView(ScopedMixin, FieldScopeViewMixin, ModelView):
    """A generated CRUD screen bound to the rights catalogue and the row scope."""

    page_size = 25
    list_widget = UchetListWidget
    search_widget = UchetSearchWidget
    # No file columns: FAB's upload download route would only widen the surface.
    exclude_route_methods = {"download"}
    #: Actions on the user's own account (profile page), not on a listed row.
    self_actions: frozenset[str] = frozenset()

    def _scoped_items(self, pks) -> list:
        """Return the rows for `pks` through the scope filter; 404 if any is outside it.

        FAB's own action routes fetch rows by key without the base filters."""
        items = [self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
                 for pk in pks]
        if any(item is None for item in items):
            abort(404)
        return items

    MAX_PAGE_SIZE = 100

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(no_nul_characters)
        blueprint.before_request(valid_key)
        blueprint.before_request(self._valid_list_arguments)
        return blueprint

    def _valid_list_arguments(self) -> None:
        """Answer 400, not 500, to a page, page size or sort key that is not one:
        FAB converts them unchecked, and sorts by any column, even a password hash."""
        name = type(self).__name__
        for key in (f"page_{name}", f"psize_{name}"):
            raw = request.args.get(key)
            if raw is not None and not (raw.isdecimal() and int(raw) <= 100_000):
                abort(400, description=_("Некорректный номер или размер страницы"))
        if int(request.args.get(f"psize_{name}", "0") or 0) > self.MAX_PAGE_SIZE:
            abort(400, description=_("Не больше %(n)s записей на странице", n=self.MAX_PAGE_SIZE))
        order = request.args.get(f"_oc_{name}")
        if order is not None and order not in (self.order_columns or []):
            abort(400, description=_("По этому полю сортировать нельзя"))
        if request.args.get(f"_od_{name}", "asc") not in ("asc", "desc"):
            abort(400, description=_("Некорректное направление сортировки"))
        typed_filters(self.datamodel)
        for key in request.args:
            match = SCREEN_FILTER.fullmatch(key)
            known = self._filters._all_filters.get(match.group(2)) if match else None
            if known is not None and int(match.group(1)) >= len(known):
                # FAB indexes its list of filters with the number unchecked (a 500).
                abort(400, description=_("Некорректный фильтр списка"))

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        """Run a single-row action on a row the user can see (POST only: CSRF)."""
        if request.method != "POST":
            abort(405)
        if name not in self.actions or not self.actions[name].single:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            abort(403)
        if name in self.self_actions:
            return self.actions[name].func(self.datamodel.get(g.user.id))
        return self.actions[name].func(self._scoped_items([pk])[0])

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        """Run a bulk action on the selected rows, all of which must be in scope."""
        name = request.form.get("action", "")
        if name not in self.actions or not self.actions[name].multiple:
            abort(404)  # a single-row action takes one row, through `action`
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name):
            abort(403)
        return self.actions[name].func(self._scoped_items(request.form.getlist("rowid")))

    def __init__(self, **kwargs):
        self._apply_scope_declarations()
        self.formatters_columns = {**default_formatters(self.datamodel),
                                   **(self.formatters_columns or {})}
        rel = rel_filters(self.datamodel.obj)
        self.add_form_query_rel_fields = merge_filters(rel, self.add_form_query_rel_fields)
        self.edit_form_query_rel_fields = merge_filters(rel, self.edit_form_query_rel_fields)
        self.search_form_query_rel_fields = merge_filters(rel, self.search_form_query_rel_fields)
        super().__init__(**kwargs)
        for form in (self.add_form, self.edit_form, self.search_form):
            unit_fields.fit_form(self.datamodel, form)  # unit labels, dependent choices
            russian_form(form)  # ДД.ММ.ГГГГ dates, a named empty choice
        # FAB offers every decorated action; a view without delete keeps no bulk delete.
        if "muldelete" not in self.base_permissions:
            self.actions.pop("muldelete", None)

    def pre_add(self, item) -> None:
        self._guard(self._guard_write, item)

    def pre_update(self, item) -> None:
        self._guard(self._guard_write, item)

    def pre_delete(self, item) -> None:
        # FAB flashes the message and redirects; nothing half-done may survive.
        try:
            self._guard(self.check_delete, item)
        except UchetError as exc:
            refused(self._session(), exc)
            raise

    def _add(self):
        """FAB's add, but a refused save shows the same form again, with what was typed
        and the message at its field, where FAB would redirect to the page the form
        came from (a card) and lose the typing. The save is one unit of work."""
        if request.method != "POST":
            return super()._add()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self._fill_form_exclude_cols(exclude_cols, form)
        if form.validate():
            self.process_form(form, True)
            item = self.datamodel.obj()
            if self._saved(form, lambda: (form.populate_obj(item), self.pre_add(item),
                                          self.datamodel.add(item, commit=False))):
                self.post_add(item)
                flash(self.add_row_message, "success")
                return None
        self._drop_unseen(form)
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        """FAB's edit, with a refused save handled as in `_add`."""
        if request.method != "POST":
            return super()._edit(pk)
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = pk  # FAB's trick to pass its unique validation
        if form.validate():
            self.process_form(form, False)
            if self._saved(form, lambda: (form.populate_obj(item), self.pre_update(item),
                                          self.datamodel.edit(item, commit=False))):
                self.post_update(item)
                flash(self.edit_row_message, "success")
                return None
            item = self.datamodel.get(pk, self._base_filters)  # as stored, for the tabs
        self._drop_unseen(form)
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        return self._get_related_views_widgets(
            item, filters={}, orders=get_order_args(), pages=get_page_args(),
            page_sizes=get_page_size_args(), widgets=widgets)

    def _drop_unseen(self, form) -> None:
        """Empty the choices of `form` that name rows outside the user's scope: a
        refused form is shown again with what was posted, and a crafted id of
        another branch's patient must not come back as his name and birth date."""
        session = self._session()
        for field in form:
            data = field.data
            if isinstance(data, (list, tuple)):
                kept = [obj for obj in data if not unseen(session, obj)]
                if len(kept) != len(data):
                    field.data = kept
            elif data is not None and unseen(session, data):
                field.data = None

    def _saved(self, form, save) -> bool:
        """Run `save` as one unit of work. Returns True when it was committed; on a
        refusal puts the message on the form (flashed, and at its field when the
        form shows that field) and returns False."""
        try:
            with transaction(self._session()):
                save()
        except UchetError as exc:
            flash(str(exc), "danger")
            # FAB's template passes a field's errors through gettext, which formats
            # them: a literal "%" (a tax rate's label) must be doubled.
            shown = str(exc).replace("%", "%%")
            field = getattr(form, exc.field, None) if exc.field else None
            if field is not None and getattr(field.widget, "input_type", "") != "hidden":
                field.errors = [*field.errors, shown]
            if isinstance(exc, ConfirmationRequired) and "confirm" in form:
                form.confirm.errors = [*form.confirm.errors, shown]
            return False
        except SQLAlchemyError:
            flash(str(self.database_error_message), "danger")
            return False
        return True

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        if request.method == "GET":
            unit_fields.default_units(self.datamodel, form)
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _readable_related(self) -> list:
        """Return the related views (tabs of a card) the user may list: FAB shows
        every one, whatever the user's permissions on it."""
        sm = self.appbuilder.sm
        return [v for v in self._related_views or []
                if sm.has_access("can_list", v.class_permission_name)]

    def _get_related_views_widgets(self, item, orders=None, pages=None, page_sizes=None,
                                   widgets=None, **args):
        widgets = widgets or {}
        widgets["related_views"] = [
            self._get_related_view_widget(
                item, view, *(orders.get(type(view).__name__) or ("", "")),
                page=pages.get(type(view).__name__),
                page_size=page_sizes.get(type(view).__name__))
            for view in self._readable_related()
        ]
        return widgets

    def render_template(self, template, **kwargs):
        # Same list as the widgets above, so the card's tabs and their lists line up.
        if "related_views" in kwargs:
            kwargs["related_views"] = self._readable_related()
        return super().render_template(template, **kwargs)

    @fab_action(
        "muldelete",
        _l("Удалить"),
        _l("Удалить выбранные записи?"),
        "fa-trash",
        single=False,
    )
    def muldelete(self, items):
        """Bulk delete: each row passes the same checks as a single delete, all or nothing."""
        from flask import redirect

        g.deleted_together = frozenset(item.id for item in items)

        def delete_all() -> int:
            for item in items:
                self.check_delete(item)
                self.datamodel.delete(item, commit=False)
            return len(items)

        def back(_outcome=None):
            self.update_redirect()
            return redirect(self.get_redirect())

        def done(n: int):
            flash(_l("Удалено записей: %(n)s", n=n), "success")
            return back()

        return screen_command(delete_all, self._session(), done=done, again=back)
