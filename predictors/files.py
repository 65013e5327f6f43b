"""Read molecule files (CSV, SDF) into input rows and write result tables, keeping every row."""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litmol.spreadsheet import escape_cells

from .errors import PredictorError
from .rows import PredictionRow

logger = logging.getLogger(__name__)

SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "structure", "molecule", "name", "drug", "compound")
MAX_FILE_BYTES = 200 * 1024 * 1024
RESULT_COLUMNS = ("smiles_std", "valid", "error", "resolved_name")  # then the properties, then alerts


class MoleculeFileError(PredictorError, ValueError):
    """A molecule file cannot be read (type, size, missing column)."""


def smiles_column(path: Path, header: list[str], smiles_col: str | None) -> str:
    """The column holding the molecules: `smiles_col` when given, else the first header named like one."""
    column = smiles_col or next((h for h in header if h.strip().lower() in SMILES_COLUMNS), None)
    if column is None or column not in header:
        raise MoleculeFileError(f"{path}: no SMILES column (found {header}); name it with --smiles-col")
    return column


def read_molecule_file(path: Path, smiles_col: str | None = None) -> tuple[list[dict[str, str]], list[str], str]:
    """Rows of a CSV (with a SMILES/name column) or SDF file.

    Returns (rows, input texts in order, the column used). SDF records become MOL blocks; a
    record RDKit cannot read stays as a row with its raw text so its error is reported.
    """
    path = Path(path)
    if not path.is_file():
        raise MoleculeFileError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise MoleculeFileError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path, smiles_col)
    if suffix in (".sdf", ".sd", ".mol"):
        text = path.read_text(errors="replace")
        # records end at a `$$$$` line; a MOL block's first (title) line may be blank, so no strip
        blocks = [b for b in re.split(r"^\$\$\$\$[ \t]*\r?\n?", text, flags=re.M) if b.strip()]
        rows = [{"record": str(i + 1), "title": b.splitlines()[0].strip() if b.splitlines() else ""}
                for i, b in enumerate(blocks)]
        return rows, blocks, "molblock"
    if suffix not in (".csv", ".tsv", ".txt", ".smi"):
        raise MoleculeFileError(f"{path}: expected .csv, .tsv, .smi, .sdf or .parquet")
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delimiter = "\t" if suffix in (".tsv", ".smi") or sample.count("\t") > sample.count(",") else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = reader.fieldnames or []
        column = smiles_column(path, header, smiles_col)
        rows = [dict(r) for r in reader]
    return rows, [r.get(column) or "" for r in rows], column


def _read_parquet(path: Path, smiles_col: str | None) -> tuple[list[dict[str, Any]], list[str], str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise MoleculeFileError(f"{path}: not a readable Parquet file ({exc})") from None
    header = table.column_names
    column = smiles_column(path, header, smiles_col)
    rows = table.to_pylist()
    return rows, ["" if r.get(column) is None else str(r[column]) for r in rows], column


def flatten_result(result: PredictionRow) -> dict[str, Any]:
    """One CSV row: std SMILES, validity, error, every property, alerts joined."""
    row = {"smiles_std": result.smiles or "", "valid": result.valid, "error": result.error or "",
           "resolved_name": result.name or ""}
    row.update(result.properties)
    row["alerts"] = "; ".join(a.label for a in result.alerts)
    return row


def result_columns(flat: list[dict[str, Any]]) -> list[str]:
    """The result columns of flattened results, in one order whatever row comes first: smiles_std, valid,
    error, resolved_name, every property in order of appearance, alerts (an invalid row has no properties,
    so the first row alone cannot fix the order)."""
    columns = dict.fromkeys(RESULT_COLUMNS)
    for row in flat:
        columns.update(dict.fromkeys(k for k in row if k != "alerts"))
    return [*columns, "alerts"]


def input_name(name: str, results: set[str] | list[str]) -> str:
    """An input column's name in the output: `input_NAME` when a result column has the same name."""
    return f"input_{name}" if name in results else name


def merge_results(rows: list[dict[str, Any]], results: list[PredictionRow]) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows): each input row's columns (renamed by `input_name`) followed by its results."""
    flat = [flatten_result(r) for r in results]
    outputs = result_columns(flat)
    inputs = list(dict.fromkeys(k for row in rows for k in row))
    taken = set(outputs)
    merged = [{**{input_name(k, taken): v for k, v in row.items()}, **out}
              for row, out in zip(rows, flat, strict=True)]
    return [input_name(k, taken) for k in inputs] + outputs, merged


class TableWriter:
    """A result table written row by row: JSON Lines (.jsonl, .json) or CSV (any other suffix). The
    in-process and the Ray paths both write through it, so the same results give the same bytes: every row
    has every column (an empty CSV cell, a JSON null where a value is missing), values as Python writes
    them (`126.0`, `True`), CSV text cells escaped against spreadsheet formulas (litmol.spreadsheet), UTF-8."""

    def __init__(self, path: Path, columns: list[str], target: Path | None = None) -> None:
        """Write to `target` (a temporary name, say) the table `path` names by its suffix."""
        self.kind = "jsonl" if Path(path).suffix.lower() in (".jsonl", ".json") else "csv"
        self.columns = columns
        self.handle = Path(target or path).open("w", newline="", encoding="utf-8")  # noqa: SIM115 - close()
        if self.kind == "csv":
            self.csv = csv.writer(self.handle)
            self.csv.writerow(escape_cells(columns))

    def write(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            if self.kind == "csv":
                self.csv.writerow(escape_cells(item.get(c) for c in self.columns))
            else:
                self.handle.write(json.dumps({c: item.get(c) for c in self.columns}, ensure_ascii=False,
                                             default=str) + "\n")

    def close(self) -> None:
        self.handle.close()


def write_results(path: Path, rows: list[dict[str, str]], results: list[PredictionRow]) -> None:
    """Input columns + results, one output row per input row, in order (CSV, JSONL or Parquet by suffix).
    An input column named like a result column is kept as `input_NAME`."""
    path = Path(path)
    columns, merged = merge_results(rows, results)
    if path.suffix.lower() == ".parquet":  # invalid rows have no properties: their cells are null
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([{c: item.get(c) for c in columns} for item in merged]), path)
        return
    writer = TableWriter(path, columns)
    try:
        writer.write(merged)
    finally:
        writer.close()


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
