"""What «Импорт талонов» looks up once per batch (one query per kind, into `ctx`) and
how a row's cells are bound to it: the voucher's staff, diagnosis and referring
office, and each line's payer, price type and price.

The payer is the voucher screen's (services.vouchers.lines `_resolve` and `_price`),
read from dicts instead of a query per line: `pricing.first_cover` picks the
covering attachment, `payers.check_payer_choice` / `check_unattached_contract` check
a payer the file chooses, `payers.payer_price_type` gives its price type,
`pricing.category_for` its category in the branch (once per price type and branch)
and `pricing.listed_price` the price valid on the date.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, select

from core.errors import ValidationError
from models.contracts import Contract
from models.org import Unit, UnitKind
from models.patients import Attachment, name_key
from models.pricelist import Price
from models.programmes import Programme, ProgrammeService
from models.refbooks import PriceCategory, PriceType
from models.staff import Diagnosis, Employee
from models.vouchers import VoucherLine
from security.policies import Policies
from security.scope import scoped
from services.imports.framework.spec import RowProblem
from services.imports.prices import _among
from services.vouchers.limits import cost_limit, count_limit, period_of
from services.vouchers.payers import (
    check_payer_choice,
    check_unattached_contract,
    payer_price_type,
)
from services.vouchers.pricing import (
    attachment_covers,
    category_for,
    first_cover,
    line_amount,
    listed_price,
    price_rows,
    valid_on,
)
from services.vouchers.rules import check_doctor, check_staff_branch

#: The offices that refer patients (the voucher form's «Направившее подразделение»).
CLIENT_OFFICES = (UnitKind.client.value, UnitKind.head_unit.value,
                  UnitKind.client_branch.value)
#: «Плательщик» cells that choose the patient (compared in lower case).
PATIENT_WORDS = frozenset({"пациент", "за счёт пациента", "за счет пациента"})


class Head(NamedTuple):
    """The voucher's header from the file: ids of its staff, diagnosis and office."""

    doctor_id: int | None
    nurse_id: int | None
    diagnosis_id: int | None
    referring_unit_id: int | None


#: A voucher whose file gives none of them.
NO_HEAD = Head(None, None, None, None)


class Payment(NamedTuple):
    """A line's resolved payer and price, as the voucher screen would store them."""

    kind: str
    attachment_id: int | None
    contract_id: int | None
    price_type_id: int | None
    category_id: int | None
    listed: object  # Decimal: the list price valid on the date


def person_key(cell: str) -> str:
    """Return the name key of «Фамилия Имя Отчество» typed in one cell."""
    parts = cell.split()
    return name_key(parts[0], " ".join(parts[1:2]) or None, " ".join(parts[2:]) or None)


def prefetch_refs(session, ctx, records) -> None:
    """Load the staff the user sees (once per run), the batch's diagnoses by code,
    referring offices by code (client offices he reads), paying contracts by number,
    the patients' attachments and covers, then the categories and prices every
    possible payer needs: one query per kind."""
    rights = ctx["rights"]
    if "staff" not in ctx and any(r.doctor or r.nurse for r in records):
        # Once per run: a network's staff is small, and a name is compared as
        # name_key folds it (case, «ё»), which SQLite's lower() cannot do.
        staff = defaultdict(list)
        for row in session.execute(scoped(select(
                Employee.id, Employee.last_name, Employee.first_name, Employee.middle_name,
                Employee.branch_id, Employee.is_doctor, Employee.active), rights,
                model=Employee)):
            staff[name_key(row[1], row[2], row[3])].append(row)
        ctx["staff"] = staff
    codes = {r.diagnosis for r in records if r.diagnosis}
    ctx["diagnoses"] = dict(session.execute(select(Diagnosis.code, Diagnosis.id).where(
        Diagnosis.code.in_(sorted(codes)))).all()) if codes else {}
    codes = {r.referrer for r in records if r.referrer}
    ctx["referrers"] = dict(session.execute(scoped(select(Unit.code, Unit.id).where(
        Unit.code.in_(sorted(codes)), Unit.kind.in_(CLIENT_OFFICES)), rights,
        model=Unit)).all()) if codes else {}
    numbers = {r.payer for r in records if r.payer and r.payer.lower() not in PATIENT_WORDS}
    ctx["contracts"] = {number: (cid, ptype) for number, cid, ptype in session.execute(
        scoped(select(Contract.number, Contract.id, PriceCategory.price_type_id)
               .outerjoin(PriceCategory, PriceCategory.id == Contract.price_category_id)
               .where(Contract.number.in_(sorted(numbers))), rights, model=Contract))
        } if numbers else {}
    _prefetch_payers(session, ctx, records)


