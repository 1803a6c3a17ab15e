"""«Импорт прейскуранта услуг» on the import framework: the file's columns and right
declared here, the checks and writes of `services.imports.prices` (periods of a price
are checked across the whole file, so this import runs as one batch)."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.imports import prices
from services.imports.framework.reader import ImportRefused
from services.imports.framework.spec import MAX_ERRORS, PREVIEW_ROWS, ImportSpec, Outcome
from services.imports.price_file import FILE_COLUMNS, RawRow, _code


def rubles(amount) -> str:
    """Return an amount as the price list's screens show it: «1 550,00». The report is
    made in the job, which may run on a worker without the user's request, and the
    file's data are Russian (its dates are ДД.ММ.ГГГГ too)."""
    return format_decimal(amount, format="#,##0.00", locale="ru")


class PriceImport(ImportSpec):
    """The service price list: one price per service, category and start date."""

    code = "service_prices"
    title = _l("Импорт прейскуранта услуг")
    right = prices.RIGHT
    columns = FILE_COLUMNS
    key = ("service", "category", "valid_from")
    # Both price imports: without closing, a new price of a category whose price is
    # open (the usual case) is refused as overlapping it.
    closes_open_prices = True
    nothing = _l("В файле нет строк с ценами")
    already = _l("Все цены файла уже есть в прейскуранте: загружать нечего.")
    description = _l("Цены услуг по категориям цен с датами действия; несколько категорий "
                     "в одном файле. Новая цена закрывает прежнюю открытую цену.")

    def allowed(self, rights) -> bool:
        """Any value but «нет доступа» of the scope right allows it (the scope limits
        the categories)."""
        return rights.allows(self.right, "own")

    def execute(self, session, ctx, rows, report, *, dry_run: bool) -> None:
        """Check the whole file (prices.validate) and write the new prices and closures."""
        raw = [RawRow(line, _code(s), _code(c), start, end, amount, _code(cur), _code(tax))
               for line, (s, c, start, end, amount, cur, tax) in rows]
        prices._lock(session)
        plan = prices.validate(session, raw, ctx["rights"], filename=report.filename,
                               close_open=bool(ctx.get("close_open")), right=self.right)
        action = {"new": "insert", "unchanged": "same", "error": "error"}
        report.preview = [Outcome(p.row.line, action[p.status], (
            p.row.service, p.row.category, p.row.valid_from, p.row.valid_to, p.row.amount,
            p.row.currency, p.row.tax), list(p.errors)) for p in plan.preview]
        report.total = plan.total
        report.inserted = len(plan.new)
        report.unchanged = plan.unchanged
        report.error_rows = plan.error_rows
        report.errors = plan.errors[:MAX_ERRORS]
        # The preview names the prices it would end and their new end (the first rows).
        report.extra = {"closed": len(plan.closed), "categories": plan.categories,
                        "closures": [[c.service, c.category, f"{c.valid_from:%d.%m.%Y}",
                                      f"{c.valid_to:%d.%m.%Y}", rubles(c.amount)]
                                     for c in plan.closed[:PREVIEW_ROWS]]}
        if plan.ok and plan.new and not dry_run:
            try:
                prices._close(session, plan.closed)
            except prices._Changed:
                raise ImportRefused(_("Цены изменились во время загрузки: проверьте файл "
                                      "ещё раз")) from None
            prices._insert(session, plan.new)
            prices._journal(session, prices.Summary(
                report.filename, len(plan.new), plan.unchanged, tuple(plan.categories),
                len(plan.closed)))

    def summary(self, report) -> str:
        """Return the Russian line that tells what a committed run did."""
        return _("Новых цен %(new)s, без изменений %(same)s, закрыто прежних цен %(closed)s",
                 new=report.inserted, same=report.unchanged,
                 closed=report.extra.get("closed", 0))


class PriceListImport(PriceImport):
    """«Импорт прейскурантов»: price lists of any categories, several in one file."""

    code = "price_lists"
    title = _l("Импорт прейскурантов")
    right = "import.price_lists"
    description = _l("Прейскуранты любых категорий цен, несколько категорий в одном файле: "
                     "строка на каждую цену услуги в категории.")

    def allowed(self, rights) -> bool:
        """The flag «Импорт прейскурантов» allows it, for every category."""
        return rights.allows(self.right)
