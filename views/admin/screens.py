"""The screens an administrator names by their Russian label (the access check and
the what-if preview): built from the view registry, never typed as class names."""

from __future__ import annotations

from flask_babel import gettext as _

from services.admin.whatif import Screen
from views.menu import CATEGORIES
from views.registry import REGISTRY


def screens(appbuilder) -> list[Screen]:
    """Return every screen with a menu entry, labelled «Раздел → Экран», in menu order."""
    instances = {type(v): v for v in appbuilder.baseviews}
    result = []
    for entry in REGISTRY:
        view = instances.get(entry.view)
        if view is None or entry.name is None:
            continue
        datamodel = getattr(view, "datamodel", None)
        category = CATEGORIES.get(entry.category, {}).get("label") if entry.category else None
        label = f"{category} → {entry.label}" if category else str(entry.label)
        labels = getattr(view, "label_columns", {}) or {}
        rules = dict(getattr(view, "field_rights", {}) or {})
        result.append(Screen(
            name=view.class_permission_name, label=str(label),
            model=datamodel.obj if datamodel is not None and hasattr(datamodel.obj, "id")
            else None,
            field_rights=rules, field_labels={k: str(labels.get(k, k)) for k in rules},
        ))
    return result


def governing_rights(appbuilder) -> set[str]:
    """Return the codes of the rights that govern a screen or an API."""
    codes = set()
    for view in appbuilder.baseviews:
        codes.add(getattr(view, "governing_right", None))
        codes |= set((getattr(view, "permission_rights", None) or {}).values())
    codes.discard(None)
    return codes


ACTIONS = {
    "view": ("can_show", "can_list"),
    "edit": ("can_edit", "can_edit"),
    "create": ("can_add", "can_add"),
    "delete": ("can_delete", "can_delete"),
}


def action_words() -> dict[str, str]:
    """Return the actions the access check offers, as people name them."""
    return {"view": _("просмотр"), "edit": _("изменение"), "create": _("создание"),
            "delete": _("удаление")}
