"""Параметры модуля «Услуги»: per-network settings of services accounting."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.scoping import ScopePath


class ModuleParameters(Model):
    """The parameters of one clinic network (its top unit): the closed reporting
    period (documents dated on or before `closed_through` are closed) and the date
    prepaid vouchers take."""

    __tablename__ = "sys_parameters"
    __label__ = _l("Параметры")
    __scope__ = ScopePath(column="unit_id", shared=True)  # every branch reads the network's

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                         nullable=False, unique=True)
    closed_through: Mapped[dt.date | None] = mapped_column(
        Date, info=label(_l("Дата закрытого отчётного периода")))

    #: The date of a prepaid voucher formed from referrals, for users whose right
    #: «Предоплатный талон создавать на дату» says "use module parameters".
    prepaid_date: Mapped[str] = mapped_column(
        String(20), nullable=False, default="current_date", server_default="current_date",
        info=label(_l("Дата предоплатного талона")))

    unit: Mapped[Unit] = relationship(Unit, info=label(_l("Сеть")))
