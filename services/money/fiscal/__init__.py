"""The fiscal register (ФР) seen by the cash desk: one driver interface shaped on
what ATOL and Shtrikh-M drivers expose, chosen by `UCHET_FISCAL_DRIVER`.

Every printing operation carries an idempotency key. A driver that is asked again
with a key it has already printed returns that document instead of printing a
second one (a real device's driver compares the key with its last documents; the
emulator keeps them in its fiscal memory), so a retry after a timeout never
charges twice, and recovery after a crash recognises the operation by its key.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from flask_babel import gettext as _

from core.errors import UchetError


class FiscalError(UchetError):
    """The register refused or failed; nothing counts as printed (see `printed`)."""

    #: True when the device may have printed (a timeout after the command left):
    #: the operation stays pending and is settled by its key.
    printed_unknown: bool = False


class FiscalTimeout(FiscalError):
    """No answer from the register in time: the document may or may not be printed."""

    printed_unknown = True


@dataclass(frozen=True)
class ReceiptLine:
    """A receipt line: name, quantity, price, amount (after discount), section, VAT."""

    name: str
    quantity: int
    price: Decimal
    amount: Decimal
    section: int
    vat: int = -1  # percent; -1 = «без НДС»


@dataclass(frozen=True)
class FiscalDoc:
    """A document the register printed: its fiscal number (ФД), the shift, the
    receipt's number within the shift, and for reports the totals it printed."""

    key: str
    kind: str
    number: int
    shift: int
    receipt: int | None = None
    total: Decimal = Decimal("0")
    totals: dict = field(default_factory=dict)


class Driver(Protocol):
    """What the cash desk asks of a fiscal register."""

    def status(self) -> dict: ...
    def open_shift(self, key: str, cashier: str) -> FiscalDoc: ...
    def receipt(self, key: str, kind: str, lines: list[ReceiptLine], cashier: str,
                cashless: bool = False) -> FiscalDoc: ...
    def cash_in(self, key: str, amount: Decimal, cashier: str) -> FiscalDoc: ...
    def cash_out(self, key: str, amount: Decimal, cashier: str) -> FiscalDoc: ...
    def x_report(self) -> dict: ...
    def z_report(self, key: str, cashier: str) -> FiscalDoc: ...
    def section_report(self) -> dict: ...
    def zero_receipt(self, key: str, cashier: str) -> FiscalDoc: ...
    def find(self, key: str) -> FiscalDoc | None: ...


def driver_for(serial: str, session) -> Driver:
    """Return the configured driver for the register with factory number `serial`
    (the emulator keeps its memory through `session`).

    Raises FiscalError when the configured driver cannot be loaded."""
    from flask import current_app

    name = current_app.config.get("UCHET_FISCAL_DRIVER", "emulator")
    if name == "emulator":
        from services.money.fiscal.emulator import EmulatorDriver

        return EmulatorDriver(serial, session)
    module, _sep, cls = name.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)(serial)
    except (ImportError, AttributeError) as exc:
        raise FiscalError(_("Драйвер кассового аппарата «%(d)s» не загружен: %(e)s",
                            d=name, e=exc)) from None
