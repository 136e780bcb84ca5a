"""French number, money, percentage, date and distance formats, without the locale module.

One separator everywhere: the narrow no-break space U+202F (``NNBSP``), both as thousands
separator and before the unit ("12 345 €", "12,3 %", "250 m"), as French typography and the
CLDR "fr" locale recommend. Missing values (None, NaN, NaT, pd.NA) print as an em dash.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from numbers import Real

import pandas as pd

NNBSP = "\u202f"
MISSING = "—"


def _missing(x: object) -> bool:
    """True for None, NaN, NaT and pd.NA (and anything pandas calls missing)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _number(x: float, decimals: int) -> str:
    """'-12 345,67' from -12345.666 with 2 decimals."""
    text = f"{abs(x):,.{decimals}f}"
    text = text.replace(",", NNBSP).replace(".", ",")
    negative = x < 0 and any(c not in "0,\u202f" for c in text)
    return ("-" if negative else "") + text


def fmt_number(x: object, decimals: int = 0) -> str:
    """A plain French number: 12345.6 -> '12 346'; with decimals=1 -> '12 345,6'."""
    if _missing(x) or not isinstance(x, Real) or not math.isfinite(float(x)):
        return MISSING
    return _number(float(x), decimals)


def fmt_eur(x: object, decimals: int = 0) -> str:
    """Euros: 12345 -> '12 345 €', 12345.67 with decimals=2 -> '12 345,67 €'."""
    text = fmt_number(x, decimals)
    return text if text == MISSING else f"{text}{NNBSP}€"


def fmt_int(x: object) -> str:
    """Whole count: 12345 -> '12 345'."""
    return fmt_number(x, 0)


def fmt_pct(x: object, decimals: int = 1) -> str:
    """A ratio as a percentage: 0.1234 -> '12,3 %'."""
    if _missing(x) or not isinstance(x, Real):
        return MISSING
    text = fmt_number(float(x) * 100, decimals)
    return text if text == MISSING else f"{text}{NNBSP}%"


def fmt_date(x: object) -> str:
    """'23/06/2021' from a date, datetime, Timestamp or ISO string; other strings are kept."""
    if _missing(x):
        return MISSING
    if isinstance(x, datetime | date):
        return x.strftime("%d/%m/%Y")
    if isinstance(x, str):
        text = x.strip()
        if not text:
            return MISSING
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            return f"{text[5:]}/{text[:4]}"  # a month, as publishers often give ("2023-10")
        try:
            return datetime.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    return MISSING


def fmt_m(metres: object) -> str:
    """A distance: 250 -> '250 m', 1234 -> '1,2 km' (metres rounded first, so 999.7 -> '1,0 km')."""
    if _missing(metres) or not isinstance(metres, Real) or not math.isfinite(float(metres)):
        return MISSING
    rounded = round(float(metres))
    if abs(rounded) < 1000:
        return f"{_number(rounded, 0)}{NNBSP}m"
    return f"{_number(float(metres) / 1000, 1)}{NNBSP}km"
