"""`litmol predict --input LIBRARY --ray`: a real molecule library (the test molecules, with their invalid
rows, and MOSES molecules) scored on a local Ray cluster started by the test on this machine — the same
rows, values and errors as the in-process path, in input order, nothing lost."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data"


def _library(tmp_path: Path, moses: int = 200) -> Path:
    rows = list(csv.DictReader((DATA / "molecules.csv").open()))
    folder = Path(importlib.util.find_spec("moses").submodule_search_locations[0]) / "dataset" / "data"
    smiles = pd.read_csv(folder / "test.csv.gz").SMILES.head(moses).tolist()
    rows += [{"id": str(100 + i), "smiles": s, "note": "moses"} for i, s in enumerate(smiles)]
    rows.append({"id": "999", "smiles": "C1=CC=CC=C1" * 3 + "(", "note": "broken"})
    path = tmp_path / "library.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    return path


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a))
    return (a in (None, "") and b in (None, "")) or a == b


def test_ray_prediction_matches_the_in_process_path_row_for_row(tmp_path):
    from litmol.predictors.api import predict_inputs
    from litmol.predictors.distributed import predict_file_on_ray
    from litmol.predictors.files import read_molecule_file, write_results

    library = _library(tmp_path)
    rows, texts, column = read_molecule_file(library)
    expected = tmp_path / "in-process.parquet"
    write_results(expected, rows, predict_inputs(texts, predictors=["rdkit", "logs"]))

    out = tmp_path / "ray.parquet"
    report = predict_file_on_ray(library, out, predictors=["rdkit", "logs"], address="local", workers=2,
                                 batch_rows=64, progress=False)
    assert report["rows"] == len(rows) and report["workers"] == 2 and column == "smiles"
    got, want = pd.read_parquet(out), pd.read_parquet(expected)
    assert list(got["id"]) == [r["id"] for r in rows]  # input order, every row once
    assert set(want.columns) <= set(got.columns)
    invalid = got[~got["valid"]]
    assert report["invalid"] == len(invalid) >= 5  # the unclosed ring, pentavalent carbon, empty, garbage, broken
    assert all(invalid["error"].str.len() > 0)
    assert got.loc[got["note"] == "a name instead of SMILES", "smiles_std"].item() == want.loc[
        want["note"] == "a name instead of SMILES", "smiles_std"].item() != ""
    for name in want.columns:
        mismatched = [i for i, (a, b) in enumerate(zip(got[name].tolist(), want[name].tolist(), strict=True))
                      if not (pd.isna(a) and pd.isna(b)) and not _same(a, b)]
        assert not mismatched, (name, mismatched[:3])


def test_the_cli_writes_csv_on_ray_and_refuses_bad_input_in_one_line(tmp_path):
    library = _library(tmp_path, moses=20)
    out = tmp_path / "scored.csv"
    done = subprocess.run([sys.executable, "-m", "litmol.cli", "predict", "--input", str(library), "--output",
                           str(out), "--properties", "mw,qed", "--ray", "--ray-workers", "1", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    table = pd.read_csv(out)
    assert len(table) == 15 + 20 + 1 and {"id", "note", "mw", "qed", "valid", "error"} <= set(table.columns)
    assert table["mw"].notna().sum() == table["valid"].sum()

    bad = subprocess.run([sys.executable, "-m", "litmol.cli", "predict", "--input", str(library), "--output",
                          str(tmp_path / "x.parquet"), "--properties", "no_such_property", "--ray"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no_such_property" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_ray_writes_the_same_bytes_as_the_in_process_path(tmp_path):
    """One output format whatever the engine (issue 32): the test molecules (their invalid rows too) plus
    rows a spreadsheet would run as formulas, written as CSV and JSON Lines by `predict --ray` and by the
    in-process path — byte for byte the same files (the Ray path used to write Arrow's CSV: quoted
    headers, `true`, `126` for Python's `126.0`; and JSON nulls the in-process file left out)."""
    import ray

    from litmol.cluster import ray_init
    from litmol.predictors.api import predict_inputs
    from litmol.predictors.distributed import predict_file_on_ray
    from litmol.predictors.files import read_molecule_file, write_results
    from tests.cli.test_predict_cli import HOSTILE, hostile_library

    library = hostile_library(tmp_path / "library.csv")
    rows, texts, _ = read_molecule_file(library)
    results = predict_inputs(texts)  # what `litmol predict --input` runs, default predictors
    assert ray_init("local", num_cpus=2)  # one cluster for both files (each call would start its own)
    try:
        for suffix in ("csv", "jsonl"):
            want, got = tmp_path / f"in-process.{suffix}", tmp_path / f"ray.{suffix}"
            write_results(want, rows, results)
            report = predict_file_on_ray(library, got, address="local", workers=1, batch_rows=8, progress=False)
            assert report["rows"] == len(rows) == 18 and report["invalid"] == 5
            assert got.read_bytes() == want.read_bytes(), suffix
    finally:
        ray.shutdown()
    text = (tmp_path / "ray.csv").read_text()
    assert text.startswith("id,smiles,note,logp_measured,smiles_std,valid,error,resolved_name,mw,")
    assert "'" + HOSTILE.replace('"', '""') in text and ",True," in text and ",-1.5," in text
