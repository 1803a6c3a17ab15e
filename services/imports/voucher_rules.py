"""The per-line rules of «Импорт талонов» (services/imports/voucher_spec.py) that are
not the payer's (voucher_refs.py): a re-run's stored lines, one header per voucher,
the header and «без прикрепления» policies, the date rules, OMS / DMS apart — each a
call of the voucher screen's own rule on values from the batch's lookups."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Integer, select

from models.contracts import Contract
from models.vouchers import VoucherLine
from security.policies import Policies
from services.admin.params import check_closed
from services.imports.framework.spec import RowProblem
from services.imports.prices import _among
from services.vouchers.payers import without_attachment
from services.vouchers.rules import check_day, header_policies


def stored_line(r, service_id: int, stored) -> str:
    """Return "same" for a row of a voucher stored by an earlier run that has such a
    line — the service, quantity and discount, and the price when the file gives one
    (a list price or a payer may have changed since). Raises RowProblem otherwise."""
    for line in stored[2]:
        if line[0] == service_id and line[1] == r.quantity and line[3] == r.discount \
                and (r.price is None or line[2] == r.price):
            stored[2].remove(line)  # each stored line answers one row of the file
            return "same"
    raise RowProblem("service", _("Талон «%(n)s» уже загружен, и в нём нет такой услуги: "
                                  "измените талон в его карточке", n=r.number))


def stored_kinds(session, found: dict) -> None:
    """Append to each stored voucher of `found` the set of OMS / DMS kinds of its lines'
    contracts (one query): «Разделение услуг по признаку ОМС/ДМС» keeps them apart."""
    by_id = {v[0]: v for v in found.values()}
    for v in by_id.values():
        v.append(set())
    for clause in _among(session, VoucherLine.voucher_id, set(by_id), Integer):
        for vid, kind in session.execute(select(VoucherLine.voucher_id, Contract.kind).join(
                Contract, Contract.id == VoucherLine.contract_id).where(
                clause, VoucherLine.state != "cancelled",
                Contract.kind.in_(("oms", "dms"))).distinct()):
            by_id[vid][4].add(kind)


def other_kind(ctx, key, kind: str, stored) -> bool:
    """Return True when the voucher already holds lines of the other kind (OMS / DMS):
    stored ones, or taken by earlier rows of the batch."""
    other = "dms" if kind == "oms" else "oms"
    return other in ctx["kinds"].get(key, ()) or (stored is not None and other in stored[4])


def header_rules(rights, head) -> None:
    """The header policies on an empty nurse or diagnosis (services.vouchers.rules.
    header_policies); a warning is taken as confirmed by the load (no one is asked).
    Raises PolicyRefused for a forbidding one."""
    header_policies(Policies(rights=rights, confirmed=True, name_rights=False),
                    head.nurse_id, head.diagnosis_id)


def patient_pays(rights) -> None:
    """«Проведение услуги без прикрепления» for a line the patient pays (warnings
    taken as confirmed). Raises PolicyRefused for a forbidding one."""
    without_attachment(Policies(rights=rights, confirmed=True, name_rights=False))


def same_head(ctx, key, r, head, stored) -> None:
    """Refuse a row whose doctor, nurse, diagnosis or office differ from those of its
    voucher's other rows: the first row met in the batch, or the stored voucher.
    Raises RowProblem."""
    known = stored[3] if stored is not None else ctx["heads"].setdefault(key, head)
    if known != head:
        raise RowProblem("doctor", _("Строки талона «%(n)s» расходятся во враче, медсестре, "
                                     "диагнозе или направившем подразделении", n=r.number))


def voucher_day(ctx, branch_id, day) -> None:
    """The voucher's date rules: the branch's closed period, a future date, the days
    allowed. Raises ValidationError."""
    check_closed(ctx["closed"][branch_id], day, rights=ctx["rights"])
    check_day(day, None, ctx["rights"], ctx["today"])
