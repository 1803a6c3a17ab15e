"""Who renders services and what they diagnose: employees (doctors and medical
staff of a branch) and the ICD-10 classifier."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import label
from models.org import Unit
from models.refbooks import Department
from models.scoping import ScopePath
from models.user import AppUser


class Employee(Model):
    """Сотрудник: a doctor or a nurse of a branch. A doctor linked to a user account
    makes the vouchers where he is the main doctor that user's own."""

    __tablename__ = "staff_employee"
    __label__ = _l("Сотрудники")
    __scope__ = ScopePath(column="branch_id")
    __table_args__ = (Index("ix_staff_employee_name", "last_name", "first_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False,
                                           info=label(_l("Фамилия")))
    first_name: Mapped[str] = mapped_column(String(100), nullable=False, info=label(_l("Имя")))
    middle_name: Mapped[str | None] = mapped_column(String(100), info=label(_l("Отчество")))
    position: Mapped[str | None] = mapped_column(String(100), info=label(_l("Должность")))
    is_doctor: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                            info=label(_l("Врач")))
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"),
                                           nullable=False, index=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("ref_department.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         info=label(_l("Работает")))

    branch: Mapped[Unit] = relationship(Unit, info=label(_l("Филиал")))
    department: Mapped[Department | None] = relationship(Department,
                                                         info=label(_l("Отделение")))
    user: Mapped[AppUser | None] = relationship(AppUser, info=label(_l("Пользователь")))

    @property
    def short_name(self) -> str:
        """Return «Фамилия И. О.»."""
        initials = "".join(f" {p[0]}." for p in (self.first_name, self.middle_name) if p)
        return f"{self.last_name}{initials}"

    def __repr__(self) -> str:
        return self.short_name


class Diagnosis(Model):
    """Диагноз МКБ-10: a code of the International Classification of Diseases."""

    __tablename__ = "ref_icd10"
    __label__ = _l("Диагнозы МКБ-10")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True, nullable=False,
                                      info=label(_l("Код МКБ")))
    name: Mapped[str] = mapped_column(String(500), nullable=False,
                                      info=label(_l("Наименование")))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                         info=label(_l("Действует")))

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"
