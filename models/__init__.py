"""Uchet's models. Importing this package registers every table on FAB's metadata."""

from models.journal import JournalEntry
from models.org import Unit, UnitClosure, UnitKind
from models.rights import RoleProfile, RoleRight
from models.user import AppUser, manager_client, user_extra_unit

__all__ = [
    "AppUser",
    "JournalEntry",
    "RoleProfile",
    "RoleRight",
    "Unit",
    "UnitClosure",
    "UnitKind",
    "manager_client",
    "user_extra_unit",
]