def _prefetch_payers(session, ctx, records) -> None:
    """Load into `ctx` the batch patients' covering attachments (and, when the file
    names contracts, all their attachments), the limits of those that may pay, the
    price categories of every price type met for the branches (category_for, once per
    pair in the run) and the services' prices in them."""
    patients = {pid for found in (*ctx["by_name"].values(), *ctx["by_snils"].values())
                for pid in found}
    services = {ctx["services"][r.service][0] for r in records if r.service in ctx["services"]}
    covers, attached = {}, defaultdict(list)
    for clause in _among(session, Attachment.patient_id, patients, Integer):
        for s_clause in _among(session, ProgrammeService.service_id, services, Integer):
            covers.update(attachment_covers(session, clause, s_clause))
        if ctx["contracts"]:
            # A contract chosen in «Плательщик»: the patient's attachments under it.
            for pid, *row in session.execute(select(
                    Attachment.patient_id, Attachment.id, Attachment.valid_from,
                    Attachment.valid_to, Programme.contract_id, Programme.price_type_id)
                    .join(Programme, Programme.id == Attachment.programme_id)
                    .where(clause).order_by(Attachment.valid_from, Attachment.id)):
                attached[pid].append(row)
    ctx["covers"], ctx["attached"] = covers, attached
    ctx["contract_kinds"] = {}
    if ctx["split"]:  # «Разделение услуг по признаку ОМС/ДМС»: the paying contracts' kinds
        ids = {c.contract_id for cs in covers.values() for c in cs} \
            | {a[3] for rows in attached.values() for a in rows} \
            | {cid for cid, _t in ctx["contracts"].values()}
        for clause in _among(session, Contract.id, ids, Integer):
            ctx["contract_kinds"].update(session.execute(select(Contract.id, Contract.kind)
                                                         .where(clause)).all())
    _prefetch_limits(session, ctx, {c.attachment_id for cs in covers.values() for c in cs}
                     | {a[0] for rows in attached.values() for a in rows}, services)
    types = {ctx["paid_type"]} | {c.price_type_id for cs in covers.values() for c in cs} \
        | {row[4] for rows in attached.values() for row in rows} \
        | {t for _c, t in ctx["contracts"].values()}
    types.discard(None)
    for type_id in types:
        for branch_id in ctx["branches"].values():
            if (type_id, branch_id) not in ctx["categories"]:
                category = category_for(session, type_id, branch_id)
                ctx["categories"][(type_id, branch_id)] = category
    missing = types - set(ctx["type_names"])
    if missing:
        ctx["type_names"].update(session.execute(select(PriceType.id, PriceType.name).where(
            PriceType.id.in_(sorted(missing)))).all())
    categories = {c.id for c in ctx["categories"].values() if c is not None}
    prices: dict = {}
    for clause in _among(session, Price.service_id, services, Integer):
        if categories:
            prices.update(price_rows(session, clause,
                                     Price.category_id.in_(sorted(categories))))
    ctx["prices"] = prices


def bind_head(ctx, r, branch_id) -> Head:
    """Return the voucher header's ids from the row's cells. Raises RowProblem in the
    column at fault (an unknown or ambiguous employee, one of another branch, a doctor
    who is not one, an unknown diagnosis or office)."""
    if not (r.doctor or r.nurse or r.diagnosis or r.referrer):
        return NO_HEAD
    doctor = _employee(ctx, r.doctor, branch_id, "doctor") if r.doctor else None
    if doctor is not None:
        try:
            check_doctor(doctor[5], doctor[6], r.doctor)
        except ValidationError as exc:
            raise RowProblem("doctor", str(exc)) from None
    nurse = _employee(ctx, r.nurse, branch_id, "nurse") if r.nurse else None
    diagnosis = None
    if r.diagnosis:
        diagnosis = ctx["diagnoses"].get(r.diagnosis)
        if diagnosis is None:
            raise RowProblem("diagnosis", _("Нет диагноза с кодом МКБ-10 «%(code)s» в "
                                            "справочнике", code=r.diagnosis))
    referrer = None
    if r.referrer:
        referrer = ctx["referrers"].get(r.referrer)
        if referrer is None:
            raise RowProblem("referrer", _("Нет подразделения клиента с кодом «%(code)s» "
                                           "среди доступных вам", code=r.referrer))
    return Head(doctor[0] if doctor else None, nurse[0] if nurse else None, diagnosis,
                referrer)


