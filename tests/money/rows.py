"""Factories and look-ups of the money tests (demo data: the register of «Тверской»,
its open shift, patients with lines to pay)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models.money import Account, Receipt, Register, Shift, Transaction
from models.vouchers import Voucher, VoucherLine
from tests.contract_rows import flashes, n
from tests.support import make_role, make_user, unit

BRANCH = "MSK-TVR"
#: What a cashier holds (the preset) — the base every right is toggled on.
CASHIER = {"scope.data": "own_subtree", "patient.registry": "view",
           "voucher.other_vouchers": "view", "voucher.others_access": "yes",
           "payment.patient_accounts": "create", "payment.organisation_accounts": "view"}


def user_with(session, **rights):
    """Return the name of a new user of «Тверской» holding the cashier's base rights
    plus `rights` (codes with "." written as "__")."""
    values = {**CASHIER, **{code.replace("__", "."): value for code, value in rights.items()}}
    k = n()
    role = make_role(session, f"money-{k}", values)
    make_user(session, f"money{k}", roles=[role], home_unit=unit(session, BRANCH))
    return f"money{k}"


def register(session) -> Register:
    """Return the demo register of «Тверской»."""
    return session.scalar(select(Register).where(Register.serial == f"EMU-{BRANCH}"))


def open_shift(session) -> Shift:
    """Return the demo register's open shift."""
    return session.scalar(select(Shift).where(Shift.register_id == register(session).id,
                                              Shift.state == "open"))


def unpaid_line(session, skip: int = 0) -> VoucherLine:
    """Return a line of «Тверской» that its patient pays and nobody paid yet."""
    branch = unit(session, BRANCH)
    paid = select(Transaction.voucher_line_id).where(Transaction.voucher_line_id.is_not(None))
    return session.scalars(select(VoucherLine).join(Voucher).where(
        Voucher.branch_id == branch.id, VoucherLine.payer_kind == "patient",
        VoucherLine.state == "rendered", VoucherLine.amount > 0,
        VoucherLine.id.not_in(paid)).order_by(VoucherLine.id).offset(skip).limit(1)).first()


def pay_form(session, line: VoucherLine, key: str, **extra) -> tuple[str, dict]:
    """Return the URL and form that pay `line` at the cash desk under `key`."""
    reg = register(session)
    url = f"/money/cash/pay?register={reg.id}&patient={line.voucher.patient_id}"
    return url, {"key": key, "line": str(line.id), **extra}


def receipts(session, key: str) -> list[Receipt]:
    """Return the receipts of an operation key."""
    return session.scalars(select(Receipt).where(Receipt.idem_key == key)).all()


def posted(session, key: str) -> list[Transaction]:
    """Return the transactions posted under an operation key."""
    return session.scalars(select(Transaction).where(
        (Transaction.idem_key == key) | Transaction.idem_key.like(f"{key}:%"))).all()


def account_of(session, patient_id: int) -> Account | None:
    """Return the patient's account in «Тверской»."""
    return session.scalar(select(Account).where(Account.patient_id == patient_id,
                                                Account.branch_id == unit(session, BRANCH).id))


def device_documents(session) -> int:
    """Return how many documents the emulated register of «Тверской» has printed."""
    import json

    from models.money import EmulatorMemory

    row = session.get(EmulatorMemory, register(session).serial)
    session.refresh(row)
    return json.loads(row.memory)["doc_number"]


def total(session, model, column, *where) -> Decimal:
    """Return the sum of a column."""
    return Decimal(session.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)))


def refused(response) -> str:
    """Return the refusal a page shows (its danger flash), asserting it is one."""
    assert response.status_code in (400, 403, 404), response.status_code
    found = flashes(response, "danger")
    return " ".join(found) if found else response.get_data(as_text=True)
