"""`litmol predict` as a user runs it: JSON contract, files with bad rows, exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.integration


def litmol(*args, home=None):
    env = dict(os.environ)
    if home:
        env["LITMOL_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_predict_json_contract_keeps_order_and_bad_rows():
    out = litmol("predict", "aspirin", "C1CC", "CCO", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["input"] for r in rows] == ["aspirin", "C1CC", "CCO"]
    for r in rows:
        assert {"input", "smiles", "valid", "error", "properties", "alerts"} <= set(r)
    assert rows[0]["valid"] and rows[0]["properties"]["mw"] == pytest.approx(180.16, abs=0.01)
    assert rows[0]["smiles"] == "CC(=O)Oc1ccccc1C(=O)O"
    assert not rows[1]["valid"] and "cannot parse" in rows[1]["error"]


def test_csv_file_with_bad_rows(tmp_path):
    out_path = tmp_path / "props.csv"
    out = litmol("predict", "--input", str(DATA / "molecules.csv"), "--output", str(out_path), "-q")
    assert out.returncode == 0, out.stderr
    with out_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 16)]
    by_note = {r["note"]: r for r in rows}
    assert by_note["unclosed ring"]["valid"] == "False" and by_note["unclosed ring"]["error"]
    assert by_note["empty"]["valid"] == "False"
    assert by_note["sodium salicylate"]["smiles_std"] == "O=C(O)c1ccccc1O"
    assert by_note["a name instead of SMILES"]["resolved_name"] == "Atorvastatin"
    assert "PAINS:" in by_note["PAINS rhodanine"]["alerts"]
    assert float(by_note["caffeine"]["mw"]) == pytest.approx(194.19, abs=0.01)
    assert "6 invalid" not in out.stderr and "4 invalid" in out.stderr


def test_sdf_with_a_broken_record(tmp_path):
    from rdkit import Chem

    good = Chem.MolToMolBlock(Chem.MolFromSmiles("c1ccccc1O"))
    sdf = tmp_path / "in.sdf"
    sdf.write_text(good + "$$$$\nbroken\n  nonsense\n\nM  END\n$$$$\n" + good + "$$$$\n")
    out_path = tmp_path / "out.jsonl"
    out = litmol("predict", "--input", str(sdf), "--output", str(out_path), "-q")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["valid"] for r in rows] == [True, False, True]
    assert rows[0]["smiles_std"] == "Oc1ccccc1"


@pytest.mark.parametrize("args, message", [
    (("predict",), "give SMILES"),
    (("predict", "CCO", "--properties", "mw,colour"), "unknown properties: colour"),
    (("predict", "--input", "missing.csv", "--output", "x.csv"), "no such file"),
    (("predict", "--input", "x.csv"), "--output"),
])
def test_predict_usage_errors(args, message):
    out = litmol(*args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_predictors_list_has_units():
    out = litmol("predictors", "list", "--json")
    listing = json.loads(out.stdout)
    tpsa = next(p for p in listing if p["property"] == "tpsa")
    assert tpsa["unit"] == "Å²" and tpsa["predictor"] == "rdkit"
