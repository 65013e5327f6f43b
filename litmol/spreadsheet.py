"""Text cells a spreadsheet would run as formulas, made inert before they go into a CSV file.

Excel, LibreOffice and Google Sheets read a CSV cell that starts with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK("http://x", "click")`, `=cmd|' /C calc'!A0`, DDE), and some trim a leading tab, carriage
return or space first (OWASP lists tab and CR for that reason). litmol's CSV files carry text from
outside: the user's own input columns, drug names from a library, abstract sentences in the links table.
Such a cell is written with a single quote in front (OWASP's "CSV injection" advice): spreadsheets show
the text, never run it. Used by every CSV writer: predictors/files.py (in-process and Ray prediction
tables), predictors/design/export.py (the shortlist), links/table.py (`export_links`).

Left as they are:
- non-text values (numbers, booleans, None): the CSV module writes them as Python does (`-1.5`);
- text that is a plain number (`-1.5`, `+3`, `-2e-05`, as read from an input CSV): a spreadsheet reads a
  number, not a formula;
- text whose leading tab, CR or spaces are followed by anything but a formula (`"\tCCO"`): no spreadsheet
  runs it, and RDKit reads it as the SMILES after the whitespace;
- SMILES: no valid SMILES starts with `=`, `+`, `-` or `@` (RDKit refuses `=C`, `-C`, `+C`, `@C`, `=O`),
  so a valid SMILES is never changed and a hostile string in a SMILES column is escaped like any other.
  That is why one rule serves every column.

Parquet, JSON Lines, SDF and GraphML are not opened as formulas by spreadsheets (Parquet is binary; the
others are imported as text by a program that knows the format), so they keep the exact text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
BLANK_LEAD = " \t\r\n"  # what a spreadsheet may trim before it looks for a formula
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def escape_formula(value: Any) -> Any:
    """`value` as a CSV cell that a spreadsheet shows as text: a string that starts with = + - @ (after any
    leading tab, CR or spaces) gets a leading `'` unless it is a plain number; anything that is not a
    string is returned unchanged."""
    if not isinstance(value, str):
        return value
    text = value.lstrip(BLANK_LEAD)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + value
    return value


def escape_cells(cells: Iterable[Any]) -> list[Any]:
    """A csv.writer row with every cell passed through `escape_formula`."""
    return [escape_formula(value) for value in cells]
