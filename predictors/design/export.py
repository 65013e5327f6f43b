"""The shortlist as files RDKit and spreadsheets read back: CSV (one row per candidate) or SDF (each
candidate's properties as SD tags). CSV text cells that a spreadsheet would run as formulas (a seed's
name, an objective label) are escaped (litmol.spreadsheet); SMILES never start that way, so they are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_candidates(path: Path, result: Any) -> None:
    """CSV or SDF (by suffix) that RDKit reads back: SMILES, score, rank, every property, its uncertainty,
    each objective's desirability (`d_LABEL`), domain flags, alerts, novelty, why."""
    rows = [c.to_dict() for c in result.candidates]
    if path.suffix.lower() == ".sdf":
        from rdkit import Chem

        writer = Chem.SDWriter(str(path))
        for row in rows:
            mol = Chem.MolFromSmiles(row["smiles"])
            mol.SetProp("_Name", f"litmol-{row['rank']}")
            for key, value in _flat(row).items():
                mol.SetProp(key, str(value))
            writer.write(mol)
        writer.close()
        return
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: write .csv or .sdf")
    import csv

    from litmol.spreadsheet import escape_cells

    flat = [_flat(r) for r in rows]
    fields = list(dict.fromkeys(k for r in flat for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(escape_cells(fields))
        w.writerows(escape_cells(r.get(k, "") for k in fields) for r in flat)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not isinstance(v, (dict, list))}
    out.update(row["properties"])
    out.update({f"{k}_std": v for k, v in row["uncertainty"].items()})
    out.update({f"d_{k}": v for k, v in row["desirability"].items()})  # each objective's desirability
    out["out_of_domain"] = ";".join(row["out_of_domain"])
    out["alerts"] = ";".join(row.get("alerts") or [])
    return out
