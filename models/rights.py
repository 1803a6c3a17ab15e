"""Role rights as data: one row per (role, right code) that differs from the default."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import Role
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship


class RoleRight(Model):
    """The value of one catalogue right for one role.

    `code` and `value` are validated against `security/catalogue.yaml` on every
    save and at start-up; the catalogue, not this table, defines what exists.
    """

    __tablename__ = "role_right"
    __label__ = _l("Права ролей")
    __table_args__ = (UniqueConstraint("role_id", "code", name="uq_role_right_role_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(String(100), nullable=False)
    value: Mapped[str] = mapped_column(String(100), nullable=False)

    role: Mapped[Role] = relationship(Role)


class RoleProfile(Model):
    """What Uchet knows about a FAB role beyond its name: its preset and side."""

    __tablename__ = "role_profile"
    __label__ = _l("Профили ролей")

    role_id: Mapped[int] = mapped_column(
        ForeignKey("ab_role.id", ondelete="CASCADE"), primary_key=True
    )
    preset: Mapped[str | None] = mapped_column(String(50))
    # The preset a role was made from (its own preset for a preset role): the
    # drift page compares the role with it.
    origin_preset: Mapped[str | None] = mapped_column(String(50))
    # back_office or cabinet: cabinet users never reach back-office screens.
    side: Mapped[str] = mapped_column(String(20), nullable=False, default="back_office")
    description: Mapped[str | None] = mapped_column(String(500))

    role: Mapped[Role] = relationship(Role)


class RoleChange(Model):
    """One saved change of a role's rights: the role's whole set of values before
    and after it, so that any past state can be restored (rollback).

    The rows of `role_right` are journaled one by one as well; this record groups
    them into the change an administrator made with one click."""

    __tablename__ = "role_change"
    __label__ = _l("Изменения прав ролей")

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                            server_default=func.now())
    # No foreign key: the history outlives deleted users (as the journal does).
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(128), nullable=False)
    # save, reset, drift, rollback: what the administrator did.
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    before: Mapped[dict] = mapped_column(JSON, nullable=False)
    after: Mapped[dict] = mapped_column(JSON, nullable=False)
