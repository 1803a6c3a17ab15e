"""Screens and APIs. Each module declares its views in `views.registry`; `load_all`
finds the modules itself, so a new module needs no line here."""

import importlib
import pkgutil

from views.menu import MENU_ORDER


def module_names() -> list[str]:
    """Return every module of this package (subpackages included): those of
    `MENU_ORDER` first, in its order, then the others alphabetically."""
    found = sorted(info.name for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}.")
                   if not info.name.rsplit(".", 1)[1].startswith("_"))
    unknown = [name for name in MENU_ORDER if name not in found]
    if unknown:
        raise ImportError(f"views.menu.MENU_ORDER names missing modules: {unknown}")
    return [*MENU_ORDER, *(name for name in found if name not in MENU_ORDER)]


def load_all() -> None:
    """Import every view module once, so their declarations reach the registry."""
    for name in module_names():
        importlib.import_module(name)
