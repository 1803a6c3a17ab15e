"""«Импорт договоров»: contracts with insurers, organisations and individuals, by number.

Checked by the contract form's rule (`services.contracts.rules.check_contract`: kind,
payer, amount, payment scheme, network right, periods of the parts already stored).
The signing branch is named by its code (the user's home unit when empty) and must be
in the user's write scope; only contracts he may change are updated. The services of
the contracts' medical programmes come in by «Импорт условий медпрограмм», under the
same right.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.errors import ValidationError
from models.contracts import Contract
from models.org import Unit
from models.parties import Individual, Insurer, Organisation
from models.patients import name_key
from models.refbooks import PriceCategory
from models.user import AppUser
from security.scope import READ, WRITE, scoped
from services.contracts.rules import check_contract
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    ModelImport,
    RowProblem,
    money,
    optional_date,
    optional_text,
    required_date,
    required_text,
)
from services.imports.pricelist_specs import codes

KINDS = {"омс": "oms", "дмс": "dms", "с организацией": "organisation",
         "организация": "organisation", "предоплатный": "prepaid", "депозитный": "deposit"}
SCHEMES = {"": "postpaid", "по факту оказания услуг": "postpaid", "по факту": "postpaid",
           "постоплата": "postpaid", "предоплата": "prepaid",
           "предоплата, с рассрочкой оплаты": "instalments", "рассрочка": "instalments"}


def _choice(row: dict, key: str, table: dict, hint: str) -> str:
    text = " ".join(str(row.get(key) or "").lower().split())
    if text not in table:
        raise RowProblem(key, _("«%(v)s» не распознано: укажите %(hint)s",
                                v=row.get(key) or "", hint=hint))
    return table[text]


class ContractImport(ModelImport):
    """Contracts by number; the payer by code (insurer, organisation) or full name and
    birth date (individual)."""

    code = "contracts"
    title = _l("Импорт договоров")
    right = "import.contracts"
    description = _l("Договоры по номеру: вид, плательщик (код страховой компании или "
                     "организации; для физического лица — ФИО и дата рождения), филиал по "
                     "коду, даты, сумма. Услуги медпрограмм — «Импорт условий медпрограмм».")
    model = Contract
    columns = (
        Column("number", "Номер договора", ("Договор", "Номер"), required=True),
        Column("signed_on", "Дата договора", required=True, hint="ДД.ММ.ГГГГ"),
        Column("kind", "Вид договора", ("Вид",), required=True,
               hint="ОМС, ДМС, С организацией, Предоплатный или Депозитный"),
        Column("scheme", "Способ оплаты",
               hint="По факту оказания услуг, Предоплата или Рассрочка; пусто — по факту"),
        Column("payer", "Плательщик", ("Код плательщика",), required=True,
               hint="Код страховой компании или организации; ФИО физического лица"),
        Column("payer_birth", "Дата рождения плательщика", hint="Для физического лица"),
        Column("branch", "Филиал", ("Код филиала",), hint="Код; пусто — ваше подразделение"),
        Column("valid_from", "Действует с", required=True, hint="ДД.ММ.ГГГГ"),
        Column("valid_to", "Действует по", hint="ДД.ММ.ГГГГ; пусто — бессрочно"),
        Column("category", "Категория цен", hint="Код"),
        Column("amount", "Сумма договора", ("Сумма",)),
        Column("note", "Примечание"),
    )
    key = ("number",)
    text_columns = ("number", "payer", "branch", "category", "note")
    field_columns = {"kind": "kind", "payment_scheme": "scheme", "insurer": "payer",
                     "organisation": "payer", "individual": "payer", "amount": "amount",
                     "valid_to": "valid_to", "valid_from": "valid_from", "branches": "branch",
                     "network": "branch", "number": "number"}

    def start(self, session, rights):
        user = session.get(AppUser, rights.user_id) if rights.user_id else None
        return {"rights": rights, "home": user.home_unit_id if user else None,
                "insurers": {}, "organisations": {}, "units": {}, "categories": {}}

    def prefetch(self, session, ctx, rows):
        rights = ctx["rights"]
        payers = {str(r["payer"] or "").strip() for r in rows}
        for key, model in (("insurers", Insurer), ("organisations", Organisation)):
            wanted = sorted(payers - set(ctx[key]))
            if wanted:
                ctx[key].update({p.code: p for p in session.scalars(scoped(
                    select(model).where(model.code.in_(wanted)), rights, READ, model=model))})
        wanted = sorted({str(r["branch"] or "").strip() for r in rows} - set(ctx["units"]) - {""})
        if wanted:
            ctx["units"].update({u.code: u for u in session.scalars(scoped(
                select(Unit).where(Unit.code.in_(wanted)), rights, WRITE))})
        wanted = {str(r["category"] or "").strip() for r in rows} - set(ctx["categories"])
        ctx["categories"].update(codes(session, PriceCategory, wanted - {""}))

    def convert(self, session, ctx, row):
        kind = _choice(row, "kind", KINDS, _("ОМС, ДМС, С организацией, Предоплатный или "
                                             "Депозитный"))
        attrs = {"number": required_text(row, "number", 50),
                 "signed_on": required_date(row, "signed_on"), "kind": kind,
                 "payment_scheme": _choice(row, "scheme", SCHEMES, _(
                     "«По факту оказания услуг», «Предоплата» или «Рассрочка»")),
                 "valid_from": required_date(row, "valid_from"),
                 "valid_to": optional_date(row, "valid_to"),
                 "amount": money(row, "amount", required=False),
                 "note": optional_text(row, "note", 500),
                 "insurer_id": None, "organisation_id": None, "individual_id": None}
        attrs.update(self._payer(session, ctx, row, kind))
        branch = optional_text(row, "branch", 32)
        if branch:
            unit = ctx["units"].get(branch)
            if unit is None:
                raise RowProblem("branch", _("Нет филиала с кодом «%(code)s» среди доступных "
                                             "вам для изменения", code=branch))
            attrs["branch_id"] = unit.id
        elif ctx["home"] is None:
            raise RowProblem("branch", _("Укажите филиал: у вас не указано подразделение"))
        else:
            attrs["branch_id"] = ctx["home"]
        category = optional_text(row, "category", 32)
        attrs["price_category_id"] = None
        if category:
            found = ctx["categories"].get(category)
            if found is None:
                raise RowProblem("category", _("Нет категории цен с кодом «%(code)s»",
                                               code=category))
            attrs["price_category_id"] = found.id
        return (attrs["number"],), attrs

    def _payer(self, session, ctx, row, kind: str) -> dict:
        """Return the payer's column of the contract. Raises RowProblem."""
        payer = required_text(row, "payer", 300)
        born = optional_date(row, "payer_birth")
        if born is not None or kind == "deposit":
            parts = payer.split()
            if len(parts) < 2 or born is None:
                raise RowProblem("payer", _("Для физического лица укажите ФИО и дату рождения"))
            # Compared in Python: SQLite's lower() leaves Cyrillic as it is.
            wanted = name_key(payer, None, None)
            found = [p for p in session.scalars(scoped(
                select(Individual).where(Individual.birth_date == born), ctx["rights"], READ,
                model=Individual))
                     if name_key(p.last_name, p.first_name, p.middle_name) == wanted]
            if len(found) != 1:
                raise RowProblem("payer", _("Физическое лицо «%(n)s» не найдено", n=payer))
            return {"individual_id": found[0].id}
        if kind in ("oms", "dms") and payer in ctx["insurers"]:
            return {"insurer_id": ctx["insurers"][payer].id}
        if payer in ctx["organisations"]:
            return {"organisation_id": ctx["organisations"][payer].id}
        if payer in ctx["insurers"]:
            return {"insurer_id": ctx["insurers"][payer].id}
        raise RowProblem("payer", _("Нет страховой компании или организации с кодом «%(code)s» "
                                    "среди доступных вам", code=payer))

    def existing(self, session, ctx, keys):
        if not keys:
            return {}
        rows = session.scalars(scoped(select(Contract).where(
            Contract.number.in_(sorted(k[0] for k in keys))), ctx["rights"], WRITE))
        return {(r.number,): r for r in rows}

    def check(self, session, ctx, obj):
        if obj.id is None and session.scalar(select(Contract.id).where(
                Contract.number == obj.number)):
            raise ValidationError(_("Договор № %(n)s уже есть в другом филиале, вам "
                                    "недоступном", n=obj.number), field="number")
        check_contract(session, obj, ctx["rights"])
