"""Name -> structure lookups on real drug names, synonyms, salts and typos."""

from __future__ import annotations

import pytest

from predictors import default_lexicon, predict_inputs, resolve_input


@pytest.mark.parametrize("query, expected_smiles", [
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("Acetylsalicylic Acid", "CC(=O)Oc1ccccc1C(=O)O"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("metformin hydrochloride", "CN(C)C(=N)N=C(N)N"),
    ("IMATINIB MESYLATE", None),
    ("Gleevec", None),
])
def test_exact_and_synonym_lookups(query, expected_smiles):
    match = default_lexicon().lookup(query)
    assert match.entry is not None and match.confidence == 1.0
    if expected_smiles:
        from predictors import parse_molecule

        assert match.entry.smiles == parse_molecule(expected_smiles).smiles
    if query.lower() in {"imatinib mesylate", "gleevec"}:
        assert match.entry.name == "Imatinib"


def test_typo_is_fuzzy_with_confidence():
    match = default_lexicon().lookup("atorvastatn")
    assert match.entry is not None and match.entry.name == "Atorvastatin"
    assert match.method == "fuzzy" and 0.86 <= match.confidence < 1.0


def test_unknown_name_gives_did_you_mean():
    match = default_lexicon().lookup("metforman")
    assert match.entry is not None and match.entry.name == "Metformin"
    nothing = default_lexicon().lookup("zorblaxitol")
    assert nothing.entry is None and nothing.suggestions


def test_ester_is_not_a_salt():
    match = default_lexicon().lookup("medroxyprogesterone acetate")
    assert match.entry.name.lower() == "medroxyprogesterone acetate"


def test_racemate_keeps_plain_name():
    assert default_lexicon().lookup("ibuprofen").entry.name == "Ibuprofen"


def test_resolution_order_smiles_then_name():
    assert resolve_input("CCO").how == "smiles"
    assert resolve_input("aspirin").how == "name (exact)"
    bad = resolve_input("zorblaxitol")
    assert not bad.valid and bad.reason == "unknown name" and "did you mean" in bad.error


def test_batch_keeps_order_and_bad_rows():
    rows = predict_inputs(["aspirin", "C1CC", "CCO", "zorblaxitol", ""])
    assert [r["input"] for r in rows] == ["aspirin", "C1CC", "CCO", "zorblaxitol", ""]
    assert [r["valid"] for r in rows] == [True, False, True, False, False]
    assert rows[0]["properties"]["mw"] == pytest.approx(180.16, abs=0.01)
    assert rows[0]["name"] == "Acetylsalicylic acid"
    assert rows[1]["error"] and rows[1]["properties"] == {}
    assert rows[2]["properties"]["heavy_atoms"] == 3
    only = predict_inputs(["CCO"], properties=["mw", "tpsa"])
    assert set(only[0]["properties"]) == {"mw", "tpsa"}


def test_smiles_like_errors_are_chemistry_errors():
    bad = resolve_input("C1CC")
    assert bad.reason == "unparsable" and "did you mean" not in bad.error
    assert resolve_input("ASPIRIN").name == "Acetylsalicylic acid"
