"""«Импорт талонов»: vouchers with their lines from one file, one row per line. The rows
of one voucher share its number in the file, branch, date and patient — the voucher's
natural key (`vch_voucher.external_number` + branch + date + patient, unique), so that
loading the file again changes nothing.

Checked by the voucher rules of the screens, as plain functions on values loaded once
per batch (services.vouchers.rules.check_day, header_policies; services.admin.params.
check_closed; services.vouchers.lines.check_service_branch, check_typed_price,
check_discount; pricing.line_amount). A branch is one of the user's (his scope), a
patient one he sees, a service an active one by code. A line is paid by the patient
(«За счёт пациента») at the price in the file, or at the list price of the branch's
paid price type when the cell is empty; a later «Пересчет талонов» re-resolves payers.

Written set-based: new vouchers get their ids from the sequence (PostgreSQL) and go in
with one COPY per batch, their lines with another; the vouchers' totals and line counts
are summed by one UPDATE per batch. A line whose voucher is already stored (an earlier
run) is "same" when that voucher has such a line, else refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, func, insert, select, update

from models.org import Unit
from models.patients import name_key
from models.pricelist import Price, Service
from models.refbooks import Department
from models.vouchers import Voucher, VoucherLine
from security.policies import Policies
from services.admin.params import check_closed, closed_through
from services.dates import local_now
from services.imports.framework.bulk import (
    BulkImport,
    allocate_ids,
    date_cell,
    insert_rows,
    once,
    text_cell,
)
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    RowProblem,
    money,
    positive_int,
)
from services.imports.framework.values import amount
from services.imports.patient_specs import _snils, find_patients, journal_import, patient_of
from services.imports.prices import _among
from services.rollups import recompute
from services.vouchers.lines import check_discount, check_service_branch, check_typed_price
from services.vouchers.pricing import category_for, line_amount, paid_price_type
from services.vouchers.rules import check_day, header_policies

_VOUCHER = ("id", "service_date", "kind", "branch_id", "patient_id", "external_number",
            "total", "line_count", "created_by_id", "created_on", "source", "version", "note")
_LINE = ("voucher_id", "service_id", "quantity", "price", "discount", "amount",
         "payer_kind", "state", "service_date", "branch_id", "category_id", "price_type_id")


class VoucherImport(BulkImport):
    """Vouchers and their lines, one row per line."""

    code = "vouchers"
    title = _l("Импорт талонов")
    right = "import.vouchers"
    description = _l("Талоны с услугами, строка на услугу: талон — номер, филиал, дата и "
                     "пациент (по СНИЛС или ФИО и дате рождения), услуга по коду.")
    columns = (
        Column("number", "Номер талона", ("Талон", "№ талона"), required=True),
        Column("branch", "Код филиала", ("Филиал",), required=True),
        Column("service_date", "Дата", ("Дата талона", "Дата услуги"), required=True,
               hint="ДД.ММ.ГГГГ"),
        Column("last_name", "Фамилия", required=True),
        Column("first_name", "Имя", required=True),
        Column("middle_name", "Отчество"),
        Column("birth_date", "Дата рождения", ("Д/р",), required=True, hint="ДД.ММ.ГГГГ"),
        Column("snils", "СНИЛС", hint="Если указан, пациент ищется по нему"),
        Column("service", "Код услуги", ("Услуга",), required=True),
        Column("quantity", "Количество", ("Кол-во",), hint="Пусто — 1"),
        Column("price", "Цена", hint="Пусто — цена прейскуранта"),
        Column("discount", "Скидка, %", ("Скидка",), hint="Отрицательная — надбавка"),
        Column("note", "Примечание"),
    )
    key = ("number", "branch", "service_date")
    #: a voucher has many rows: the file's rows are not told apart by a key.
    unique_rows = False
    text_columns = ("number", "note")
    field_columns = {"service_date": "service_date", "service": "service", "price": "price",
                     "discount": "discount", "quantity": "quantity", "price_type": "price",
                     "nurse": "number", "diagnosis": "number"}

    def start(self, session, rights):
        """The lookups every batch shares; the header policies (the file gives no nurse
        nor diagnosis, so they decide the same for every voucher) applied once."""
        paid = paid_price_type(session)
        return {"rights": rights, "today": local_now().date(), "branches": {},
                "services": {}, "closed": {}, "categories": {},
                "paid_type": paid.id if paid else None,
                # The vouchers this run creates carry this time: a later batch tells them
                # from those of an earlier run without remembering every one.
                "now": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "header_refused": _policy_refusal(rights)}

    def parse(self, ctx, row):
        last = text_cell(row, "last_name", 100, required=True)
        first = text_cell(row, "first_name", 100, required=True)
        middle = text_cell(row, "middle_name", 100)
        discount = Decimal(0)
        if row["discount"] is not None:
            discount = amount(row["discount"])
            if discount is None:
                raise RowProblem("discount", _("Не число: «%(value)s»",
                                               value=row["discount"]))
        quantity = row["quantity"]
        return _Row(
            number=text_cell(row, "number", 50, required=True),
            branch=text_cell(row, "branch", 32, required=True),
            service_date=date_cell(row, "service_date", required=True), last=last,
            first=first, middle=middle, born=date_cell(row, "birth_date", required=True),
            snils=_snils(row["snils"]) if row["snils"] is not None else None,
            service=text_cell(row, "service", 32, required=True),
            quantity=_QUANTITIES.get(quantity) or positive_int(row, "quantity", default=1),
            price=_price(row), discount=discount,
            note=text_cell(row, "note", 1000), name=_name_key(last, first, middle))

    def prefetch(self, session, ctx, records):
        """Branches in the user's scope, services, patients he sees, closed dates,
        price categories and list prices: one query per kind for the batch."""
        rights = ctx["rights"]
        wanted = {r.branch for r in records} - set(ctx["branches"])
        if wanted:
            # Branches only: a voucher's branch is never a department (check_branch_kind).
            found = session.execute(select(Unit.code, Unit.id).where(
                Unit.code.in_(sorted(wanted)), Unit.kind == "branch",
                rights.scope.clause(Unit.id))).all()
            ctx["branches"].update(found)
            for _code, unit_id in found:
                ctx["closed"][unit_id] = closed_through(session, unit_id)
                category = category_for(session, ctx["paid_type"], unit_id) \
                    if ctx["paid_type"] else None
                ctx["categories"][unit_id] = category.id if category else None
        wanted = {r.service for r in records} - set(ctx["services"])
        for clause in _among(session, Service.code, wanted, String):
            for code, sid, active, branch in session.execute(
                    select(Service.code, Service.id, Service.active, Department.branch_id)
                    .outerjoin(Department, Department.id == Service.department_id)
                    .where(clause)):
                ctx["services"][code] = (sid, active, branch)
        ctx["by_name"], ctx["by_snils"] = find_patients(session, rights, records, "read")
        services = {ctx["services"][r.service][0] for r in records
                    if r.service in ctx["services"]}
        categories = {c for c in ctx["categories"].values() if c is not None}
        prices = defaultdict(list)
        if services and categories:
            for clause in _among(session, Price.service_id, services, Integer):
                for sid, cid, start, end, value in session.execute(select(
                        Price.service_id, Price.category_id, Price.valid_from, Price.valid_to,
                        Price.amount).where(clause, Price.category_id.in_(sorted(categories)))):
                    prices[(sid, cid)].append((start, end, value))
        ctx["prices"] = prices

    def bind(self, ctx, r):
        branch_id = ctx["branches"].get(r.branch)
        if branch_id is None:
            raise RowProblem("branch", _("Нет филиала с кодом «%(code)s» среди ваших",
                                         code=r.branch))
        service = ctx["services"].get(r.service)
        if service is None or not service[1]:
            raise RowProblem("service", _("Нет действующей услуги с кодом «%(code)s»",
                                          code=r.service))
        return (branch_id, r.number, r.service_date, patient_of(ctx, r)), (r, service)

    def existing(self, session, ctx, keys):
        """Return {voucher key: [voucher id, created by this run, stored lines]} of the
        batch's vouchers already stored — by an earlier run or an earlier batch."""
        numbers = {k[1] for k in keys}
        wanted = set(keys)
        found: dict = {}
        query = select(Voucher.id, Voucher.branch_id, Voucher.external_number,
                       Voucher.service_date, Voucher.patient_id, Voucher.created_on)
        # With the branches: ux_vch_voucher_external leads with the branch.
        branches = Voucher.branch_id.in_(sorted({k[0] for k in keys}))
        for clause in _among(session, Voucher.external_number, numbers, String):
            for vid, *key, created in session.execute(query.where(branches, clause)):
                if tuple(key) in wanted:
                    found[tuple(key)] = [vid, created == ctx["now"], []]
        earlier = [v[0] for v in found.values() if not v[1]]
        for clause in _among(session, VoucherLine.voucher_id, set(earlier), Integer):
            by_id = {v[0]: v for v in found.values()}
            for vid, sid, qty, price, discount in session.execute(select(
                    VoucherLine.voucher_id, VoucherLine.service_id, VoucherLine.quantity,
                    VoucherLine.price, VoucherLine.discount).where(
                    clause, VoucherLine.state != "cancelled")):
                by_id[vid][2].append((sid, qty, price, discount))
        return found

    def decide(self, ctx, key, record, stored):
        r, (service_id, _active, department_branch) = record
        rights = ctx["rights"]
        branch_id = key[0]
        listed = _listed(ctx, service_id, branch_id, r.service_date)
        price = listed if r.price is None else r.price
        if stored is not None and not stored[1]:
            line = (service_id, r.quantity, price, r.discount)
            if line in stored[2]:
                stored[2].remove(line)  # each stored line answers one row of the file
                return "same"
            raise RowProblem("service", _("Талон «%(n)s» уже загружен, и в нём нет такой "
                                          "услуги: измените талон в его карточке", n=r.number))
        if ctx["header_refused"]:
            raise RowProblem("number", ctx["header_refused"])
        day = r.service_date
        once(ctx, ("day", branch_id, day), _check_day, ctx, branch_id, day)
        once(ctx, ("branch", department_branch, branch_id), check_service_branch,
             department_branch, branch_id, rights)
        if r.price is None and listed is None:
            raise RowProblem("price", _("Нет цены услуги в прейскуранте на %(d)s: укажите "
                                        "цену", d=r.service_date.strftime("%d.%m.%Y")))
        if r.price is not None:
            once(ctx, ("price", r.price, listed), check_typed_price, r.price, listed,
                 "regular", rights)
        once(ctx, ("discount", r.discount), check_discount, r.discount, rights, True)
        ctx["lines"] = ctx.get("lines", 0) + 1
        return "insert"

    def write(self, session, ctx, inserts, updates):
        """New vouchers (COPY with ids from the sequence), then their lines, then one
        UPDATE of the batch's vouchers' totals and line counts."""
        new: dict = {}
        for key, record, stored in inserts:
            if stored is None and key not in new:
                new[key] = record[0]
        ids = allocate_ids(session, Voucher.__table__, len(new))
        table = Voucher.__table__
        user_id = ctx["rights"].user_id
        rows = [(ids[i] if ids else None, v[2], "regular", v[0], v[3], v[1], Decimal(0), 0,
                 user_id, ctx["now"], "manual", 1, r.note)
                for i, (v, r) in enumerate(new.items())]
        voucher_ids = {}
        if ids:
            insert_rows(session, table, _VOUCHER, rows)
            voucher_ids = {v: ids[i] for i, v in enumerate(new)}
        elif rows:
            returned = session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [dict(zip(_VOUCHER[1:], row[1:], strict=True)) for row in rows]).scalars()
            voucher_ids = dict(zip(new, returned, strict=True))
        category = ctx["categories"]
        lines = []
        touched = set()
        for key, (r, (service_id, _a, _b)), stored in inserts:
            vid = voucher_ids.get(key) or stored[0]
            touched.add(vid)
            branch_id = key[0]
            price = r.price if r.price is not None else _listed(
                ctx, service_id, branch_id, r.service_date)
            lines.append((vid, service_id, r.quantity, price, r.discount,
                          line_amount(price, r.quantity, r.discount), "patient", "rendered",
                          r.service_date, branch_id, category.get(branch_id),
                          ctx["paid_type"]))
        insert_rows(session, VoucherLine.__table__, _LINE, lines)
        for clause in _among(session, Voucher.id, touched, Integer):
            sums = select(func.coalesce(func.sum(VoucherLine.amount), 0)).where(
                VoucherLine.voucher_id == Voucher.id,
                VoucherLine.state != "cancelled").scalar_subquery()
            count = select(func.count()).where(VoucherLine.voucher_id == Voucher.id,
                                               VoucherLine.state != "cancelled"
                                               ).scalar_subquery()
            session.execute(update(Voucher).where(clause).values(total=sums, line_count=count),
                            execution_options={"synchronize_session": False})
        ctx["vouchers"] = ctx.get("vouchers", 0) + len(new)
        # The statistics rollups follow the vouchers (services.rollups): the ORM hook
        # does not see COPY, so the (branch, day) keys are recomputed in finish.
        ctx.setdefault("branch_days", set()).update((k[0], k[2]) for k in new)

    def finish(self, session, ctx, report):
        """The statistics rollups of the days written, one journal row for the bulk
        writes, the count of new vouchers in the report."""
        report.extra["vouchers"] = ctx.get("vouchers", 0)
        if ctx.get("branch_days"):
            recompute(session, set(), ctx["branch_days"])
        if report.inserted:
            journal_import(session, Voucher.__tablename__, report)


