"""Statistics rollups: what the vouchers add up to per day, kept exact in the same
transaction as the vouchers (services.rollups), so that the cabinet's statistics and
the managers' figures read a few rows a day instead of every voucher.

* `OfficeDay`: per referring office and day — visits (vouchers), distinct patients,
  tests (voucher lines) and cost: the cabinet's sums.
* `OfficePatientDay`: per referring office, day and patient — what distinct patient
  counts over any period are computed from (a patient seen on several days, or by
  several offices, counts once).
* `BranchDay`: per branch and day, for the back office.
* `PatientPeriod` and `PeriodPatients`: distinct patients of calendar months and
  years, exact, read in a number of rows that does not grow with the vouchers
  (services.stat_periods).

Visits, tests and cost are those of `vch_voucher` (its `line_count` and `total`),
the figures the statistics used to aggregate from the detail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from models.scoping import BRANCH_ONLY, ScopePath


class DayFigures:
    """The figures of a day that an office's and a branch's rollups share."""

    visits: Mapped[int] = mapped_column(Integer, nullable=False)
    patients: Mapped[int] = mapped_column(Integer, nullable=False)
    tests: Mapped[int] = mapped_column(Integer, nullable=False)
    cost: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False)


class OfficeDay(DayFigures, Model):
    """A referring office's day: visits, distinct patients, tests and cost."""

    __tablename__ = "stat_office_day"
    # Read as the vouchers are in the cabinet: by the referring office.
    __scope__ = ScopePath(column="office_id")

    office_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class OfficePatientDay(Model):
    """A patient's visits sent by one office on one day (distinct counts read it)."""

    __tablename__ = "stat_office_patient_day"
    __scope__ = ScopePath(column="office_id")

    office_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("pat_patient.id", ondelete="CASCADE"),
                                            primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, nullable=False)


class BranchDay(DayFigures, Model):
    """A branch's day: visits, distinct patients, tests and cost (the back office)."""

    __tablename__ = "stat_branch_day"
    # Built from the vouchers' branches, which are branches (models.vouchers).
    __scope__ = ScopePath(column="branch_id", kinds=BRANCH_ONLY)

    branch_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


#: The calendar periods distinct patients are kept for.
PERIOD_KINDS = ("month", "year")


class PatientPeriod(Model):
    """A patient seen in a calendar month or year by a cabinet unit: by the office
    itself (`subtree` false: the vouchers it referred) or by any office of its
    subtree (`subtree` true, for the office and each of its client-side ancestors).
    `first_day` is his first visit of the period: the patients of the period up to a
    day are those whose first visit is not later (this month to date, say)."""

    __tablename__ = "stat_patient_period"
    __scope__ = ScopePath(column="unit_id")

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                         primary_key=True)
    subtree: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("pat_patient.id", ondelete="CASCADE"),
                                            primary_key=True)
    first_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    visits: Mapped[int] = mapped_column(Integer, nullable=False)


class PeriodPatients(Model):
    """How many `PatientPeriod` rows of a unit, period and first visit day there are:
    a period's distinct patients up to a day are the sum of at most 31 (a month) or
    366 (a year) of these rows, however many vouchers the period holds."""

    __tablename__ = "stat_period_patients"
    __scope__ = ScopePath(column="unit_id")

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"),
                                         primary_key=True)
    subtree: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    first_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    patients: Mapped[int] = mapped_column(Integer, nullable=False)
