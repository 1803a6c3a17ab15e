"""FAB's user, extended with the organisation links Uchet scopes data by."""

from __future__ import annotations

import secrets

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.org import Unit
from models.scoping import ScopePath

# Extra (delegated) units: a head may be given several offices and sees exactly those.
user_extra_unit = Table(
    "user_extra_unit",
    Model.metadata,
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Integer, ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True),
)

# The client organisations a personal manager serves.
manager_client = Table(
    "manager_client",
    Model.metadata,
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", Integer, ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True),
)


class AppUser(User):
    """A user with a home unit, delegated units, served clients and a manager.

    Single-table extension of `ab_user`, as FAB documents for custom users.
    """

    __tablename__ = "ab_user"
    __label__ = _l("Пользователи")
    # A user belongs where his home unit is (see security.rowscope).
    __scope__ = ScopePath(column="home_unit_id")

    home_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # An assistant's personal manager; the assistant sees his manager's clients.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), nullable=True, index=True
    )
    position: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    # Bumped on logout, password change or reset and deactivation: sessions and
    # tokens carry the value they were issued with, and one that no longer matches
    # is refused (security.sessions), in every worker at once.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0,
                                               server_default="0")
    # Replaced (a random token) in the same transaction as any change of the user's
    # rights: the rights cached for the old token are never read again
    # (security.rights_cache).
    rights_epoch: Mapped[int] = mapped_column(BigInteger, nullable=False,
                                              default=lambda: secrets.randbits(62) or 1,
                                              server_default="0")

    home_unit: Mapped[Unit | None] = relationship(Unit, foreign_keys=[home_unit_id])
    extra_units: Mapped[list[Unit]] = relationship(
        Unit, secondary=user_extra_unit, order_by=Unit.name
    )
    served_clients: Mapped[list[Unit]] = relationship(
        Unit, secondary=manager_client, order_by=Unit.name
    )
    manager: Mapped[AppUser | None] = relationship(
        "AppUser",
        remote_side="AppUser.id",
        foreign_keys=[manager_id],
        back_populates="assistants",
    )
    assistants: Mapped[list[AppUser]] = relationship(
        "AppUser", foreign_keys=[manager_id], back_populates="manager"
    )

    def get_id(self) -> str:
        """Return the session identity: the id and the session epoch, "id:epoch"."""
        return f"{self.id}:{self.session_epoch or 0}"
