"""«Импорт контрагентов» (organisations, insurers, individuals) and «Импорт условий
медпрограмм» (the services of medical programmes with their limits, under the right
«Импорт договоров»). Rows are checked by the rules of the screens: unique codes, the
INN's check digits, the programme-service limit rule; new counterparties belong to the
user's home unit, and only those the user may change are updated."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_

from models.parties import Individual, Insurer, Organisation
from models.pricelist import Service
from models.programmes import Programme, ProgrammeService
from models.user import AppUser
from security.scope import WRITE, scoped
from services.contracts.rules import check_programme_service
from services.imports.framework.reader import Column
from services.imports.framework.spec import (
    ModelImport,
    RowProblem,
    optional_date,
    optional_text,
    positive_int,
    required_text,
)
from services.imports.pricelist_specs import codes, known_service
from services.inn import valid_inn
from services.refbooks.rules import check_unique

KINDS = {
    "организация": Organisation, "юридическое лицо": Organisation, "юрлицо": Organisation,
    "страховая компания": Insurer, "страховая": Insurer, "ск": Insurer, "смо": Insurer,
    "физическое лицо": Individual, "физлицо": Individual, "физ. лицо": Individual,
}


class CounterpartyImport(ModelImport):
    """Organisations and insurers by code, individuals by full name and birth date."""

    code = "counterparties"
    title = _l("Импорт контрагентов")
    right = "import.counterparties"
    description = _l("Организации, страховые компании и физические лица: вид в столбце "
                     "«Вид». Организация и страховая ищутся по коду, физическое лицо — по "
                     "ФИО и дате рождения.")
    model = Organisation
    columns = (
        Column("kind", "Вид", ("Вид контрагента", "Тип"), required=True,
               hint="Организация, Страховая компания или Физическое лицо"),
        Column("code", "Код", hint="Для организаций и страховых"),
        Column("name", "Наименование", ("Название",), hint="Для организаций и страховых"),
        Column("inn", "ИНН"),
        Column("kpp", "КПП"),
        Column("phone", "Телефон"),
        Column("email", "Эл. почта", ("Электронная почта",)),
        Column("register_code", "Код в реестре СМО", hint="Для страховых"),
        Column("licence", "Лицензия", hint="Для страховых"),
        Column("last_name", "Фамилия", hint="Для физических лиц"),
        Column("first_name", "Имя", hint="Для физических лиц"),
        Column("middle_name", "Отчество"),
        Column("birth_date", "Дата рождения", hint="ДД.ММ.ГГГГ"),
        Column("document", "Документ", ("Документ, удостоверяющий личность",)),
    )
    key = ("code",)
    text_columns = ("code", "name", "kpp", "phone", "email", "register_code", "licence",
                    "last_name", "first_name", "middle_name", "document")
    field_columns = {"code": "code", "name": "name", "inn": "inn", "kpp": "kpp",
                     "last_name": "last_name", "first_name": "first_name"}

    def start(self, session, rights):
        user = session.get(AppUser, rights.user_id) if rights.user_id else None
        return {"rights": rights, "unit_id": user.home_unit_id if user else None}

    def model_of(self, attrs):
        return attrs.pop("__model__")

    def convert(self, session, ctx, row):
        kind = " ".join(str(row["kind"] or "").lower().split())
        model = KINDS.get(kind)
        if model is None:
            raise RowProblem("kind", _("Вид «%(v)s» не распознан: укажите «Организация», "
                                       "«Страховая компания» или «Физическое лицо»",
                                       v=row["kind"] or ""))
        if ctx["unit_id"] is None:
            raise RowProblem("kind", _("У вас не указано подразделение: новому контрагенту "
                                       "не назначить владельца"))
        inn = optional_text(row, "inn", 12)
        if inn is not None and not valid_inn(inn):
            raise RowProblem("inn", _("ИНН «%(v)s» неверен (контрольные цифры)", v=inn))
        phone = optional_text(row, "phone", 50)
        if model is Individual:
            last = required_text(row, "last_name", 100)
            first = required_text(row, "first_name", 100)
            middle = optional_text(row, "middle_name", 100)
            born = optional_date(row, "birth_date")
            attrs = {"last_name": last, "first_name": first, "middle_name": middle,
                     "birth_date": born, "inn": inn, "phone": phone,
                     "document": optional_text(row, "document", 100)}
            key = ("individual", last.lower(), first.lower(), (middle or "").lower(), born)
            ctx.setdefault("last_names", set()).add(last)
        else:
            code = required_text(row, "code", 32)
            attrs = {"code": code, "name": required_text(row, "name", 255), "inn": inn,
                     "kpp": optional_text(row, "kpp", 9), "phone": phone,
                     "email": optional_text(row, "email", 320)}
            if model is Insurer:
                attrs.update(register_code=optional_text(row, "register_code", 20),
                             licence=optional_text(row, "licence", 50))
            key = (model.__tablename__, code)
        return key, attrs

    def _apply(self, session, ctx, line, values, result, found):
        key, attrs = result
        model = {"individual": Individual, Insurer.__tablename__: Insurer}.get(
            key[0], Organisation)
        if key not in found:
            attrs = {**attrs, "unit_id": ctx["unit_id"], "__model__": model}
        return super()._apply(session, ctx, line, values, (key, attrs), found)

    def existing(self, session, ctx, keys):
        rights, found = ctx["rights"], {}
        for model in (Organisation, Insurer):
            wanted = [k[1] for k in keys if k[0] == model.__tablename__]
            if wanted:
                rows = session.scalars(scoped(select(model).where(model.code.in_(wanted)),
                                              rights, WRITE, model=model))
                found.update({(model.__tablename__, r.code): r for r in rows})
        people = [k for k in keys if k[0] == "individual"]
        if people:
            rows = session.scalars(scoped(select(Individual).where(
                Individual.last_name.in_(sorted(ctx.get("last_names", ())))), rights, WRITE,
                model=Individual))
            for r in rows:
                found[("individual", r.last_name.lower(), r.first_name.lower(),
                       (r.middle_name or "").lower(), r.birth_date)] = r
        return found

    def check(self, session, ctx, obj):
        if not isinstance(obj, Individual):
            check_unique(session, obj)


class ProgrammeTermsImport(ModelImport):
    """The services of medical programmes with their count limits per period."""

    code = "programme_terms"
    title = _l("Импорт условий медпрограмм")
    right = "import.contracts"
    description = _l("Услуги медицинских программ и лимиты их количества за страховой "
                     "период: программа по коду, услуга по коду.")
    model = ProgrammeService
    columns = (
        Column("programme", "Код программы", ("Программа", "Медицинская программа"),
               required=True),
        Column("service", "Код услуги", ("Услуга",), required=True),
        Column("max_count", "Максимум услуг за период", ("Лимит", "Количество"),
               hint="Целое число; пусто — без ограничения"),
    )
    key = ("programme", "service")
    field_columns = {"max_count": "max_count"}

    def start(self, session, rights):
        return {"rights": rights, "services": {}, "programmes": {}}

    def prefetch(self, session, ctx, rows):
        wanted = {str(r["service"] or "").strip() for r in rows} - set(ctx["services"])
        ctx["services"].update(codes(session, Service, wanted))
        wanted = {str(r["programme"] or "").strip() for r in rows} - set(ctx["programmes"])
        if wanted:
            found = session.scalars(scoped(select(Programme).where(
                Programme.code.in_(sorted(wanted))), ctx["rights"], WRITE, model=Programme))
            ctx["programmes"].update({p.code: p for p in found})

    def convert(self, session, ctx, row):
        code = required_text(row, "programme", 50)
        programme = ctx["programmes"].get(code)
        if programme is None:
            raise RowProblem("programme", _("Нет медицинской программы с кодом «%(code)s» "
                                            "среди доступных вам", code=code))
        service = known_service(ctx, row, "service")
        limit = None
        if str(row["max_count"] or "").strip():
            limit = positive_int(row, "max_count")
        return (programme.id, service.id), {"programme_id": programme.id,
                                            "service_id": service.id, "max_count": limit}

    def existing(self, session, ctx, keys):
        if not keys:
            return {}
        rows = session.scalars(select(ProgrammeService).where(tuple_(
            ProgrammeService.programme_id, ProgrammeService.service_id).in_(keys)))
        return {(r.programme_id, r.service_id): r for r in rows}

    def check(self, session, ctx, obj):
        check_programme_service(session, obj)
