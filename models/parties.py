"""Who pays (section «Организации и договоры»): addresses, organisation groups,
organisations, insurers and individuals.

Each row is owned by a unit (`unit_id`): what the network or a region registers
is read by every branch below it and written only inside the writer's scope
(`ScopePath(shared=True)`, see security.scope.scoped).
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from models.base import CodeNameMixin, inn_info, label
from models.org import Unit
from models.scoping import ScopePath


class OwnedMixin:
    """A row owned by an organisation unit and shared with the units below it."""

    __scope__ = ScopePath(column="unit_id", shared=True)

    @declared_attr
    def unit_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"), nullable=False,
                             index=True, info=label(_l("Подразделение-владелец")))

    @declared_attr
    def unit(cls) -> Mapped[Unit]:
        return relationship(Unit, info=label(_l("Подразделение-владелец")))


class Address(OwnedMixin, Model):
    """Адрес: a postal address used by organisations, insurers and payers."""

    __tablename__ = "ctr_address"
    __label__ = _l("Адреса")
    id: Mapped[int] = mapped_column(primary_key=True)
    postcode: Mapped[str | None] = mapped_column(String(10), info=label(_l("Индекс")))
    region: Mapped[str | None] = mapped_column(String(120), info=label(_l("Регион")))
    city: Mapped[str] = mapped_column(String(120), nullable=False,
                                      info=label(_l("Населённый пункт")))
    street: Mapped[str] = mapped_column(String(200), nullable=False, info=label(_l("Улица")))
    house: Mapped[str] = mapped_column(String(20), nullable=False, info=label(_l("Дом")))
    flat: Mapped[str | None] = mapped_column(String(20), info=label(_l("Квартира, офис")))

    @property
    def text(self) -> str:
        """Return the address as one line."""
        parts = [self.postcode, self.region, self.city, self.street, self.house, self.flat]
        return ", ".join(p for p in parts if p)

    def __repr__(self) -> str:
        return self.text


class OrganisationGroup(OwnedMixin, CodeNameMixin, Model):
    """Группа организаций: e.g. a holding whose companies share terms."""

    __tablename__ = "ctr_organisation_group"
    __label__ = _l("Группы организаций")
    id: Mapped[int] = mapped_column(primary_key=True)


class PartyMixin(OwnedMixin, CodeNameMixin):
    """Details every legal entity carries."""

    inn: Mapped[str | None] = mapped_column(String(12), index=True,
                                            info=inn_info(_l("ИНН")))
    kpp: Mapped[str | None] = mapped_column(String(9), info=label(_l("КПП")))
    phone: Mapped[str | None] = mapped_column(String(50), info=label(_l("Телефон")))
    email: Mapped[str | None] = mapped_column(String(320), info=label(_l("Эл. почта")))

    @declared_attr
    def address_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("ctr_address.id", ondelete="RESTRICT"), index=True,
                             info=label(_l("Адрес")))

    @declared_attr
    def address(cls) -> Mapped[Address | None]:
        return relationship(Address, info=label(_l("Адрес")))


class Organisation(PartyMixin, Model):
    """Организация: a company that pays for its employees or sends patients."""

    __tablename__ = "ctr_organisation"
    __label__ = _l("Организации")
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_organisation_group.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Группа организаций")))
    group: Mapped[OrganisationGroup | None] = relationship(
        OrganisationGroup, info=label(_l("Группа организаций")))


class Insurer(PartyMixin, Model):
    """Страховая компания: pays under OMS and DMS contracts."""

    __tablename__ = "ctr_insurer"
    __label__ = _l("Страховые компании")
    id: Mapped[int] = mapped_column(primary_key=True)
    licence: Mapped[str | None] = mapped_column(String(50), info=label(_l("Лицензия")))
    register_code: Mapped[str | None] = mapped_column(
        String(20), info=label(_l("Код в реестре СМО")))


class Individual(OwnedMixin, Model):
    """Физическое лицо: a person who pays (for himself or a relative)."""

    __tablename__ = "ctr_individual"
    __label__ = _l("Физические лица")
    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False, index=True,
                                           info=label(_l("Фамилия")))
    first_name: Mapped[str] = mapped_column(String(100), nullable=False, info=label(_l("Имя")))
    middle_name: Mapped[str | None] = mapped_column(String(100), info=label(_l("Отчество")))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, info=label(_l("Дата рождения")))
    document: Mapped[str | None] = mapped_column(
        String(100), info=label(_l("Документ, удостоверяющий личность")))
    inn: Mapped[str | None] = mapped_column(String(12), info=inn_info(_l("ИНН")))
    phone: Mapped[str | None] = mapped_column(String(50), info=label(_l("Телефон")))
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("ctr_address.id", ondelete="RESTRICT"), index=True, info=label(_l("Адрес")))
    address: Mapped[Address | None] = relationship(Address, info=label(_l("Адрес")))

    @hybrid_property
    def full_name(self) -> str:
        """Return «Фамилия Имя Отчество» (in SQL too: lists and exports sort and
        search by it)."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @full_name.inplace.expression
    @classmethod
    def _full_name_sql(cls):
        return cls.last_name + " " + cls.first_name + func.coalesce(" " + cls.middle_name, "")

    def __repr__(self) -> str:
        return self.full_name
