"""A fiscal register emulator that behaves like a device: its own fiscal memory
(shift number, document and receipt numbers, running and section totals, the
documents of the last two shifts by key) kept in the `money_emulator` row of its
factory number, locked while an operation runs, and written in a transaction of its
own (the device's memory does not roll back with the application's work): every
worker sees one device, and so do the demo data and the tests' database copies.

Faults for tests and demonstrations (`inject`): "timeout" (no answer, nothing
printed), "timeout_after_print" (printed, then no answer), "paper_out"; a shift
older than 24 hours refuses receipts until its Z report (`age_shift`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from models.money import EmulatorMemory
from services.boundary import transaction
from services.money.fiscal import FiscalDoc, FiscalError, FiscalTimeout, ReceiptLine

TOTALS = ("sales", "refunds", "cash_in", "cash_out")
#: Receipts change these totals of the shift (and the cash in the drawer by sign).
EFFECT = {"sale": ("sales", 1), "refund": ("refunds", -1), "cash_in": ("cash_in", 1),
          "cash_out": ("cash_out", -1)}
MAX_SHIFT = dt.timedelta(hours=24)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _fresh() -> dict:
    return {"doc_number": 0, "cash": "0", "grand_sales": "0", "shift": None,
            "last_shift": 0, "docs": {}, "faults": []}


class EmulatorDriver:
    """The emulator of the register with factory number `serial` (see module doc)."""

    def __init__(self, serial: str, session) -> None:
        self.serial = serial
        self.session = session

    # ------------------------------------------------------------------ memory
    @contextlib.contextmanager
    def _memory(self, write: bool = True):
        """Yield the device's memory (a dict) under a row lock; store it when the
        block ends, also when it ends in a device error (raised once the memory is
        stored: a document printed before a timeout stays printed)."""
        session, late = self.session, None
        with transaction(session):
            row = session.scalar(select(EmulatorMemory).where(
                EmulatorMemory.serial == self.serial).with_for_update()
                .execution_options(populate_existing=True))
            if row is None:
                row = EmulatorMemory(serial=self.serial, memory=json.dumps(_fresh()))
                session.add(row)
            memory = json.loads(row.memory)
            try:
                yield memory
            except FiscalError as exc:
                # What happened on the device stays: a fault is spent, a document
                # printed before a timeout stays printed.
                late = exc
            if write:
                row.memory = json.dumps(memory, ensure_ascii=False)
        if late is not None:
            raise late

    def inject(self, fault: str) -> None:
        """Make the next printing operation fail with `fault` (see module doc)."""
        with self._memory() as memory:
            memory["faults"].append(fault)

    def age_shift(self, hours: int) -> None:
        """Move the open shift's start back by `hours` (the 24-hour rule in tests)."""
        with self._memory() as memory:
            if memory["shift"]:
                opened = dt.datetime.fromisoformat(memory["shift"]["opened_at"])
                memory["shift"]["opened_at"] = (opened - dt.timedelta(hours=hours)).isoformat()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _doc(data: dict) -> FiscalDoc:
        return FiscalDoc(key=data["key"], kind=data["kind"], number=data["number"],
                         shift=data["shift"], receipt=data.get("receipt"),
                         total=Decimal(data["total"]), totals=data.get("totals", {}))

    def _fault(self, memory: dict) -> str | None:
        fault = memory["faults"].pop(0) if memory["faults"] else None
        if fault == "timeout":
            raise FiscalTimeout(_("Кассовый аппарат не ответил вовремя. Проверьте связь с ним "
                                  "и повторите операцию: повтор не пробьёт чек дважды"))
        if fault == "paper_out":
            raise FiscalError(_("В кассовом аппарате закончилась бумага: замените рулон и "
                                "повторите операцию"))
        return fault

    def _open(self, memory: dict) -> dict:
        shift = memory["shift"]
        if not shift:
            raise FiscalError(_("Смена на кассовом аппарате не открыта"))
        if _now() - dt.datetime.fromisoformat(shift["opened_at"]) > MAX_SHIFT:
            raise FiscalError(_("Смена на кассовом аппарате длится больше 24 часов: снимите "
                                "Z-отчёт (закройте смену) и откройте новую"))
        return shift

    def _print(self, memory: dict, key: str, kind: str, total: Decimal, *,
               receipt: bool, totals: dict | None = None, apply=None) -> FiscalDoc:
        """Print a document: check the fault, apply its effect on the totals (`apply`),
        store it under its key and return it."""
        fault = self._fault(memory)
        if apply is not None:
            apply()
        memory["doc_number"] += 1
        shift = memory["shift"] or {}
        number = None
        if receipt:
            shift["receipts"] += 1
            number = shift["receipts"]
        data = {"key": key, "kind": kind, "number": memory["doc_number"],
                "shift": shift.get("number", memory["last_shift"]), "receipt": number,
                "total": str(total), "totals": totals or {}}
        memory["docs"][key] = data
        if fault == "timeout_after_print":
            # The caller sees a timeout; the document stays printed under the key.
            raise FiscalTimeout(_("Кассовый аппарат не ответил вовремя. Проверьте связь с "
                                  "ним и повторите операцию: повтор не пробьёт чек дважды"))
        return self._doc(data)

    def _apply(self, memory: dict, kind: str, total: Decimal, lines=(),
               cashless: bool = False) -> None:
        shift = memory["shift"]
        name, sign = EFFECT[kind]
        shift[name] = str(Decimal(shift[name]) + total)
        if not cashless:
            memory["cash"] = str(Decimal(memory["cash"]) + sign * total)
        if kind == "sale":
            memory["grand_sales"] = str(Decimal(memory["grand_sales"]) + total)
        for line in lines:
            section = shift["sections"].setdefault(str(line.section),
                                                   {"sales": "0", "refunds": "0"})
            section[name] = str(Decimal(section[name]) + line.amount)

    def _totals(self, memory: dict) -> dict:
        shift = memory["shift"] or {}
        return {**{name: shift.get(name, "0") for name in TOTALS},
                "receipts": shift.get("receipts", 0), "cash": memory["cash"],
                "grand_sales": memory["grand_sales"], "shift": shift.get("number"),
                "sections": shift.get("sections", {})}

    # ------------------------------------------------------------------ operations
    def status(self) -> dict:
        """Return the device's state: shift open and its number, documents, cash."""
        with self._memory(write=False) as memory:
            shift = memory["shift"]
            return {"serial": self.serial, "shift_open": bool(shift),
                    "shift": shift["number"] if shift else memory["last_shift"],
                    "opened_at": shift["opened_at"] if shift else None,
                    "documents": memory["doc_number"], "cash": Decimal(memory["cash"])}

    def find(self, key: str) -> FiscalDoc | None:
        """Return the document printed under `key`, or None if none was."""
        with self._memory(write=False) as memory:
            data = memory["docs"].get(key)
            return self._doc(data) if data else None

    def open_shift(self, key: str, cashier: str) -> FiscalDoc:
        """Open a new shift. Raises FiscalError when one is open already."""
        with self._memory() as memory:
            if key in memory["docs"]:
                return self._doc(memory["docs"][key])
            if memory["shift"]:
                raise FiscalError(_("Смена на кассовом аппарате уже открыта"))
            number = memory["last_shift"] + 1
            # Documents of shifts before the previous one are no longer asked about.
            memory["docs"] = {k: d for k, d in memory["docs"].items() if d["shift"] >= number - 1}

            def start():
                memory["shift"] = {"number": number, "opened_at": _now().isoformat(),
                                   "receipts": 0, "sections": {},
                                   **dict.fromkeys(TOTALS, "0")}
            return self._print(memory, key, "open_shift", Decimal("0"), receipt=False,
                               apply=start)

    def receipt(self, key: str, kind: str, lines: list[ReceiptLine], cashier: str,
                cashless: bool = False) -> FiscalDoc:
        """Print a sale or refund receipt with its lines and sections."""
        with self._memory() as memory:
            if key in memory["docs"]:
                return self._doc(memory["docs"][key])
            self._open(memory)
            total = sum((line.amount for line in lines), Decimal("0"))
            if kind == "refund" and not cashless and total > Decimal(memory["cash"]):
                raise FiscalError(_("В кассе недостаточно наличных для возврата"))
            return self._print(memory, key, kind, total, receipt=True,
                               apply=lambda: self._apply(memory, kind, total, lines, cashless))

    def _cash(self, key: str, kind: str, amount: Decimal) -> FiscalDoc:
        with self._memory() as memory:
            if key in memory["docs"]:
                return self._doc(memory["docs"][key])
            self._open(memory)
            if kind == "cash_out" and amount > Decimal(memory["cash"]):
                raise FiscalError(_("В кассе недостаточно наличных для выплаты"))
            return self._print(memory, key, kind, amount, receipt=False,
                               apply=lambda: self._apply(memory, kind, amount))

    def cash_in(self, key: str, amount: Decimal, cashier: str) -> FiscalDoc:
        """Register cash put into the drawer (внесение)."""
        return self._cash(key, "cash_in", amount)

    def cash_out(self, key: str, amount: Decimal, cashier: str) -> FiscalDoc:
        """Register cash taken from the drawer (выплата). Raises when there is not enough."""
        return self._cash(key, "cash_out", amount)

    def zero_receipt(self, key: str, cashier: str) -> FiscalDoc:
        """Print a receipt with no lines (a check of the device and the OFD link)."""
        with self._memory() as memory:
            if key in memory["docs"]:
                return self._doc(memory["docs"][key])
            self._open(memory)
            return self._print(memory, key, "zero", Decimal("0"), receipt=True)

    def x_report(self) -> dict:
        """Return the shift's totals without closing it (X report)."""
        with self._memory(write=False) as memory:
            if not memory["shift"]:
                raise FiscalError(_("Смена на кассовом аппарате не открыта"))
            return self._totals(memory)

    def section_report(self) -> dict:
        """Return the shift's totals by section (section number -> sales, refunds)."""
        return self.x_report()["sections"]

    def z_report(self, key: str, cashier: str) -> FiscalDoc:
        """Print the Z report with the shift's totals and close the shift (allowed
        for a shift past 24 hours: that is how it is closed)."""
        with self._memory() as memory:
            if key in memory["docs"]:
                return self._doc(memory["docs"][key])
            if not memory["shift"]:
                raise FiscalError(_("Смена на кассовом аппарате не открыта"))
            totals = self._totals(memory)

            def close():
                memory["last_shift"] = memory["shift"]["number"]
                memory["shift"] = None
            return self._print(memory, key, "z_report", Decimal(totals["sales"]),
                               receipt=False, totals=totals, apply=close)
