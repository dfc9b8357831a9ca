"""Numbers as a rep reads them on the lead list and the lead page: $310 M, 12,500 (ages: crm/admin_cells.py)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def money(value: Decimal | int | float | None, symbol: str = "$") -> str:
    """310000000.00 -> "$310 M"; 1250000 -> "$1.3 M"; 25000 -> "$25,000"; None -> ""."""
    if value is None:
        return ""
    amount = Decimal(value)
    for size, unit in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M")):
        if abs(amount) >= size:
            short = (amount / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            return f"{symbol}{short.normalize():f} {unit}"
    return f"{symbol}{amount:,.0f}"


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def plain_number(value) -> str:
    """A decimal as an input shows it: 310000000.00 -> 310000000, 12.50 -> 12.5."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return f"{number.normalize():f}"