#: A patient's lines repeat his name: its key is computed once (bounded cache).
_name_key = functools.lru_cache(maxsize=65536)(name_key)
#: The usual quantities as typed, read without the general number parser.
_QUANTITIES = {str(i): i for i in range(1, 100)}
_PRICE = re.compile(r"\d{1,9}(?:[.,]\d{1,2})?")


def _price(row) -> Decimal | None:
    """Return the typed price (None when empty): a plain «1500,00» read directly, the
    rest through the framework's money cell (spaces, numbers, errors)."""
    value = row["price"]
    if type(value) is str and _PRICE.fullmatch(value):
        number = Decimal(value.replace(",", "."))
        if number > 0:
            return number.quantize(_KOPECK)
    return money(row, "price", required=False)


_KOPECK = Decimal("0.01")


class _Row(NamedTuple):
    number: str
    branch: str
    service_date: dt.date
    last: str
    first: str
    middle: str | None
    born: dt.date
    snils: str | None
    service: str
    quantity: int
    price: Decimal | None
    discount: Decimal
    note: str | None
    name: str


def _policy_refusal(rights) -> str | None:
    """Return the message of a header policy that forbids an imported voucher (no nurse,
    no diagnosis), None when they allow or only warn (an import has no one to confirm:
    the load itself is the confirmation)."""
    from core.errors import UchetError

    try:
        header_policies(Policies(rights=rights, confirmed=True, name_rights=False), None,
                        None)
    except UchetError as exc:
        return str(exc)
    return None


def _check_day(ctx, branch_id, day) -> None:
    """The voucher's date rules: the branch's closed period, a future date, the days
    allowed. Raises ValidationError."""
    check_closed(ctx["closed"][branch_id], day, rights=ctx["rights"])
    check_day(day, None, ctx["rights"], ctx["today"])


def _listed(ctx, service_id, branch_id, day) -> Decimal | None:
    """Return the list price valid on `day` (the latest start wins, as price_on)."""
    category = ctx["categories"].get(branch_id)
    best = None
    for start, end, value in ctx["prices"].get((service_id, category), ()):
        if start <= day and (end is None or end >= day) and (best is None or start > best[0]):
            best = (start, value)
    return best[1] if best else None

