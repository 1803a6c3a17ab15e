"""The organisation tree: one table of units for the provider network and clients.

Subtree look-ups use a closure table (`org_unit_closure`): every (ancestor,
descendant) pair with its distance, the unit itself included at depth 0. We
chose it over a materialised path because both databases answer "all
descendants of X" from the same integer B-tree index, with no collation or
LIKE-prefix traps (PostgreSQL's non-C collations break path ranges), and over
a recursive CTE because the scope filter is a plain indexed IN-subquery that
the planner can join cheaply on every list page. The price is paid on writes:
moving a unit rewrites O(subtree x depth) rows, which is rare.
The closure rows are kept in step by `services.admin.orgtree` in the same flush.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import inn_info
from models.scoping import ScopePath


class UnitKind(enum.StrEnum):
    """Kinds of unit; the allowed parent of each kind is in PARENT_KINDS."""

    network = "network"
    region = "region"
    branch = "branch"
    department = "department"
    client = "client"
    head_unit = "head_unit"
    client_branch = "client_branch"


KIND_LABELS = {
    UnitKind.network: _l("Сеть клиник"),
    UnitKind.region: _l("Регион"),
    UnitKind.branch: _l("Филиал"),
    UnitKind.department: _l("Отделение"),
    UnitKind.client: _l("Клиент (организация)"),
    UnitKind.head_unit: _l("Головное подразделение"),
    UnitKind.client_branch: _l("Филиал клиента"),
}

# None means "a root". The provider side and the client side never mix.
PARENT_KINDS: dict[UnitKind, tuple[UnitKind | None, ...]] = {
    UnitKind.network: (None,),
    UnitKind.region: (UnitKind.network,),
    UnitKind.branch: (UnitKind.region, UnitKind.network),
    UnitKind.department: (UnitKind.branch,),
    UnitKind.client: (None,),
    UnitKind.head_unit: (UnitKind.client,),
    UnitKind.client_branch: (UnitKind.head_unit,),
}

CLIENT_KINDS = frozenset({UnitKind.client, UnitKind.head_unit, UnitKind.client_branch})


class Unit(Model):
    """A node of the organisation tree (network, region, branch, client office...)."""

    __tablename__ = "org_unit"
    __label__ = _l("Подразделения")
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="ck_org_unit_not_own_parent"),
        Index("ix_org_unit_parent_id", "parent_id"),
        Index("ix_org_unit_kind", "kind"),
    )

    # The row scope places a unit by its own id (see security.rowscope).
    __scope__ = ScopePath(column="id")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit.id", ondelete="RESTRICT"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(100))
    inn: Mapped[str | None] = mapped_column(String(12), info=inn_info(_l("ИНН")))
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    parent: Mapped[Unit | None] = relationship(
        "Unit", remote_side=[id], back_populates="children"
    )
    # passive_deletes="all": the ORM must not orphan children by nulling their
    # parent_id when a parent is deleted; the database's RESTRICT refuses instead.
    children: Mapped[list[Unit]] = relationship(
        "Unit", back_populates="parent", passive_deletes="all"
    )

    @property
    def kind_label(self) -> str:
        """Return the Russian (or current-locale) label of the unit's kind."""
        try:
            return str(KIND_LABELS[UnitKind(self.kind)])
        except ValueError:
            return self.kind

    def scope_owner_unit_id(self) -> int | None:
        """Return the unit that decides who may write this one: itself, or for a
        new unit its parent (a new root needs an unrestricted scope)."""
        if self.id is not None:
            return self.id
        return self.parent.id if self.parent is not None else self.parent_id

    @property
    def path_label(self) -> str:
        """Return the chain of names from the root down to this unit."""
        names, unit = [], self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return " › ".join(reversed(names))

    @property
    def is_client_side(self) -> bool:
        """Return True for client organisations and their offices."""
        return self.kind in {k.value for k in CLIENT_KINDS}

    def __repr__(self) -> str:
        return self.name


class UnitClosure(Model):
    """(ancestor, descendant, depth) for every pair on a root-to-leaf path."""

    __tablename__ = "org_unit_closure"
    __table_args__ = (
        # (ancestor_id, descendant_id) is the PK: subtree scans use it.
        Index("ix_org_unit_closure_descendant", "descendant_id", "ancestor_id"),
    )

    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: Mapped[int] = mapped_column(
        ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True
    )
    depth: Mapped[int] = mapped_column(Integer, nullable=False)


def subtree_ids_query(anchor_ids: Iterable[int]):
    """Return a SELECT of the ids of the given units and all their descendants."""
    return select(UnitClosure.descendant_id).where(
        UnitClosure.ancestor_id.in_(list(anchor_ids))
    )
