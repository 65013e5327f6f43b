"""The design engine on real molecules and real predictors: every returned candidate meets the hard
constraints, the same seed gives the same shortlist, alerts filter, and the CLI writes JSON, CSV and SDF
that RDKit reads back."""

from __future__ import annotations

import json

import pytest
from rdkit import Chem, DataStructs

from litmol.cli.main import main
from litmol.predictors.design import DesignConfig, DesignError, ObjectiveError, propose
from litmol.predictors.design.pool import approved_drugs, approved_keys
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
        assert c.known is None and c.inchikey not in approved_keys()  # nothing known is proposed as new
        assert c.novelty == pytest.approx(1 - c.drug_similarity, abs=1e-4)
    assert [c.score for c in run.candidates] == sorted((c.score for c in run.candidates), reverse=True)
    assert len({c.inchikey for c in run.candidates}) == len(run.candidates)


def test_the_same_random_seed_gives_the_same_shortlist(run):
    again = propose(["imatinib"], SPECS, DesignConfig(n=5, budget=400, min_similarity=0.35, random_seed=3))
    assert [c.smiles for c in again.candidates] == [c.smiles for c in run.candidates]
    assert [e.smiles for e in again.evaluations] == [e.smiles for e in run.evaluations]
    other = propose(["imatinib"], SPECS, DesignConfig(n=5, budget=400, min_similarity=0.35, random_seed=4))
    assert {e.smiles for e in other.evaluations} != {e.smiles for e in run.evaluations}  # the seed is used


def test_known_compounds_are_left_out_unless_asked_for_and_then_marked():
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.design.ranking import inchikey, shortlist

    nilotinib = dict(approved_drugs())["Nilotinib"]
    novel = "Cc1ccc(NC(=O)c2ccc(CN3CCOCC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"  # imatinib, morpholine for piperazine
    objs = parse_objectives(["qed>=0.2"], ["qed"])
    evals = Scorer(objs).evaluate([nilotinib, novel])
    assert all(e.feasible for e in evals)
    assert evals[0].properties["novelty"] == pytest.approx(0.0) and evals[1].properties["novelty"] > 0
    known = approved_keys()
    assert [c.smiles for c in shortlist(evals, objs, [], 5, known=known)] == [evals[1].smiles]
    both = shortlist(evals, objs, [], 5, diversity=1.01, known=known, include_known=True)
    marked = {c.smiles: c.known for c in both}
    assert marked == {evals[0].smiles: "approved drug Nilotinib", evals[1].smiles: None}
    assert inchikey(evals[0].smiles) in known


def test_novelty_is_an_objective_and_admet_columns_get_a_domain_check():
    from litmol.predictors.api import known_properties
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.registry import list_predictors

    objs = parse_objectives(["novelty>=0.4", "hERG max"], list(known_properties(list_predictors())))
    silane, caffeine = Scorer(objs, alerts="none").evaluate(["C[Si](C)(C)C#C[Si](C)(C)C",
                                                             "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"])
    assert caffeine.properties["novelty"] == pytest.approx(0.0) and not caffeine.feasible  # an approved drug
    assert silane.properties["novelty"] >= 0.4 and silane.feasible
    # admet-ai has no domain model: far from every approved drug is outside it, flagged and halved
    assert silane.drug_similarity < 0.25 and silane.out_of_domain == ["hERG"] and silane.proxy_domain == ["hERG"]
    assert silane.desirability["hERG max"] == pytest.approx(0.5 * silane.properties["hERG"], abs=1e-6)
    assert caffeine.out_of_domain == [] and caffeine.desirability["hERG max"] == pytest.approx(
        caffeine.properties["hERG"], abs=1e-6)


def test_an_interrupted_run_keeps_the_best_so_far(tmp_path, capsys, monkeypatch):
    stop_after = DesignConfig(n=3, budget=2000, min_similarity=0.3, random_seed=1)
    generations = []
    result = propose(["aspirin"], ["qed>=0.4"], stop_after, on_generation=generations.append,
                     should_stop=lambda: len(generations) >= 2)
    assert result.interrupted and result.calls < 2000 and len(generations) == 2 and result.candidates

    import mol_ga.graph_ga.gen_candidates as gen  # Ctrl-C in the middle of a generation, through the CLI

    real, calls = gen.graph_ga_blended_generation, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gen, "graph_ga_blended_generation", interrupted)
    out = tmp_path / "best.csv"
    assert main(["propose", "--seed", "aspirin", "--objective", "qed>=0.4", "--min-similarity", "0.3",
                 "--budget", "2000", "-n", "3", "-q", "--output", str(out)]) == 0
    assert "interrupted: best so far" in capsys.readouterr().err
    import csv

    rows = list(csv.DictReader(out.open()))
    assert rows and all(float(r["qed"]) >= 0.4 and Chem.MolFromSmiles(r["smiles"]) for r in rows)
    assert "d_qed>=0.4" in rows[0] and "alerts" in rows[0]


