"""Numbers as the plots and readouts show them: 3 significant digits, a true minus sign.

Text for display only: "−1.23e−5" does not read back with float(). The fields the user types into
write and read their own text (`widgets.numbers.fmt`).
"""
from __future__ import annotations

import math


def fmt(v: float, digits: int = 3) -> str:
    """A number to `digits` significant digits with a true minus sign; nan/inf spelled out."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    s = f"{v:.{digits}g}"
    if "e" in s:  # 1.23e-05 -> 1.23e−5
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s.replace("-", "−")
