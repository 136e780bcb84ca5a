"""French formats, with the one separator U+202F everywhere."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.formatting import MISSING, NNBSP, fmt_date, fmt_eur, fmt_int, fmt_m, fmt_number, fmt_pct

S = NNBSP


def test_euros():
    assert fmt_eur(12345) == f"12{S}345{S}€"
    assert fmt_eur(12345.67, decimals=2) == f"12{S}345,67{S}€"
    assert fmt_eur(700000) == f"700{S}000{S}€"
    assert fmt_eur(1234567.891, 2) == f"1{S}234{S}567,89{S}€"
    assert fmt_eur(999.6) == f"1{S}000{S}€"
    assert fmt_eur(0) == f"0{S}€"
    assert fmt_eur(-1500) == f"-1{S}500{S}€"
    assert fmt_eur(-0.2) == f"0{S}€"
    assert fmt_eur(np.float64(42.0)) == f"42{S}€"
    assert fmt_eur(np.int64(1000)) == f"1{S}000{S}€"


def test_integers_and_numbers():
    assert fmt_int(1234567) == f"1{S}234{S}567"
    assert fmt_int(12) == "12"
    assert fmt_number(1234.56, 1) == f"1{S}234,6"


def test_percentages():
    assert fmt_pct(0.1234) == f"12,3{S}%"
    assert fmt_pct(1) == f"100,0{S}%"
    assert fmt_pct(0.5, decimals=0) == f"50{S}%"
    assert fmt_pct(12.5) == f"1{S}250,0{S}%"


def test_dates():
    assert fmt_date(date(2021, 6, 23)) == "23/06/2021"
    assert fmt_date(datetime(2021, 6, 23, 18, 30)) == "23/06/2021"
    assert fmt_date(pd.Timestamp("2021-06-23")) == "23/06/2021"
    assert fmt_date("2021-06-23") == "23/06/2021"
    assert fmt_date("2021-06-23T09:00:00") == "23/06/2021"
    assert fmt_date("juin 2021") == "juin 2021"
    assert fmt_date("") == MISSING


def test_distances():
    assert fmt_m(250) == f"250{S}m"
    assert fmt_m(249.6) == f"250{S}m"
    assert fmt_m(0) == f"0{S}m"
    assert fmt_m(1234) == f"1,2{S}km"
    assert fmt_m(999.7) == f"1,0{S}km"
    assert fmt_m(12345) == f"12,3{S}km"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, "texte"])
def test_missing_values_print_a_dash(missing):
    assert fmt_eur(missing) == MISSING
    assert fmt_int(missing) == MISSING
    assert fmt_pct(missing) == MISSING
    assert fmt_m(missing) == MISSING


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NaT])
def test_missing_dates(missing):
    assert fmt_date(missing) == MISSING


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_read_back(n):
    text = fmt_int(n)
    assert int(text.replace(S, "")) == n
    groups = text.lstrip("-").split(S)
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_euros_with_cents_read_back(x):
    text = fmt_eur(x, 2)
    assert text.endswith(f"{S}€")
    value = float(text[:-2].replace(S, "").replace(",", "."))
    assert math.isclose(value, x, abs_tol=0.005 + 1e-9 * abs(x))


def test_a_month_only_date_reads_month_slash_year():
    assert fmt_date("2023-10") == "10/2023"
