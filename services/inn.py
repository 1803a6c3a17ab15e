"""ИНН (taxpayer number): 10 digits for an organisation, 12 for a person or an
individual entrepreneur, the last one or two being check digits (the Federal Tax
Service's algorithm). The client cabinet matches contracts by it, so a mistyped or
empty one must not be stored as if it were one."""

from __future__ import annotations

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def valid_inn(value: str) -> bool:
    """Return True when `value` is a ten- or twelve-digit ИНН whose check digits agree."""
    if not value.isascii() or not value.isdigit():
        return False
    if len(value) == 10:
        return value[9] == _digit(value, _W10)
    if len(value) == 12:
        return value[10] == _digit(value, _W11) and value[11] == _digit(value, _W12)
    return False
