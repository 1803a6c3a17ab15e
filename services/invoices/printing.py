"""The printed invoice (PDF, Russian: provider and payer requisites, lines, VAT per
the taxes reference book, the sum in words) and the register of services for
insurers (XLSX)."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.sheets import plain_cell
from models.invoices import INVOICE_STATES, Invoice, InvoiceLine
from models.pricelist import Price
from models.refbooks import Tax
from models.vouchers import Voucher, VoucherLine
from services.cabinet.forms import FONTS
from services.contracts.rules import money

CENT = Decimal("0.01")


def sum_in_words(amount: Decimal) -> str:
    """Return the amount in Russian words: «Одна тысяча двести рублей 50 копеек»."""
    from num2words import num2words

    amount = Decimal(amount).quantize(CENT)
    sign = _("минус") + " " if amount < 0 else ""
    amount = abs(amount)
    rubles = int(amount)
    kopecks = int((amount - rubles) * 100)
    words = num2words(Decimal(rubles), lang="ru", to="currency", currency="RUB")
    words = words.split(",")[0]  # «… рублей»; the kopecks go as digits, as on invoices
    text = f"{sign}{words} {kopecks:02d} " + _kopecks(kopecks)
    return text[0].upper() + text[1:]


def _kopecks(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return _("копейка")
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return _("копейки")
    return _("копеек")


def vat_of(amount: Decimal, rate: Decimal | None) -> Decimal:
    """Return the VAT included in `amount` at `rate` percent (0 without a tax)."""
    if not rate:
        return Decimal("0.00")
    return (Decimal(amount) * Decimal(rate) / (100 + Decimal(rate))).quantize(
        CENT, rounding=ROUND_HALF_UP)


def print_lines(session, invoice: Invoice) -> list[InvoiceLine]:
    """Return the lines with service (and its tax), voucher and patient loaded."""
    return session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.voucher_line).selectinload(VoucherLine.service),
                 selectinload(InvoiceLine.voucher_line).selectinload(VoucherLine.voucher)
                 .selectinload(Voucher.patient))
        .order_by(InvoiceLine.service_date, InvoiceLine.id)).all()


def tax_rates(session, invoice: Invoice) -> dict[int, Decimal | None]:
    """Return {invoice line id: VAT rate} from the taxes reference book: the tax of the
    price the voucher line was priced at (its service and price category, valid on
    its date); None where that price has no tax."""
    vline = VoucherLine.__table__.c
    rows = session.execute(
        select(InvoiceLine.id, Tax.rate)
        .join(VoucherLine, VoucherLine.id == InvoiceLine.voucher_line_id)
        .join(Price, (Price.service_id == vline.service_id)
              & (Price.category_id == vline.category_id)
              & (Price.valid_from <= vline.service_date)
              & ((Price.valid_to.is_(None)) | (Price.valid_to >= vline.service_date)))
        .join(Tax, Tax.id == Price.tax_id)
        .where(InvoiceLine.invoice_id == invoice.id)).all()
    return dict(rows)


def _payer_lines(invoice: Invoice) -> list[str]:
    payer = invoice.payer
    if payer is None:
        return [_("Плательщик: —")]
    if invoice.kind == "patient":
        return [_("Плательщик: %(p)s", p=f"{payer}"),
                _("Адрес: %(a)s", a=getattr(payer, "address", None) or "—")]
    name = getattr(payer, "full_name", None) or getattr(payer, "name", str(payer))
    out = [_("Плательщик: %(p)s", p=name)]
    if getattr(payer, "inn", None):
        out.append(_("ИНН %(i)s, КПП %(k)s", i=payer.inn, k=getattr(payer, "kpp", None) or "—"))
    address = getattr(payer, "address", None)
    out.append(_("Адрес: %(a)s", a=address or "—"))
    return out


def invoice_pdf(session, invoice: Invoice) -> bytes:
    """Return the invoice as a PDF (A4, DejaVu for Cyrillic)."""
    from fpdf import FPDF

    lines = print_lines(session, invoice)
    rates = tax_rates(session, invoice)
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    title = (_("Счёт № %(n)s от %(d)s", n=invoice.number,
               d=invoice.invoice_date.strftime("%d.%m.%Y")) if invoice.number_seq
             else _("Проект счёта от %(d)s", d=invoice.invoice_date.strftime("%d.%m.%Y")))
    if invoice.storno_of_id:
        title += " " + _("(сторно счёта %(n)s)", n=invoice.storno_of.number)
    pdf.set_title(title)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    branch = invoice.branch
    head = [_("Исполнитель: %(b)s", b=branch.name),
            _("ИНН %(i)s", i=branch.inn or "—"),
            _("Адрес: %(a)s, тел. %(t)s", a=branch.address or "—", t=branch.phone or "—"),
            *_payer_lines(invoice)]
    if invoice.contract is not None:
        head.append(_("Договор: %(c)s", c=f"{invoice.contract} "
                      f"{_('от')} {invoice.contract.signed_on:%d.%m.%Y}"))
    if invoice.period_from:
        head.append(_("Период: с %(f)s по %(t)s", f=f"{invoice.period_from:%d.%m.%Y}",
                      t=f"{invoice.period_to:%d.%m.%Y}"))
    head.append(_("Состояние: %(s)s", s=INVOICE_STATES.get(invoice.state, invoice.state)))
    for text in head:
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (10, 22, 70, 14, 24, 26, 24)
    header = ("№", _("Дата"), _("Услуга"), _("Кол."), _("Цена"), _("Сумма"), _("НДС"))
    pdf.set_font("DejaVu", "B", 8)
    for w, text in zip(widths, header, strict=True):
        pdf.cell(w, 6, text, border=1)
    pdf.ln()
    pdf.set_font("DejaVu", "", 8)
    vat_total = Decimal("0.00")
    for i, line in enumerate(lines, 1):
        service = line.voucher_line.service
        rate = rates.get(line.id)
        vat = vat_of(line.amount, rate)
        vat_total += vat
        cells = (str(i), f"{line.service_date:%d.%m.%Y}", str(service)[:48], str(line.quantity),
                 money(line.price), money(line.amount),
                 f"{money(vat)} ({rate:g}%)" if rate else _("без НДС"))
        for w, text in zip(widths, cells, strict=True):
            pdf.cell(w, 6, text, border=1)
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 6, _("Итого: %(s)s руб.", s=money(invoice.total)),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, _("В том числе НДС: %(s)s руб.", s=money(vat_total)) if vat_total
                   else _("НДС не облагается"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, _("Всего наименований %(n)s на сумму %(s)s руб.", n=len(lines),
                           s=money(invoice.total)), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, sum_in_words(invoice.total), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())




def register_xlsx(session, invoice: Invoice) -> bytes:
    """Return the register of services of an invoice (for insurers) as XLSX: one row a
    line with the patient, his policy, date, service code and name, quantity, price
    and amount, then the total; texts a spreadsheet would read as a formula stay text."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(_("Реестр услуг")))
    sheet.append([str(invoice.payer or ""), "", _("Счёт %(n)s", n=repr(invoice))])
    sheet.append([_("Пациент"), _("Дата рождения"), _("Полис"), _("Дата услуги"),
                  _("Код услуги"), _("Услуга"), _("Количество"), _("Цена"), _("Сумма")])
    for line in print_lines(session, invoice):
        vline = line.voucher_line
        patient = vline.voucher.patient
        policy = vline.attachment.policy_number if vline.attachment is not None else None
        row = [str(patient), patient.birth_date, policy or patient.oms_policy or "",
               line.service_date, vline.service.code, vline.service.name, line.quantity,
               line.price, line.amount]
        sheet.append([plain_cell(sheet, value) for value in row])
    sheet.append(["", "", "", "", "", _("Итого"), "", "", invoice.total])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
