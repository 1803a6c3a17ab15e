"""Patients and their attachments to medical programmes."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.programmes import Programme
from models.refbooks import PatientCategory
from models.scoping import ScopePath

SEXES = {"m": _l("Мужской"), "f": _l("Женский")}


def name_key(last: str | None, first: str | None, middle: str | None) -> str:
    """Return the name as duplicates are compared: lower case, «ё» as «е», single spaces."""
    text = " ".join(p.strip() for p in (last, first, middle) if p and p.strip())
    return " ".join(text.lower().replace("ё", "е").split())


class Patient(Model):
    """Пациент: a person the clinic network treats, registered in a home branch."""

    __tablename__ = "pat_patient"
    __label__ = _l("Пациенты")
    __scope__ = ScopePath(column="home_branch_id")
    __table_args__ = (
        # Prefix search by name (LIKE 'иванов%') and the duplicate check (=): on
        # PostgreSQL only a pattern opclass serves LIKE under a non-C collation.
        Index("ix_pat_patient_name_birth", "name_key", "birth_date",
              postgresql_ops={"name_key": "text_pattern_ops"}),
        Index("ix_pat_patient_birth", "birth_date"),
        CheckConstraint("sex IN ('m', 'f')", name="ck_patient_sex"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False,
                                           info=label(_l("Фамилия")))
    first_name: Mapped[str] = mapped_column(String(100), nullable=False, info=label(_l("Имя")))
    middle_name: Mapped[str | None] = mapped_column(String(100), info=label(_l("Отчество")))
    birth_date: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                info=label(_l("Дата рождения")))
    sex: Mapped[str] = mapped_column(String(1), nullable=False, info=label(_l("Пол")))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_patient_category.id", ondelete="RESTRICT"), index=True,
        info=label(_l("Категория пациента")))
    home_branch_id: Mapped[int] = mapped_column(
        ForeignKey("org_unit.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Филиал прикрепления")))
    snils: Mapped[str | None] = mapped_column(String(14), index=True, info=label(_l("СНИЛС")))
    oms_policy: Mapped[str | None] = mapped_column(String(20),
                                                   info=label(_l("Полис ОМС")))
    document_kind: Mapped[str | None] = mapped_column(
        String(50), info=label(_l("Вид документа")))
    document_number: Mapped[str | None] = mapped_column(
        String(30), info=label(_l("Серия и номер документа")))
    document_issued: Mapped[str | None] = mapped_column(
        String(255), info=label(_l("Кем и когда выдан")))
    phone: Mapped[str | None] = mapped_column(String(50), info=label(_l("Телефон")))
    email: Mapped[str | None] = mapped_column(String(320), info=label(_l("Эл. почта")))
    address: Mapped[str | None] = mapped_column(String(500), info=label(_l("Адрес")))
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))
    name_key: Mapped[str] = mapped_column(String(310), nullable=False, default="")
    possible_duplicate: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, index=True,
        info=label(_l("Возможный дубль")))

    category: Mapped[PatientCategory | None] = relationship(
        PatientCategory, info=label(_l("Категория пациента")))
    home_branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал прикрепления")))
    attachments: Mapped[list[Attachment]] = relationship(
        "Attachment", back_populates="patient", passive_deletes="all",
        info=label(_l("Прикрепления")))

    @property
    def full_name(self) -> str:
        """Return «Фамилия Имя Отчество»."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def __repr__(self) -> str:
        born = self.birth_date.strftime("%d.%m.%Y") if self.birth_date else ""
        return f"{self.full_name} ({born})" if born else self.full_name


attachment_branch = Table(
    "pat_attachment_branch",
    Model.metadata,
    Column("attachment_id", Integer, ForeignKey("pat_attachment.id", ondelete="CASCADE"),
           primary_key=True),
    Column("unit_id", Integer, ForeignKey("org_unit.id", ondelete="RESTRICT"),
           primary_key=True, index=True),
)


class Attachment(Model):
    """Прикрепление: a patient covered by a medical programme for a period."""

    __tablename__ = "pat_attachment"
    __label__ = _l("Прикрепления к медицинским программам")
    # Read and written with the patient: attachments of the patients in scope.
    __scope__ = ScopePath(through="patient")
    __table_args__ = (
        Index("ix_pat_attachment_patient_programme", "patient_id", "programme_id"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from",
                        name="ck_attachment_dates"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("pat_patient.id", ondelete="RESTRICT"), nullable=False,
        info=label(_l("Пациент")))
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("ctr_programme.id", ondelete="RESTRICT"), nullable=False, index=True,
        info=label(_l("Медицинская программа")))
    valid_from: Mapped[dt.date] = mapped_column(Date, nullable=False,
                                                info=label(_l("Прикреплён с")))
    valid_to: Mapped[dt.date | None] = mapped_column(Date, info=label(_l("Прикреплён по")))
    policy_number: Mapped[str | None] = mapped_column(String(50),
                                                      info=label(_l("Номер полиса")))
    note: Mapped[str | None] = mapped_column(String(500), info=label(_l("Примечание")))

    patient: Mapped[Patient] = relationship(Patient, back_populates="attachments",
                                            info=label(_l("Пациент")))
    programme: Mapped[Programme] = relationship(Programme,
                                                info=label(_l("Медицинская программа")))
    branches: Mapped[list[Unit]] = relationship(
        Unit, secondary=attachment_branch, info=label(_l("Индивидуальные филиалы")))

    @property
    def scope_owner_unit_id(self) -> int | None:
        """Return the patient's home branch: only its scope may attach him."""
        patient = self.patient
        return patient.home_branch_id if patient is not None else None

    def __repr__(self) -> str:
        return f"{self.patient} — {self.programme}" if self.programme is not None else "—"

    @property
    def contract(self):
        """Return the contract the attachment falls under."""
        return self.programme.contract if self.programme is not None else None
