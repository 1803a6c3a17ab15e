"""«Разделить оплаты»: part of a line paid under an attachment or a contract is moved
to the patient, e.g. two of three sessions covered by the programme and the third
paid by the patient. The line keeps the rest; the part becomes a line of its own,
priced at the patient's price. Both go through the line rules in one transaction.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from models.vouchers import VoucherLine
from services.vouchers.lines import check_line

RIGHT = "voucher.split_payments"


def split_to_patient(session, line: VoucherLine, quantity: int | None, rights,
                     user_id: int | None) -> VoucherLine:
    """Move `quantity` units of the line to the patient (flushed, not committed).
    Returns the new line paid by the patient.

    Raises Forbidden without «Разрешить разбивать оплаты»; ValidationError for no
    quantity (None: not an integer), for a line that is
    not rendered or already the patient's, for a quantity that does not leave at
    least one unit on each side, or for the first line rule either part breaks.
    """
    if quantity is None:
        raise ValidationError(_("Укажите количество целым числом"), field="quantity")
    rights.require(RIGHT, refusal=_l("Оплату разделяет только пользователь с правом "
                                     "«%(right)s»"))
    if line.state != "rendered":
        raise ValidationError(_("Разделяется оплата только оказанной услуги, ещё не оплаченной "
                                "и не выставленной в счёт"))
    if line.voucher.kind == "deposit":
        raise ValidationError(_("В депозитном талоне все услуги оплачиваются из депозита: "
                                "оплата не разделяется"))
    if line.payer_kind == "patient":
        raise ValidationError(_("Услуга уже оплачивается пациентом: делить нечего"))
    if not isinstance(quantity, int) or not 0 < quantity < line.quantity:
        raise ValidationError(_("За счёт пациента переносится от 1 до %(n)s ед.: остальное "
                                "остаётся за плательщиком услуги", n=line.quantity - 1),
                              field="quantity")
    line.quantity -= quantity
    check_line(session, line, rights, user_id, confirmed=True)
    # The patient's part at his own list price: a discount agreed with the payer
    # of the line is not his.
    part = VoucherLine(voucher=line.voucher, service_id=line.service_id, quantity=quantity,
                       payer_kind="patient", state="rendered")
    session.add(part)
    with session.no_autoflush:  # the part is priced by the rule before it is written
        check_line(session, part, rights, user_id, confirmed=True, split=True)
    session.flush()
    return part
