"""Read molecule files (CSV, SDF) into input rows and write result tables, keeping every row."""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import PredictorError
from .rows import PredictionRow

logger = logging.getLogger(__name__)

SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "structure", "molecule", "name", "drug", "compound")
MAX_FILE_BYTES = 200 * 1024 * 1024


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


def write_results(path: Path, rows: list[dict[str, str]], results: list[PredictionRow]) -> None:
    """Input columns + results, one output row per input row, in order (CSV, JSONL or Parquet by suffix).
    An input column named like a result column is kept as `input_NAME`."""
    path = Path(path)
    merged = []
    for row, res in zip(rows, results, strict=True):
        out = flatten_result(res)
        merged.append({**{(f"input_{k}" if k in out else k): v for k, v in row.items()}, **out})
    if path.suffix.lower() in (".jsonl", ".json"):
        with path.open("w") as fh:
            for item in merged:
                fh.write(json.dumps(item) + "\n")
        return
    columns: list[str] = []
    for item in merged:
        columns.extend(k for k in item if k not in columns)
    if path.suffix.lower() == ".parquet":  # invalid rows have no properties: their cells are null
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([{c: item.get(c) for c in columns} for item in merged]), path)
        return
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(merged)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