def test_alerts_filter_and_domain_flags():
    rhodanine = "O=C1NC(=S)SC1=Cc1ccccc1"  # a PAINS ene-rhodanine
    aspirin, caffeine = "CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"  # aspirin: a Brenk phenol ester
    bad, brenk, good = Scorer([], alerts="core").evaluate([rhodanine, aspirin, caffeine])
    assert bad.alerts and bad.score == 0 and not bad.feasible and good.feasible and good.score > 0
    assert brenk.alerts == ["BRENK:phenol_ester"] and not brenk.feasible
    pains_only = Scorer([], alerts="pains").evaluate([rhodanine, aspirin])
    assert not pains_only[0].feasible and pains_only[1].feasible
    unfiltered = Scorer([], alerts="none").evaluate([rhodanine])[0]
    assert unfiltered.feasible and unfiltered.all_alerts  # not filtered, still reported
    from litmol.predictors.api import known_properties
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.registry import list_predictors

    objs = parse_objectives(["bbb max"], list(known_properties(list_predictors())))
    siloxane, caffeine = Scorer(objs).evaluate(["C[Si](C)(C)O[Si](C)(C)O[Si](C)(C)C", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"])
    assert siloxane.out_of_domain == ["bbb"] and caffeine.out_of_domain == []
    assert siloxane.desirability["bbb max"] == pytest.approx(0.5 * siloxane.properties["bbb"], abs=1e-6)


def test_better_than_the_seed_holds_for_every_candidate():
    from litmol.predictors.api import predict

    result = propose(["imatinib"], ["logs>seed", "qed>=0.5"], DesignConfig(n=4, budget=200, random_seed=1))
    seed_logs = predict(["imatinib"], properties=["logs"], alerts=False)[0].properties["logs"]
    bound = result.objectives[0]
    assert (bound.prop, bound.kind, bound.basis) == ("logs", "ge", "Imatinib")
    assert bound.lo == pytest.approx(seed_logs, abs=1e-3)
    assert result.candidates and all(c.properties["logs"] >= bound.lo for c in result.candidates)
    with pytest.raises(ObjectiveError, match="give a seed"):
        propose([], ["logs>seed"], DesignConfig(budget=50))


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


def test_a_checkpointed_run_stopped_and_started_again_ends_as_an_uninterrupted_one(tmp_path):
    import random

    from rdkit.Chem import QED

    from litmol.predictors.design.engine import run_ga
    from litmol.predictors.design.pool import pool_sample

    def qed(smiles: list[str]) -> list[float]:
        return [QED.qed(Chem.MolFromSmiles(s)) for s in smiles]

    config = DesignConfig(population_size=60, offspring_size=40)
    start = pool_sample(60, seed=5)
    whole = run_ga(qed, start, 300, random.Random(7), config)
    ckpt = tmp_path / "ga.json"
    gens = []
    part = run_ga(qed, start, 300, random.Random(7), config, on_generation=gens.append,
                  should_stop=lambda: len(gens) >= 2, checkpoint=ckpt, checkpoint_seconds=0)
    assert part.interrupted and len(part.scores) < 300 and ckpt.exists()
    rest = run_ga(qed, start, 300, random.Random(999), config, checkpoint=ckpt)  # the saved RNG state wins
    assert list(rest.scores.items()) == list(whole.scores.items()) and not rest.interrupted
    assert [g.calls for g in rest.generations] == [g.calls for g in whole.generations]
    with pytest.raises(DesignError, match="different run"):
        run_ga(qed, start, 400, random.Random(7), config, checkpoint=ckpt)
    ckpt.write_text("{not json")
    with pytest.raises(DesignError, match="unreadable"):
        run_ga(qed, start, 300, random.Random(7), config, checkpoint=ckpt)


def test_the_moses_pool_starts_from_moses_molecules():
    import random

    from litmol.predictors.design.pool import moses_smiles, starting_population

    start = starting_population([], 20, random.Random(0), pool="moses")
    assert len(moses_smiles()) > 1_500_000 and set(start) <= set(moses_smiles())
    with pytest.raises(DesignError, match="unknown pool"):
        starting_population([], 5, random.Random(0), pool="chembl")
