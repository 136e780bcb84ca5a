"""Spreadsheet formula injection: the one place that decides which text cells are neutralised.

A file downloaded from the dashboard is opened in Excel or LibreOffice by people who did not write
its content, so text that a spreadsheet would run as a formula (`=HYPERLINK(...)`, the DDE classic
`+cmd|' /C calc'!A0`) is written with a leading apostrophe. Text that only happens to start with a
sign is left alone: `-Association Avenir` has no digit, call, reference or DDE link to evaluate
(at worst a spreadsheet shows #NOM?), and `-12,5` is read as a number, which is harmless. Every
prefix is visible in the file, so the rule stays narrow.

On import, an apostrophe such a neutralisation put before a formula trigger character is removed
again (`'=SUM(A1)` -> `=SUM(A1)`), so that our own exports can be imported back unchanged.
Every CSV handed to a spreadsheet (exports, import reports) is written by ``spreadsheet_csv``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from loaders.readers_tabular import parse_number

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ALWAYS = ("=", "@", "\t", "\r")
# After a leading + or -: what can reach beyond the cell's own text: a number or a cell reference
# (digits), a function call, a DDE link, another sheet or workbook, an array constant.
_FORMULA_LIKE = re.compile(r"[0-9(|!\[{]")


def is_formula_risk(text: str) -> bool:
    """True when a spreadsheet would evaluate `text` as a formula that does something.

    Always for a leading `=`, `@`, tab or carriage return; for a leading `+` or `-`, only when the
    rest looks like a formula (`-2+3`, `+cmd|' /C calc'!A0`, `-SOMME(A1)`), not for plain text
    (`-Association Avenir`) nor for a number (`-12,5`, `+33`).
    """
    if not text:
        return False
    if text.startswith(_ALWAYS):
        return True
    if text[0] in "+-":
        if parse_number(text) is not None:
            return False
        return bool(_FORMULA_LIKE.search(text, 1))
    return False


def neutralise(text: str) -> str:
    """`text` with a leading apostrophe when it is a formula risk, else unchanged."""
    return "'" + text if is_formula_risk(text) else text


def unneutralise(text: str) -> str:
    """Remove the apostrophe an export put before a formula trigger; other text is unchanged."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """French-Excel CSV: `;`, CRLF, UTF-8 with a BOM (Excel then reads accents right).

    The rows' cells must already be neutralised (``neutralise``) where they hold free text.
    """
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
