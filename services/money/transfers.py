"""Movements without the register: a transfer between accounts, turning a balance
into an advance, and the corrections of a posted transaction — a note, or its
reversal (storno). A posted transaction is never changed nor deleted: «удаление»
of the seed is a reversal that posts the opposite movement and marks the original.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import NotFound, ValidationError
from models.money import ACCOUNT_RIGHTS, Account, Shift, Transaction
from security.scope import scoped
from services.boundary import command
from services.money.accounts import account_in_scope, check_day_open, now, post
from services.money.payments import DEPOSIT_RIGHT, settle_lines

TRANSFER_RIGHT = "payment.transfer"
FISCAL_DELETE_RIGHT = "payment.delete_fiscal_transactions"
CLOSED_DELETE_RIGHT = "payment.delete_closed_shift"
PHARMACY_DELETE_RIGHT = "payment.delete_pharmacy_transactions"


def _existing(session, key: str) -> Transaction | None:
    return session.scalar(select(Transaction).where(Transaction.idem_key == key))


@command
def transfer(session, rights, *, key: str, source_id: int, target_id: int,
             amount: Decimal) -> Transaction:
    """Move `amount` from one account to another («Перевод денег по лицевым счетам»).
    Returns the incoming transaction. Raises Forbidden, NotFound, ValidationError."""
    done = _existing(session, f"{key}:in")
    if done is not None:
        return done
    rights.require(TRANSFER_RIGHT)
    source = account_in_scope(session, rights, source_id, "edit")
    target = account_in_scope(session, rights, target_id, "edit")
    if source.id == target.id:
        raise ValidationError(_("Выберите другой лицевой счёт"), field="target")
    check_day_open(session, source.branch_id, rights)
    check_day_open(session, target.branch_id, rights)
    # Lock in id order: two opposite transfers never wait for each other.
    first, second = sorted((source, target), key=lambda a: a.id)
    for account in (first, second):
        session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    out = post(session, source, "transfer_out", amount, -amount, key=f"{key}:out",
               user_id=rights.user_id)
    return post(session, target, "transfer_in", amount, amount, key=f"{key}:in",
                user_id=rights.user_id, related_id=out.id)


@command
def to_advance(session, rights, *, key: str, account_id: int, amount: Decimal) -> Transaction:
    """Turn `amount` of the balance into an advance («Преобразовать остаток на ЛС в
    аванс», under «Внесение на лицевой счет»). Returns the transaction."""
    done = _existing(session, key)
    if done is not None:
        return done
    rights.require(DEPOSIT_RIGHT)
    account = account_in_scope(session, rights, account_id, "edit")
    check_day_open(session, account.branch_id, rights)
    tx = post(session, account, "advance", amount, -amount, key=key, user_id=rights.user_id)
    account.advance += amount
    return tx


def _transaction(session, rights, tx_id) -> Transaction:
    tx = session.scalar(scoped(select(Transaction).where(Transaction.id == tx_id), rights))
    if tx is None:
        raise NotFound(_("Транзакция не найдена"))
    return tx


def check_correction(session, rights, tx: Transaction) -> None:
    """Refuse a correction of `tx` the user's rights do not allow: «Редактирование
    транзакций» of the account's kind and its days (0 = unlimited), the closed
    period. Raises Forbidden or ValidationError."""
    code = ACCOUNT_RIGHTS[tx.account.kind]
    rights.require(code, "edit")
    rights.require(f"{code}.edit_transactions")
    days = int(rights.value(f"{code}.edit_days") or 0)
    if days and (now().date() - tx.posted_on).days > days:
        raise ValidationError(_("Транзакцию можно менять не позже %(n)s дн. после проведения",
                                n=days))
    check_day_open(session, tx.branch_id, rights, tx.posted_on, now().date())


@command
def set_note(session, rights, tx_id: int, note: str) -> Transaction:
    """Change a transaction's note, the one field that is not money. Returns it."""
    tx = _transaction(session, rights, tx_id)
    check_correction(session, rights, tx)
    tx.note = (note or "").strip()[:500] or None
    return tx


@command
def reverse(session, rights, tx_id: int, *, key: str) -> Transaction:
    """Reverse (storno) a posted transaction: the opposite movement, the original
    marked reversed; both legs of a transfer together. Returns the reversal.

    Raises Forbidden without «Редактирование транзакций», «Удаление транзакций,
    прошедших через кассовый аппарат» (a printed receipt), «… при закрытой смене»
    (its shift is closed), «… по розничной аптеке»; ValidationError when reversed
    already, past its days, in the closed period, or when the balance would go
    below zero."""
    done = _existing(session, key)
    if done is not None:
        return done
    tx = _transaction(session, rights, tx_id)
    if tx.reversed or tx.kind == "reversal":
        raise ValidationError(_("Транзакция уже сторнирована"))
    check_correction(session, rights, tx)
    if tx.receipt_id is not None:
        rights.require(FISCAL_DELETE_RIGHT)
        shift = session.get(Shift, tx.shift_id) if tx.shift_id else None
        if shift is not None and shift.state == "closed":
            rights.require(CLOSED_DELETE_RIGHT)
    if tx.source == "pharmacy":
        rights.require(PHARMACY_DELETE_RIGHT)
    legs = [tx]
    if tx.kind in ("transfer_in", "transfer_out"):
        other = session.scalar(select(Transaction).where(
            (Transaction.id == tx.related_id) | (Transaction.related_id == tx.id)))
        legs += [other] if other is not None else []
    result = None
    for n, leg in enumerate(sorted(legs, key=lambda t: -t.delta)):
        account = session.get(Account, leg.account_id)
        leg.reversed = True
        result = post(session, account, "reversal", leg.amount, -leg.delta,
                      key=key if n == 0 else f"{key}:{n}", user_id=rights.user_id,
                      related_id=leg.id, voucher_line_id=leg.voucher_line_id)
        if leg.kind == "advance":
            account.advance -= leg.amount
        if leg.invoice_id is not None:
            from services.money.invoices import unpay

            unpay(session, leg.invoice_id, leg.amount)
    lines = [leg.voucher_line_id for leg in legs if leg.voucher_line_id]
    if lines:
        settle_lines(session, lines)
    return result
