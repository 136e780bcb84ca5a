"""French number, money, percentage, date and distance formats, without the locale module.

One separator everywhere: the narrow no-break space U+202F (``NNBSP``), both as thousands
separator and before the unit ("12 345 €", "12,3 %", "250 m"), as French typography and the
CLDR "fr" locale recommend. Missing values (None, NaN, NaT, pd.NA) print as an em dash.

This module is the only place that writes French numbers and dates: pages, tables, maps, the
bilan, command-line reports, import messages and CSV exports all call it (``fmt_decimal`` is the
spreadsheet form: a decimal comma and no thousands separator, so that Excel reads a number).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from numbers import Integral, Real

import numpy as np
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


def fmt_number(x: object, decimals: int = 0, *, trim: bool = False) -> str:
    """A plain French number: 12345.6 -> '12 346'; with decimals=1 -> '12 345,6'.

    ``trim`` drops a zero fractional part: 12.0 with decimals=2 -> '12', 12.5 -> '12,50'.
    """
    if _missing(x) or not isinstance(x, Real) or not math.isfinite(float(x)):
        return MISSING
    text = _number(float(x), decimals)
    if trim and decimals and text.endswith("," + "0" * decimals):
        text = text[: -(decimals + 1)]
    return text


def fmt_decimal(x: object) -> str:
    """A number for a French spreadsheet cell: 12345.5 -> '12345,5', 3 -> '3', 0.1 -> '0,1'.

    Shortest exact decimal form (no rounding, no thousands separator); missing values -> ''.
    """
    if _missing(x) or not isinstance(x, Real):
        return ""
    if isinstance(x, Integral):
        return str(int(x))
    return np.format_float_positional(float(x), trim="-").replace(".", ",")


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


def fmt_date(x: object, missing: str = MISSING) -> str:
    """'23/06/2021' from a date, datetime, Timestamp or ISO string; other strings are kept.

    ``missing`` is what an absent date prints as ("inconnue" in a sentence, say).
    """
    if _missing(x):
        return missing
    if isinstance(x, datetime | date):
        return x.strftime("%d/%m/%Y")
    if isinstance(x, str):
        text = x.strip()
        if not text:
            return missing
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            return f"{text[5:]}/{text[:4]}"  # a month, as publishers often give ("2023-10")
        try:
            return datetime.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    return MISSING


def fmt_m2(x: object) -> str:
    """A surface: 12345 -> '12 345 m²'."""
    text = fmt_number(x, 0)
    return text if text == MISSING else f"{text}{NNBSP}m²"


def fmt_m(metres: object) -> str:
    """A distance: 250 -> '250 m', 1234 -> '1,2 km' (metres rounded first, so 999.7 -> '1,0 km')."""
    if _missing(metres) or not isinstance(metres, Real) or not math.isfinite(float(metres)):
        return MISSING
    rounded = round(float(metres))
    if abs(rounded) < 1000:
        return f"{_number(rounded, 0)}{NNBSP}m"
    return f"{_number(float(metres) / 1000, 1)}{NNBSP}km"