def _employee(ctx, cell: str, branch_id: int, column: str):
    """Return the employee row named in `cell` among those of the voucher's branch (the
    voucher form offers only its branch's staff). Raises RowProblem."""
    found = ctx.get("staff", {}).get(person_key(cell), [])
    if not found:
        raise RowProblem(column, _("Нет сотрудника «%(name)s» среди доступных вам",
                                   name=cell))
    own = [e for e in found if e[4] == branch_id]
    if not own:
        try:
            check_staff_branch(found[0][4], branch_id, cell, column)
        except ValidationError as exc:
            raise RowProblem(column, str(exc)) from None
    if len(own) > 1:
        raise RowProblem(column, _("В филиале несколько сотрудников «%(name)s»: уточните "
                                   "в справочнике сотрудников", name=cell))
    return own[0]


def resolve_payment(ctx, r, patient_id: int, service_id: int, branch_id: int) -> Payment:
    """Return the line's payer and list price as the voucher screen finds them: the
    oldest attachment valid on the date whose programme covers the service, else the
    patient at the paid price; a «Плательщик» cell chooses the patient or a contract
    (its attachment valid on the date, else the contract itself) under the screen's
    rights. Raises RowProblem, ValidationError, Forbidden."""
    day, rights = r.service_date, ctx["rights"]
    cover = first_cover(ctx["covers"].get((patient_id, service_id), ()), day)
    kind = "attachment" if cover else "patient"
    attachment_id = cover.attachment_id if cover else None
    contract_id = cover.contract_id if cover else None
    programme_type = cover.price_type_id if cover else None
    contract_type = None
    if r.payer is not None:
        auto = (kind, attachment_id)
        if r.payer.lower() in PATIENT_WORDS:
            kind, attachment_id, contract_id = "patient", None, None
        else:
            kind, attachment_id, contract_id, programme_type, contract_type = _chosen(
                ctx, r, patient_id, service_id)
        check_payer_choice(kind, auto[0], auto[1], attachment_id, rights)
        if kind == "contract":
            check_unattached_contract(contract_id, rights)
    price_type = payer_price_type(kind, programme_type, contract_type, ctx["paid_type"])
    return _priced(ctx, kind, attachment_id, contract_id, price_type, service_id, branch_id,
                   day)


def patient_payment(ctx, r, service_id: int, branch_id: int) -> Payment:
    """Return the line paid by the patient at his list price (a limit moved it).
    Raises ValidationError."""
    return _priced(ctx, "patient", None, None, ctx["paid_type"], service_id, branch_id,
                   r.service_date)


def _priced(ctx, kind, attachment_id, contract_id, price_type, service_id: int,
            branch_id: int, day) -> Payment:
    """Return the payment with the category and list price of its price type in the
    branch on the day (pricing.listed_price). Raises ValidationError."""
    category = ctx["categories"].get((price_type, branch_id))
    rows = ctx["prices"].get((service_id, category.id), ()) if category else ()
    listed = listed_price(price_type, functools.partial(ctx["type_names"].get, price_type),
                          category, rows, day)
    return Payment(kind, attachment_id, contract_id, price_type,
                   category.id if category else None, listed)


class Limits(NamedTuple):
    """What the limit rules read of an attachment and its programme."""

    valid_from: object  # date
    programme_id: int
    name: str
    period_months: int | None
    max_cost: object  # Decimal | None


