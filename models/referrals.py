"""Направления: a doctor's referral of a patient to a service (the EMR's orders). A
prepaid voucher is formed from referrals («Сформировать талоны»); the referral then
names the voucher, so it is never formed twice.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.patients import Patient
from models.pricelist import Service
from models.scoping import ScopePath
from models.staff import Diagnosis, Employee
from models.user import AppUser
from models.vouchers import Voucher


class Referral(Model):
    """Направление: one service ordered for a patient in a branch, with the date the
    patient is booked for (дата записи)."""

    __tablename__ = "vch_referral"
    __label__ = _l("Направления")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (
        Index("ix_vch_referral_branch_issued", "branch_id", "issued_on"),
        CheckConstraint("quantity > 0", name="ck_vch_referral_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                               info=label(_l("Дата направления")))
    appointment_date: Mapped[dt.date | None] = mapped_column(
        Date, info=label(_l("Дата записи")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False)
    patient_id: Mapped[int] = mapped_column(ForeignKey("pat_patient.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("price_service.id", ondelete="RESTRICT"),
                                            nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1,
                                          info=label(_l("Количество")))
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_employee.id", ondelete="RESTRICT"), index=True)
    diagnosis_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_icd10.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))
    #: The prepaid voucher formed from the referral; deleting it frees the referral.
    voucher_id: Mapped[int | None] = mapped_column(
        ForeignKey("vch_voucher.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False,
                                                    server_default=func.now(),
                                                    info=label(_l("Создано")))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    patient: Mapped[Patient] = relationship(Patient, info=label(_l("Пациент")))
    service: Mapped[Service] = relationship(Service, info=label(_l("Услуга")))
    doctor: Mapped[Employee | None] = relationship(Employee,
                                                   info=label(_l("Направивший врач")))
    diagnosis: Mapped[Diagnosis | None] = relationship(Diagnosis,
                                                       info=label(_l("Диагноз МКБ-10")))
    voucher: Mapped[Voucher | None] = relationship(Voucher, info=label(_l("Талон")))
    created_by: Mapped[AppUser | None] = relationship(AppUser, info=label(_l("Автор")))

    @property
    def formed(self) -> str:
        """Return whether a voucher was formed from the referral, without naming it: the
        voucher may be one the reader is not allowed to see."""
        return str(_l("оформлено")) if self.voucher_id is not None else "—"

    def __repr__(self) -> str:
        return f"№ {self.id} от {self.issued_on:%d.%m.%Y}" if self.id else "—"
