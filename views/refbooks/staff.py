"""Staff and ICD-10 diagnoses: who renders a voucher's services and what they
diagnose. Employees are kept in their branch's scope; the classifier is shared."""

from __future__ import annotations

from models.staff import Diagnosis, Employee
from views.refbook import RefBook, register_refbook

STAFF_BOOK = RefBook(
    Employee, "patient.staff", "Employees", "patients",
    ("last_name", "first_name", "middle_name", "position", "is_doctor", "branch",
     "department", "active"),
    edit_columns=("last_name", "first_name", "middle_name", "position", "is_doctor", "branch",
                  "department", "user", "active"),
    search_columns=("last_name", "first_name", "position", "is_doctor", "branch", "department",
                    "active"),
    order=("last_name", "asc"), icon="fa-user-circle")
ICD_BOOK = RefBook(
    Diagnosis, "patient.icd10", "Diagnoses", "patients", ("code", "name", "active"),
    order=("code", "asc"), icon="fa-stethoscope")

register_refbook(STAFF_BOOK)
register_refbook(ICD_BOOK)
