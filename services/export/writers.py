"""The files of an export to accounting, written as the rows stream by (memory flat in
the number of rows): 1C EnterpriseData XML, which 1C:Бухгалтерия 3.0 loads through
«Универсальный обмен данными в формате XML», and an XLSX sheet for people.

XML: `Message` with the message header (format, creation date, versions) and `Body`
in the EnterpriseData namespace. A cash shift becomes «Документ.ОтчетОРозничныхПродажах»
(its payments and refunds as lines), an invoice «Документ.РеализацияТоваровУслуг»; each
document carries its counterparty's and nomenclature's key properties inline, and the
catalogue objects (Справочник.Контрагенты with ИНН/КПП, Справочник.Номенклатура with
the export code) follow the documents, once each; a counterparty is a legal entity
(«ЮридическоеЛицо», with ИНН/КПП) or, for an invoice to an individual under a
contract, «ФизическоеЛицо» (ИНН when known, no КПП). References (`Ссылка`) are UUIDs
derived from the row ids, so a re-export updates the documents 1C loaded before instead
of doubling them. Text is escaped as it is written (no tree is ever built).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain, groupby
from xml.sax.saxutils import escape

from flask_babel import gettext as _

from core.sheets import plain_cell as xlsx_cell
from services.export.rows import CashRow, InvoiceRow

FORMAT_VERSION = "1.11"
NAMESPACE = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{FORMAT_VERSION}"
MESSAGE_NS = "http://www.1c.ru/SSL/Exchange/Message"
_REFS = uuid.UUID("6f1c1c55-2b8e-4c6a-9d0e-7a7d3f1e0a42")


def ref(kind: str, key) -> str:
    """Return the stable reference (UUID) of an exported object: the same row gives the
    same reference in every export."""
    return str(uuid.uuid5(_REFS, f"{kind}:{key}"))


# Characters XML 1.0 cannot carry at all (a control character pasted into a name).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def party_ref(person: bool, code: str, name: str, inn: str) -> str:
    """Return the reference of a counterparty: a legal entity by its ИНН (or code, or
    name), so the same company under two contracts is one; an individual by his
    record (people share names, and most have no ИНН on file)."""
    return ref("individual", code) if person else ref("party", inn or code or name)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _text(tag: str, value) -> str:
    if isinstance(value, Decimal):
        value = f"{value:.2f}"
    elif isinstance(value, dt.date):
        value = value.isoformat() + ("T00:00:00" if not isinstance(value, dt.datetime) else "")
    return f"<{tag}>{escape(_clean(str(value)))}</{tag}>"


class XmlOut:
    """Writes an EnterpriseData message to a binary file, piece by piece."""

    def __init__(self, out, organisation: dict) -> None:
        self.out = out
        self.organisation = organisation
        self._items: dict[tuple, str] = {}
        self._texts: dict[str, str] = {}
        self._company: str | None = None

    def write(self, *parts: str) -> None:
        self.out.write("".join(parts).encode("utf-8"))

    def start(self, created: dt.datetime) -> None:
        self.write('<?xml version="1.0" encoding="UTF-8"?>\n',
                   f'<Message xmlns:msg="{MESSAGE_NS}" '
                   'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                   'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n',
                   "<msg:Header>", _text("msg:Format", NAMESPACE),
                   _text("msg:CreationDate", created.replace(microsecond=0).isoformat()),
                   _text("msg:AvailableVersion", FORMAT_VERSION), "</msg:Header>\n",
                   f'<Body xmlns="{NAMESPACE}">\n')

    def end(self) -> None:
        self.write("</Body>\n</Message>\n")

    def our_company(self) -> str:
        if self._company is None:
            org = self.organisation
            self._company = ("<Организация>" + _text("Ссылка", ref("unit", org["id"]))
                             + _text("Наименование", org["name"]) + _text("ИНН", org["inn"])
                             + "</Организация>")
        return self._company

    def counterparty(self, person: bool, code: str, name: str, inn: str, kpp: str) -> str:
        return ("<Контрагент>" + _text("Ссылка", party_ref(person, code, name, inn))
                + _text("Наименование", name) + _text("ИНН", inn)
                + ("" if person else _text("КПП", kpp)) + "</Контрагент>")

    def nomenclature(self, code: str, name: str, export_code: str) -> str:
        # Cached: a period has as many services as the price list, lines by the million.
        key = (code, name, export_code)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = (
                "<Номенклатура>" + _text("Ссылка", ref("service", code))
                + _text("Наименование", name) + _text("КодВПрограмме", export_code or code)
                + "</Номенклатура>")
        return found

    def escaped(self, value: str) -> str:
        """Return `value` escaped, from a cache (sections, accounts: a handful of texts)."""
        found = self._texts.get(value)
        if found is None:
            found = self._texts[value] = escape(_clean(value))
        return found


def _documents(rows: Iterable, key: str) -> Iterator[tuple[object, Iterator]]:
    """Yield (first row, that row and the rest of its document's rows) per document,
    streaming: nothing of a document is held, however many lines it has."""
    rows = iter(rows)
    for _key, group in groupby(rows, key=lambda row: getattr(row, key)):
        head = next(group)
        yield head, chain((head,), group)  # noqa: B031 (the group is read once, here)


def write_cash_xml(xml: XmlOut, rows: Iterable[CashRow], created: dt.datetime,
                   totals: dict[int, Decimal]) -> None:
    """Write the cash revenue as one «ОтчетОРозничныхПродажах» per shift; `totals`
    gives each shift's sum (known before its lines stream by)."""
    items: dict[str, tuple[str, str]] = {}
    xml.start(created)
    for head, lines in _documents(rows, "shift_id"):
        xml.write("<Документ.ОтчетОРозничныхПродажах><КлючевыеСвойства>",
                  _text("Ссылка", ref("shift", head.shift_id)), _text("Дата", head.day),
                  _text("Номер", head.shift_number), xml.our_company(),
                  "</КлючевыеСвойства>", _text("Валюта", "RUB"),
                  _text("Сумма", totals.get(head.shift_id, Decimal(0))), "<Товары>")
        for line in lines:  # each line one f-string: the hot loop of a big export
            items[line.service_code] = (line.service_name, line.export_code)
            item = xml.nomenclature(line.service_code, line.service_name, line.export_code)
            xml.write(
                f"<Строка>{item}<Количество>{-1 if line.amount < 0 else 1}</Количество>"
                f"<Сумма>{line.amount:.2f}</Сумма><СтавкаНДС>БезНДС</СтавкаНДС>"
                f"<СчетДоходов>{xml.escaped(line.account)}</СчетДоходов>"
                f"<Секция>{xml.escaped(line.section)}</Секция>"
                f"<НомерЧека>{line.receipt or ''}</НомерЧека></Строка>")
        xml.write("</Товары></Документ.ОтчетОРозничныхПродажах>\n")
    _catalogue(xml, items, {})
    xml.end()


def write_invoices_xml(xml: XmlOut, rows: Iterable[InvoiceRow], created: dt.datetime,
                       totals: dict[int, Decimal]) -> None:
    """Write the invoices as one «РеализацияТоваровУслуг» each; `totals` gives each
    invoice's sum of lines."""
    items: dict[str, tuple[str, str]] = {}
    parties: dict[tuple, None] = {}
    xml.start(created)
    for head, lines in _documents(rows, "invoice_id"):
        party = (head.person, head.party_code, head.party_name, head.inn, head.kpp)
        parties[party] = None
        xml.write("<Документ.РеализацияТоваровУслуг><КлючевыеСвойства>",
                  _text("Ссылка", ref("invoice", head.invoice_id)), _text("Дата", head.day),
                  _text("Номер", head.number), xml.our_company(), "</КлючевыеСвойства>",
                  _text("ВидОперации", "РеализацияКлиенту"), _text("Валюта", "RUB"),
                  _text("Сумма", totals.get(head.invoice_id, Decimal(0))),
                  xml.counterparty(*party), "<Услуги>")
        for line in lines:
            items[line.service_code] = (line.service_name, line.export_code)
            item = xml.nomenclature(line.service_code, line.service_name, line.export_code)
            xml.write(
                f"<Строка>{item}"
                + _text("Содержание", f"{line.service_name} ({line.service_date:%d.%m.%Y})")
                + f"<Количество>{line.quantity}</Количество><Цена>{line.price:.2f}</Цена>"
                f"<Сумма>{line.amount:.2f}</Сумма><СтавкаНДС>БезНДС</СтавкаНДС>"
                f"<СчетДоходов>{xml.escaped(line.account)}</СчетДоходов></Строка>")
        xml.write("</Услуги></Документ.РеализацияТоваровУслуг>\n")
    _catalogue(xml, items, parties)
    xml.end()


def _catalogue(xml: XmlOut, items: dict, parties: dict) -> None:
    """The catalogue objects the documents named (services and counterparties: as many
    as the price list and the contracts hold, not as the period's lines)."""
    for code, (name, export_code) in items.items():
        xml.write("<Справочник.Номенклатура><КлючевыеСвойства>",
                  _text("Ссылка", ref("service", code)), _text("Наименование", name),
                  _text("КодВПрограмме", export_code or code), "</КлючевыеСвойства>",
                  _text("Код", code), _text("КодЭкспорта", export_code),
                  _text("ВидНоменклатуры", "Услуга"), "</Справочник.Номенклатура>\n")
    for person, code, name, inn, kpp in parties:
        xml.write("<Справочник.Контрагенты><КлючевыеСвойства>",
                  _text("Ссылка", party_ref(person, code, name, inn)),
                  _text("Наименование", name), _text("ИНН", inn),
                  "" if person else _text("КПП", kpp), "</КлючевыеСвойства>",
                  _text("ЮридическоеФизическоеЛицо",
                        "ФизическоеЛицо" if person else "ЮридическоеЛицо"),
                  "</Справочник.Контрагенты>\n")


def cash_header() -> list[str]:
    """Return the XLSX header of cash revenue."""
    return [_("Смена"), _("Дата"), _("Операция"), _("Чек"), _("Секция"), _("Код услуги"),
            _("Услуга"), _("Код экспорта"), _("Счёт учёта"), _("Сумма")]


def invoice_header() -> list[str]:
    """Return the XLSX header of invoices to counterparties."""
    return [_("Счёт"), _("Дата счёта"), _("Контрагент"), _("Вид контрагента"), _("ИНН"),
            _("КПП"), _("Дата услуги"), _("Код услуги"), _("Услуга"), _("Код экспорта"),
            _("Счёт учёта"), _("Количество"), _("Цена"), _("Сумма")]


def write_xlsx(out, title: str, caption: list[str], header: list[str],
               values: Iterable[list]) -> None:
    """Write one sheet in openpyxl's write-only mode (rows go to disk as they come):
    the caption row, the header, then `values`; a text a spreadsheet would read as a
    formula (=, +, -, @) stays text."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(caption)
    sheet.append(header)
    for row in values:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    book.save(out)


def cash_values(rows: Iterable[CashRow]) -> Iterator[list]:
    """Yield the XLSX cells of each cash row."""
    labels = {"payment": _("Оплата"), "refund": _("Возврат")}
    for r in rows:
        yield [r.shift_number, r.day, labels.get(r.kind, r.kind), r.receipt, r.section,
               r.service_code, r.service_name, r.export_code, r.account, r.amount]


def invoice_values(rows: Iterable[InvoiceRow]) -> Iterator[list]:
    """Yield the XLSX cells of each invoice line."""
    kinds = {False: _("Юридическое лицо"), True: _("Физическое лицо")}
    for r in rows:
        yield [r.number, r.day, r.party_name, kinds[r.person], r.inn, r.kpp, r.service_date,
               r.service_code, r.service_name, r.export_code, r.account, r.quantity, r.price,
               r.amount]
