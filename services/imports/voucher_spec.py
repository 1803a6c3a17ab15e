"""«Импорт талонов»: vouchers with their lines from one file, one row per line. The rows
of one voucher share its number in the file, branch, date and patient — the voucher's
natural key (`vch_voucher.external_number` + branch + date + patient, unique), so that
loading the file again changes nothing.

Checked by the voucher rules of the screens, as plain functions on values loaded once
per batch (services.vouchers.rules.check_day, header_policies; services.admin.params.
check_closed; services.vouchers.lines.check_service_branch, check_typed_price,
check_discount; pricing.line_amount). A branch is one of the user's (his scope), a
patient one he sees, a service an active one by code. Each line's payer, price type
and price are the voucher screen's (services.imports.voucher_refs: the patient's
attachment valid on the date whose programme covers the service, else the patient at
the paid price; «Плательщик» chooses under the screen's rights); the voucher's doctor,
nurse, diagnosis and referring office come from the file.

Written set-based: new vouchers get their ids from the sequence (PostgreSQL) and go in
with one COPY per batch, their lines with another; the vouchers' totals and line counts
are summed by one UPDATE per batch. A line whose voucher is already stored (an earlier
run) is "same" when that voucher has such a line, else refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, func, insert, select, update

from core.errors import UchetError, ValidationError
from models.org import Unit
from models.patients import name_key
from models.pricelist import Service
from models.refbooks import Department
from models.vouchers import Voucher, VoucherLine
from services.admin.params import closed_through
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
from services.imports.voucher_refs import (
    Head,
    apply_limits,
    bind_head,
    patient_payment,
    prefetch_refs,
    resolve_payment,
)
from services.imports.voucher_rules import (
    header_rules,
    other_kind,
    patient_pays,
    same_head,
    stored_kinds,
    stored_line,
    voucher_day,
)
from services.rollups import recompute
from services.vouchers.lines import check_discount, check_service_branch, check_typed_price
from services.vouchers.payers import (
    check_insurance_mark,
    check_insurance_mix,
)
from services.vouchers.pricing import line_amount, paid_price_type

_VOUCHER = ("id", "service_date", "kind", "branch_id", "patient_id", "external_number",
            "total", "line_count", "created_by_id", "created_on", "source", "version", "note",
            "doctor_id", "nurse_id", "diagnosis_id", "referring_unit_id")
_LINE = ("voucher_id", "service_id", "quantity", "price", "discount", "amount",
         "payer_kind", "state", "service_date", "branch_id", "category_id", "price_type_id",
         "attachment_id", "contract_id")


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
        Column("doctor", "Врач", ("Врач талона",), hint="Фамилия Имя Отчество"),
        Column("nurse", "Медсестра", ("Медперсонал", "Медсестра/медбрат"),
               hint="Фамилия Имя Отчество"),
        Column("diagnosis", "Диагноз", ("Диагноз МКБ-10", "МКБ", "Код МКБ"),
               hint="Код МКБ-10"),
        Column("referrer", "Направившее подразделение", ("Направитель",),
               hint="Код подразделения клиента"),
        Column("payer", "Плательщик", hint="Пусто — по прикреплению пациента; «Пациент» "
               "или номер договора"),
    )
    key = ("number", "branch", "service_date")
    #: a voucher has many rows: the file's rows are not told apart by a key.
    unique_rows = False
    text_columns = ("number", "note", "doctor", "nurse", "payer")
    field_columns = {"service_date": "service_date", "service": "service", "price": "price",
                     "discount": "discount", "quantity": "quantity", "price_type": "payer",
                     "nurse": "nurse", "diagnosis": "diagnosis", "doctor": "doctor",
                     "payer_kind": "payer", "attachment": "payer", "contract": "payer"}

    def start(self, session, rights):
        """The lookups every batch shares: branches, services, closed dates, price
        categories by (price type, branch) and price types' names, filled as met."""
        paid = paid_price_type(session)
        return {"rights": rights, "today": local_now().date(), "branches": {},
                "services": {}, "closed": {}, "categories": {}, "type_names": {},
                "paid_type": paid.id if paid else None,
                "split": rights.flag("params.split_oms_dms"),
                # The vouchers this run creates carry this time: a later batch tells them
                # from those of an earlier run without remembering every one.
                "now": dt.datetime.now(dt.UTC).replace(tzinfo=None)}

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
            note=text_cell(row, "note", 1000), name=_name_key(last, first, middle),
            # The voucher's optional cells, mostly empty: read only when given.
            doctor=row["doctor"] and text_cell(row, "doctor", 300),
            nurse=row["nurse"] and text_cell(row, "nurse", 300),
            diagnosis=row["diagnosis"] and text_cell(row, "diagnosis", 10),
            referrer=row["referrer"] and text_cell(row, "referrer", 32),
            payer=row["payer"] and text_cell(row, "payer", 50))

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
        wanted = {r.service for r in records} - set(ctx["services"])
        for clause in _among(session, Service.code, wanted, String):
            for code, sid, active, branch, insurance in session.execute(
                    select(Service.code, Service.id, Service.active, Department.branch_id,
                           Service.insurance)
                    .outerjoin(Department, Department.id == Service.department_id)
                    .where(clause)):
                ctx["services"][code] = (sid, active, branch, insurance)
        ctx["by_name"], ctx["by_snils"] = find_patients(session, rights, records, "read")
        prefetch_refs(session, ctx, records)
        ctx["heads"] = {}  # the header of each voucher met in this batch
        ctx["kinds"] = {}  # OMS / DMS of the lines each voucher took in this batch

    def bind(self, ctx, r):
        branch_id = ctx["branches"].get(r.branch)
        if branch_id is None:
            raise RowProblem("branch", _("Нет филиала с кодом «%(code)s» среди ваших",
                                         code=r.branch))
        service = ctx["services"].get(r.service)
        if service is None or not service[1]:
            raise RowProblem("service", _("Нет действующей услуги с кодом «%(code)s»",
                                          code=r.service))
        return ((branch_id, r.number, r.service_date, patient_of(ctx, r)),
                [r, service, bind_head(ctx, r, branch_id), None])

    def existing(self, session, ctx, keys):
        """Return {voucher key: [voucher id, created by this run, stored lines, header]}
        of the batch's vouchers already stored — by an earlier run or an earlier batch."""
        numbers = {k[1] for k in keys}
        wanted = set(keys)
        found: dict = {}
        query = select(Voucher.id, Voucher.branch_id, Voucher.external_number,
                       Voucher.service_date, Voucher.patient_id, Voucher.created_on,
                       Voucher.doctor_id, Voucher.nurse_id, Voucher.diagnosis_id,
                       Voucher.referring_unit_id)
        # With the branches: ux_vch_voucher_external leads with the branch.
        branches = Voucher.branch_id.in_(sorted({k[0] for k in keys}))
        for clause in _among(session, Voucher.external_number, numbers, String):
            for vid, *key, created, d, n, g, u in session.execute(query.where(branches,
                                                                              clause)):
                if tuple(key) in wanted:
                    found[tuple(key)] = [vid, created == ctx["now"], [], Head(d, n, g, u)]
        if ctx["split"]:
            stored_kinds(session, found)
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
        try:
            return self._decide(ctx, key, record, stored)
        except (ValidationError, RowProblem):
            raise
        except UchetError as exc:  # a missing right: the row's error, in its column
            raise RowProblem(self.field_columns.get(exc.field or "", "number"),
                             str(exc)) from None

    def _decide(self, ctx, key, record, stored):
        r, (service_id, _active, department_branch, insurance), head, _payment = record
        rights = ctx["rights"]
        branch_id, _n, day, patient_id = key
        same_head(ctx, key, r, head, stored)
        if stored is not None and not stored[1]:
            return stored_line(r, service_id, stored)
        once(ctx, ("header", head.nurse_id is None, head.diagnosis_id is None),
             header_rules, rights, head)
        once(ctx, ("day", branch_id, day), voucher_day, ctx, branch_id, day)
        once(ctx, ("branch", department_branch, branch_id), check_service_branch,
             department_branch, branch_id, rights)
        payment = resolve_payment(ctx, r, patient_id, service_id, branch_id)
        kind = ctx["contract_kinds"].get(payment.contract_id) if ctx["split"] else None
        if kind is not None:  # «Разделение услуг по признаку ОМС/ДМС» (_check_insurance)
            check_insurance_mark(kind, insurance)
            check_insurance_mix(kind, other_kind(ctx, key, kind, stored))
        if payment.kind == "patient":
            once(ctx, ("without_attachment",), patient_pays, rights)
        if r.price is not None:
            once(ctx, ("price", r.price, payment.listed), check_typed_price, r.price,
                 payment.listed, "regular", rights)
        once(ctx, ("discount", r.discount), check_discount, r.discount, rights, True)
        price = payment.listed if r.price is None else r.price
        if payment.kind == "attachment" and apply_limits(ctx, r, service_id, payment, price):
            # Moved to the patient by a limit: at his list price, as the screen re-prices.
            payment = patient_payment(ctx, r, service_id, branch_id)
            price = payment.listed
        record[3] = payment if r.price is None else payment._replace(listed=price)
        if kind is not None and payment.kind != "patient":
            ctx["kinds"].setdefault(key, set()).add(kind)
        ctx["lines"] = ctx.get("lines", 0) + 1
        return "insert"

    def write(self, session, ctx, inserts, updates):
        """New vouchers (COPY with ids from the sequence), then their lines, then one
        UPDATE of the batch's vouchers' totals and line counts."""
        new: dict = {}
        for key, record, stored in inserts:
            if stored is None and key not in new:
                new[key] = (record[0], record[2])
        ids = allocate_ids(session, Voucher.__table__, len(new))
        table = Voucher.__table__
        user_id = ctx["rights"].user_id
        rows = [(ids[i] if ids else None, v[2], "regular", v[0], v[3], v[1], Decimal(0), 0,
                 user_id, ctx["now"], "manual", 1, r.note, *head)
                for i, (v, (r, head)) in enumerate(new.items())]
        voucher_ids = {}
        if ids:
            insert_rows(session, table, _VOUCHER, rows)
            voucher_ids = {v: ids[i] for i, v in enumerate(new)}
        elif rows:
            returned = session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [dict(zip(_VOUCHER[1:], row[1:], strict=True)) for row in rows]).scalars()
            voucher_ids = dict(zip(new, returned, strict=True))
        lines = []
        touched = set()
        for key, (r, (service_id, *_service), _head, pay), stored in inserts:
            vid = voucher_ids.get(key) or stored[0]
            touched.add(vid)
            price = pay.listed  # the file's price, else the list's (decide)
            lines.append((vid, service_id, r.quantity, price, r.discount,
                          line_amount(price, r.quantity, r.discount), pay.kind, "rendered",
                          r.service_date, key[0], pay.category_id, pay.price_type_id,
                          pay.attachment_id, pay.contract_id))
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
        ctx.setdefault("office_days", set()).update(
            (head.referring_unit_id, k[2]) for k, (_r, head) in new.items()
            if head.referring_unit_id is not None)

    def finish(self, session, ctx, report):
        """The statistics rollups of the days written, one journal row for the bulk
        writes, the count of new vouchers in the report."""
        report.extra["vouchers"] = ctx.get("vouchers", 0)
        if ctx.get("branch_days"):
            recompute(session, ctx.get("office_days", set()), ctx["branch_days"])
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
    doctor: str | None
    nurse: str | None
    diagnosis: str | None
    referrer: str | None
    payer: str | None
