"""litmol/spreadsheet.py: a CSV text cell a spreadsheet would run as a formula is written with a leading
quote by every CSV writer (prediction tables: tests/cli/test_predict_cli.py and the Ray path in
tests/predictors/test_distributed.py; here the design shortlist and the link export); numbers and valid
SMILES are never changed."""

from __future__ import annotations

import csv
import types
from pathlib import Path

import pytest

from litmol.spreadsheet import escape_formula

DATA = Path(__file__).resolve().parents[1] / "data"
HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("cell, written", [
    (HOSTILE, "'" + HOSTILE),
    ("+SUM(1,1)", "'+SUM(1,1)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r\n=1+1", "'\r\n=1+1"),
    ("-inf", "'-inf"),
    # left alone: numbers (as values or as text read from a CSV), text, blanks
    ("-1.5", "-1.5"), ("+3", "+3"), ("-2e-05", "-2e-05"), (-1.5, -1.5), (True, True), (None, None),
    ("aspirin", "aspirin"), ("", ""), ("\tCCO", "\tCCO"), ("PMID:123 a sentence", "PMID:123 a sentence"),
])
def test_a_formula_gets_a_quote_and_nothing_else_changes(cell, written):
    assert escape_formula(cell) == written


def test_no_valid_smiles_is_escaped_and_no_formula_start_is_a_valid_smiles():
    """Why one rule serves SMILES columns: RDKit refuses every SMILES that starts with = + - @ (a bond,
    a charge or a chirality mark needs an atom before it), and the test molecules pass unchanged."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    with (DATA / "molecules.csv").open() as fh:
        smiles = [r["smiles"] for r in csv.DictReader(fh)]
    valid = [s for s in smiles if s and Chem.MolFromSmiles(s) is not None]
    assert len(valid) >= 10 and all(escape_formula(s) == s for s in valid)
    for start in "=+-@":
        for rest in ("C", "O", "[NH4+]", "c1ccccc1", "1CC1", "CC(=O)O"):
            assert Chem.MolFromSmiles(start + rest) is None, start + rest


def test_the_design_shortlist_csv_escapes_a_hostile_seed_name(tmp_path):
    from litmol.predictors.design.export import write_candidates
    from litmol.predictors.design.ranking import Candidate

    aspirin = Candidate(rank=1, smiles="CC(=O)Oc1ccccc1C(=O)O", score=0.8123,
                        properties={"clogp": -1.25, "mw": 180.16, "note": "-x"}, desirability={"qed": 0.55},
                        nearest_seed=HOSTILE, seed_similarity=0.41, why="@risk: close to the seed")
    path = tmp_path / "shortlist.csv"
    write_candidates(path, types.SimpleNamespace(candidates=[aspirin]))
    (row,) = list(csv.DictReader(path.open(encoding="utf-8")))
    assert row["nearest_seed"] == "'" + HOSTILE and row["why"] == "'@risk: close to the seed"
    assert row["note"] == "'-x"
    assert row["smiles"] == "CC(=O)Oc1ccccc1C(=O)O" and row["clogp"] == "-1.25" and row["mw"] == "180.16"
    sdf = tmp_path / "shortlist.sdf"  # SDF tags are read by chemistry programs, not run: kept exact
    write_candidates(sdf, types.SimpleNamespace(candidates=[aspirin]))
    from rdkit import Chem

    (mol,) = list(Chem.SDMolSupplier(str(sdf)))
    assert mol.GetProp("nearest_seed") == HOSTILE


def test_the_link_export_csv_escapes_hostile_names(tmp_path):
    from litmol.links.table import Link, export_links

    links = [Link(drug=HOSTILE, disease="+hypertension", relation="treats", score=0.93, n_articles=2,
                  pmids=["1657352", "1851390"], first_year=1991, last_year=1992, drug_id="D000959",
                  disease_id="D006973", evidence=[{"pmid": "1657352", "sentence": "=1+1 Propranolol lowered it."}]),
             Link(drug="propranolol", disease="angina pectoris", relation="treats", score=-0.5, n_articles=1,
                  pmids=["1851390"], first_year=None, last_year=None, drug_id="D011433", disease_id="D000787",
                  evidence=[])]
    table = types.SimpleNamespace(all_links=lambda relation, min_articles: links)  # the read side of the table
    path = tmp_path / "links.csv"
    assert export_links(table, path, "csv") == 2
    rows = list(csv.DictReader(path.open()))
    assert rows[0]["drug"] == "'" + HOSTILE and rows[0]["disease"] == "'+hypertension"
    assert rows[0]["evidence"] == "PMID:1657352 =1+1 Propranolol lowered it."  # starts with PMID: not a formula
    assert rows[1]["drug"] == "propranolol" and rows[1]["score"] == "-0.5" and rows[1]["first_year"] == ""
