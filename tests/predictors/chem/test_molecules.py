"""Parsing, standardization, descriptors and alerts on real molecules."""

from __future__ import annotations

import pytest

from litmol.predictors import compute_descriptors, find_alerts, parse_molecule, to_mol

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def test_aspirin_descriptors_known_values():
    d = compute_descriptors(to_mol(ASPIRIN))
    assert d["mw"] == pytest.approx(180.16, abs=0.01)
    assert d["clogp"] == pytest.approx(1.31, abs=0.01)
    assert d["tpsa"] == pytest.approx(63.6, abs=0.01)
    assert (d["hbd"], d["hba"], d["rotatable_bonds"], d["rings"], d["aromatic_rings"]) == (1, 3, 2, 1, 1)
    assert d["qed"] == pytest.approx(0.550, abs=0.001)
    assert d["sa_score"] == pytest.approx(1.58, abs=0.01)
    assert d["lipinski_pass"] and d["veber_pass"] and d["lipinski_violations"] == 0


def test_rule_checks_on_a_large_drug():
    # cyclosporine: MW ~1202, breaks rule of 5 and Veber
    cyclosporine = ("CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)N([C@H]"
                    "(C(=O)N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)C(C)C)C)CC(C)C)C)CC(C)C)"
                    "C)C)C)CC(C)C)C)C(C)C)CC(C)C)C)C")
    d = compute_descriptors(to_mol(cyclosporine))
    assert d["mw"] > 1200 and not d["lipinski_pass"] and not d["veber_pass"]


def test_standardization_strips_salt_and_neutralizes():
    parsed = parse_molecule("[Na+].CC(=O)Oc1ccccc1C(=O)[O-]")
    assert parsed.valid and parsed.smiles == ASPIRIN
    metformin_hcl = parse_molecule("CN(C)C(=N)NC(=N)N.Cl")
    assert metformin_hcl.smiles == parse_molecule("CN(C)C(=N)NC(=N)N").smiles


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("   ", "empty"),
    ("C1CC", "unparsable"),
    ("not a molecule", "unparsable"),
    ("C(C)(C)(C)(C)C", "valence"),
    ("C" * 6000, "too large"),
    ("C" * 400, "too large"),
])
def test_bad_inputs_give_reasons(text, reason):
    parsed = parse_molecule(text)
    assert not parsed.valid and parsed.reason == reason and parsed.error


def test_molblock_input():
    from rdkit import Chem

    block = Chem.MolToMolBlock(Chem.MolFromSmiles("c1ccccc1O"))
    assert parse_molecule(block).smiles == "Oc1ccccc1"


def test_alerts_name_each_match():
    rhodanine = "O=C1C(=Cc2ccccc2)SC(=S)N1"
    alerts = find_alerts(to_mol(rhodanine))
    catalogs = {a.catalog for a in alerts}
    assert {"PAINS", "BRENK", "NIH"} <= catalogs
    assert any(a.name.startswith("ene_rhod") for a in alerts if a.catalog == "PAINS")
    assert any(a.catalog.startswith("medchem:") for a in alerts)
    assert not [a for a in find_alerts(to_mol("CCO")) if a.catalog in {"PAINS", "BRENK", "NIH"}]