def _prefetch_limits(session, ctx, attachments: set, services: set) -> None:
    """Load the programmes' limits of the attachments that may pay a line of the
    batch, and what was already taken under those with a limit (the database holds
    the earlier batches' lines too): one query per kind. The attachments are locked
    (PostgreSQL), as the screen's check_limits locks the one it spends."""
    ctx["limits"], ctx["max_counts"], ctx["usage"] = {}, {}, defaultdict(list)
    if not attachments or ctx["rights"].flag("voucher.post_ignore_limits"):
        return
    limits = ctx["limits"]
    for clause in _among(session, Attachment.id, attachments, Integer):
        for aid, *row in session.execute(select(
                Attachment.id, Attachment.valid_from, Programme.id, Programme.name,
                Programme.period_months, Programme.max_cost)
                .join(Programme, Programme.id == Attachment.programme_id).where(clause)):
            limits[aid] = Limits(*row)
    programmes = {x.programme_id for x in limits.values()}
    for clause in _among(session, ProgrammeService.programme_id, programmes, Integer):
        ctx["max_counts"].update(((pid, sid), count) for pid, sid, count in session.execute(
            select(ProgrammeService.programme_id, ProgrammeService.service_id,
                   ProgrammeService.max_count).where(
                clause, ProgrammeService.max_count.is_not(None),
                ProgrammeService.service_id.in_(sorted(services)))))
    counted = {pid for pid, _sid in ctx["max_counts"]}
    limited = {aid for aid, x in limits.items()
               if x.max_cost is not None or x.programme_id in counted}
    for aid in set(limits) - limited:
        del limits[aid]
    for clause in _among(session, Attachment.id, limited, Integer):
        session.execute(select(Attachment.id).where(clause).with_for_update())
    for clause in _among(session, VoucherLine.attachment_id, limited, Integer):
        for aid, *used in session.execute(select(
                VoucherLine.attachment_id, VoucherLine.service_id, VoucherLine.service_date,
                VoucherLine.quantity, VoucherLine.amount).where(
                clause, VoucherLine.state != "cancelled")):
            ctx["usage"][aid].append(tuple(used))


def apply_limits(ctx, r, service_id: int, payment: Payment, price) -> bool:
    """Apply the programme's limits to a line paid under an attachment, as the
    screen's check_limits: the count limit of the service, then the treatment cost,
    over the insurance period holding the date (warnings confirmed by the load).
    Returns True when the line moves to the patient; else counts it as taken.

    Raises PolicyRefused when the rights forbid the excess."""
    limit = ctx["limits"].get(payment.attachment_id)
    if limit is None:
        return False
    day = r.service_date
    start, end = period_of(limit.valid_from, limit.period_months, day)
    taken = [u for u in ctx["usage"][payment.attachment_id] if start <= u[1] <= end]
    amount = line_amount(price, r.quantity, r.discount)
    checks = Policies(rights=ctx["rights"], confirmed=True, name_rights=False)
    max_count = ctx["max_counts"].get((limit.programme_id, service_id))
    if max_count is not None and count_limit(
            checks, limit.name, max_count, sum(u[2] for u in taken if u[0] == service_id),
            r.quantity, start, end):
        return True
    if limit.max_cost is not None and cost_limit(
            checks, limit.name, limit.max_cost, sum((u[3] for u in taken), Decimal(0)),
            amount):
        return True
    ctx["usage"][payment.attachment_id].append((service_id, day, r.quantity, amount))
    return False


def _chosen(ctx, r, patient_id: int, service_id: int) -> tuple:
    """Return (kind, attachment, contract, programme's price type, contract's price
    type) of a contract named in «Плательщик»: the patient's attachment under it valid
    on the date (one covering the service first), else the contract unattached."""
    found = ctx["contracts"].get(r.payer)
    if found is None:
        raise RowProblem("payer", _("Нет договора «%(n)s» среди доступных вам", n=r.payer))
    contract_id, contract_type = found
    covering = {c.attachment_id for c in ctx["covers"].get((patient_id, service_id), ())}
    valid = [a for a in ctx["attached"].get(patient_id, ())
             if a[3] == contract_id and valid_on(a[1], a[2], r.service_date)]
    valid.sort(key=lambda a: a[0] not in covering)  # stable: oldest covering first
    if valid:
        return "attachment", valid[0][0], contract_id, valid[0][4], None
    return "contract", None, contract_id, None, contract_type
