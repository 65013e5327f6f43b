"""The design engine on real molecules and real predictors: every returned candidate meets the hard
constraints, the same seed gives the same shortlist, alerts filter, and the CLI writes JSON, CSV and SDF
that RDKit reads back."""

from __future__ import annotations

import json

import pytest
from rdkit import Chem, DataStructs

from litmol.cli.main import main
from litmol.predictors.design import DesignConfig, DesignError, propose
from litmol.predictors.design.scoring import Scorer, fingerprint

SPECS = ["qed>=0.6", "sa<=3.5", "tpsa 40..100"]


@pytest.fixture(scope="module")
def run():
    return propose(["imatinib"], SPECS, DesignConfig(n=5, budget=400, min_similarity=0.35, random_seed=3))


def test_every_candidate_meets_the_hard_constraints(run):
    assert run.candidates and run.calls <= 400
    seed = fingerprint(Chem.MolFromSmiles(run.seeds[0][1]))
    for c in run.candidates:
        mol = Chem.MolFromSmiles(c.smiles)
        assert mol is not None and c.properties["qed"] >= 0.6 and c.properties["sa_score"] <= 3.5
        assert 40 <= c.properties["tpsa"] <= 100
        assert DataStructs.TanimotoSimilarity(seed, fingerprint(mol)) >= 0.35 - 1e-9
        assert c.nearest_seed == "Imatinib" and c.nearest_drug and "Pareto front" in c.why
    assert [c.score for c in run.candidates] == sorted((c.score for c in run.candidates), reverse=True)
    assert len({c.inchikey for c in run.candidates}) == len(run.candidates)


def test_the_same_random_seed_gives_the_same_shortlist(run):
    again = propose(["imatinib"], SPECS, DesignConfig(n=5, budget=400, min_similarity=0.35, random_seed=3))
    assert [c.smiles for c in again.candidates] == [c.smiles for c in run.candidates]


def test_alerts_filter_and_domain_flags():
    rhodanine = "O=C1NC(=S)SC1=Cc1ccccc1"  # a PAINS ene-rhodanine
    aspirin, caffeine = "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"  # aspirin: a Brenk phenol ester
    bad, brenk, good = Scorer([], alerts="core").evaluate([rhodanine, aspirin, caffeine])
    assert bad.alerts and bad.score == 0 and not bad.feasible and good.feasible and good.score > 0
    assert brenk.alerts == ["BRENK:phenol_ester"] and not brenk.feasible
    pains_only = Scorer([], alerts="pains").evaluate([rhodanine, aspirin])
    assert not pains_only[0].feasible and pains_only[1].feasible
    assert Scorer([], alerts="none").evaluate([rhodanine])[0].feasible
    from litmol.predictors.api import known_properties
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.registry import list_predictors

    objs = parse_objectives(["bbb max"], list(known_properties(list_predictors())))
    siloxane, caffeine = Scorer(objs).evaluate(["C[Si](C)(C)O[Si](C)(C)O[Si](C)(C)C", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"])
    assert siloxane.out_of_domain == ["bbb"] and caffeine.out_of_domain == []
    assert siloxane.desirability["bbb max"] == pytest.approx(0.5 * siloxane.properties["bbb"], abs=1e-6)


def test_bad_design_input_is_one_clear_error():
    with pytest.raises(DesignError, match="is not a molecule"):
        propose(["notadrugxyz"], ["qed>=0.5"], DesignConfig(budget=50))
    with pytest.raises(DesignError, match="needs at least one seed"):
        propose([], ["qed>=0.5"], DesignConfig(budget=50, min_similarity=0.4))


def test_the_cli_writes_json_csv_and_sdf_rdkit_reads(tmp_path, capsys):
    import csv

    args = ["propose", "--seed", "aspirin", "--objective", "qed>=0.5", "--objective", "clogp 0..3",
            "--budget", "150", "-n", "4", "--random-seed", "1", "-q"]
    assert main([*args, "--json", "--output", str(tmp_path / "out.sdf")]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown and all(c["properties"]["qed"] >= 0.5 and 0 <= c["properties"]["clogp"] <= 3 for c in shown)
    mols = [m for m in Chem.SDMolSupplier(str(tmp_path / "out.sdf"))]
    assert [Chem.MolToSmiles(m) for m in mols] == [Chem.MolToSmiles(Chem.MolFromSmiles(c["smiles"])) for c in shown]
    assert float(mols[0].GetProp("score")) == pytest.approx(shown[0]["score"])
    assert main([*args, "--output", str(tmp_path / "out.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [r["smiles"] for r in rows] == [c["smiles"] for c in shown]
    assert all(Chem.MolFromSmiles(r["smiles"]) for r in rows)
    assert main(["propose", "--objective", "qed>>1", "-q"]) == 2
    assert "bad objective" in capsys.readouterr().err
