"""Name -> structure lookups on real drug names, synonyms, salts and typos."""

from __future__ import annotations

import pytest

from litmol.predictors import default_lexicon, predict_inputs, resolve_input


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
        from litmol.predictors import parse_molecule

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
    assert [r.input for r in rows] == ["aspirin", "C1CC", "CCO", "zorblaxitol", ""]
    assert [r.valid for r in rows] == [True, False, True, False, False]
    assert rows[0].properties["mw"] == pytest.approx(180.16, abs=0.01)
    assert rows[0].name == "Acetylsalicylic acid"
    assert rows[1].error and rows[1].properties == {}
    assert rows[2].properties["heavy_atoms"] == 3
    only = predict_inputs(["CCO"], properties=["mw", "tpsa"])
    assert set(only[0].properties) == {"mw", "tpsa"}


def test_smiles_like_errors_are_chemistry_errors():
    bad = resolve_input("C1CC")
    assert bad.reason == "unparsable" and "did you mean" not in bad.error
    assert resolve_input("ASPIRIN").name == "Acetylsalicylic acid"


# Salts whose organic counter-ion outweighs the drug used to be merged on the counter-ion
# (olanzapine pamoate + imipramine pamoate -> pamoic acid); the builder now strips the counter-ion first.
@pytest.mark.parametrize("query, inchikey", [
    ("olanzapine", "KVWDHTXUZHCGIO"),
    ("olanzapine pamoate", "KVWDHTXUZHCGIO"),
    ("zyprexa", "KVWDHTXUZHCGIO"),
    ("imipramine pamoate", "BCGWQEUPMDMJNV"),
    ("tafamidis", "TXEIIPDJKFWEEC"),
    ("tafamidis meglumine", "TXEIIPDJKFWEEC"),
    ("iothalamate meglumine", "UXIGWFXRQKWHHA"),
    ("meglumine", "MBBZMMPHUWSWHV"),
    ("piperazine citrate", "GLUUGHFHXGJENI"),
    ("citric acid", "KRKNYBCHXYNGOX"),
    ("fosfomycin tromethamine", "YMDXZJFXQJVXBF"),
    ("cysteamine bitartrate", "UFULAYFCSOUIOV"),
    ("oxtriphylline", "ZFXYFBGIUFBOJW"),
    ("choline salicylate", "YGSDEFSMJLZEOE"),
    ("choline", "OEYIOHPDSNJKLS"),
    ("diphenhydramine", "ZZVUWRFHKOJYTH"),
    ("dimenhydrinate", "ZZVUWRFHKOJYTH"),
])
def test_salts_resolve_to_the_drug_not_the_counter_ion(query, inchikey):
    from rdkit import Chem

    match = default_lexicon().lookup(query)
    assert match.entry is not None and match.confidence == 1.0
    assert match.entry.inchikey.startswith(inchikey)
    resolved = resolve_input(query)
    assert resolved.valid and Chem.MolToInchiKey(resolved.mol).startswith(inchikey)


def test_parent_is_named_after_the_plain_drug():
    entry = default_lexicon().lookup("diphenhydramine").entry
    assert entry.name == "Diphenhydramine" and "Dimenhydrinate" in entry.names
    assert default_lexicon().lookup("olanzapine").entry.name == "Olanzapine"


# distinct drugs that share a counter-ion (pamoate, meglumine, citrate, tromethamine, tartrate, choline)
DISTINCT_DRUGS = ["olanzapine", "imipramine", "hydroxyzine", "tafamidis", "iothalamate", "meglumine", "piperazine",
                  "citric acid", "fosfomycin", "tromethamine", "cysteamine", "tartaric acid", "choline",
                  "oxtriphylline", "betaine", "chloral betaine", "trolamine", "trolamine salicylate"]


def test_no_entry_merges_drugs_that_share_a_counter_ion():
    from litmol.predictors.chem.lexicon import normalize_name

    merged = []
    for entry in default_lexicon().entries:
        names = {normalize_name(n, strip_salts=False) for n in entry.names}
        found = [d for d in DISTINCT_DRUGS if d in names]
        if len(found) > 1:
            merged.append((entry.name, found))
    assert not merged


def test_counter_ions_are_stripped_only_when_an_organic_fragment_remains():
    from litmol.predictors.chem.lexicon_build import strip_counter_ions

    assert strip_counter_ions("C1CNCCN1.OC(=O)CC(O)(CC(=O)O)C(=O)O")[0] == "C1CNCCN1"
    potassium_citrate = "OC(=O)CC(O)(CC(=O)[O-])C(=O)[O-].[K+].[K+]"
    assert strip_counter_ions(potassium_citrate)[0] == potassium_citrate
    # salicylate is the drug in choline salicylate; choline is the counter-ion
    assert strip_counter_ions("C[N+](C)(C)CCO.O=C([O-])c1ccccc1O")[0] == "O=C([O-])c1ccccc1O"
    assert strip_counter_ions("CC(=O)Oc1ccccc1C(=O)O") == ("CC(=O)Oc1ccccc1C(=O)O", 1)
