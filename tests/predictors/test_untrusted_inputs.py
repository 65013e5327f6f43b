"""Inputs a careless user or an attacker sends: look-alike characters, impossible isotopes, ring-closure
bond conflicts, real SDF records with explicit hydrogens, oversized SMILES and names (issue 15, items 4 and 6).

Every case here used to come back `valid: true` as a different molecule, or be refused for the wrong
reason with the whole input echoed back.
"""

from __future__ import annotations

import time

import pytest

from litmol.predictors import parse_molecule, predict_inputs, resolve_input
from litmol.predictors.files import read_molecule_file

IMATINIB = "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"
ATORVASTATIN = "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O"
MAX_ECHO = 60  # an error shows at most this much of the input (plus quotes and an ellipsis)


# -- item 4: look-alike SMILES ---------------------------------------------------------------------
@pytest.mark.parametrize("text, position, described, suggestion", [
    ("ССO", 1, "'С' (U+0421 CYRILLIC CAPITAL LETTER ES)", "CCO"),  # used to parse as water
    ("CCΟ", 3, "'Ο' (U+039F GREEK CAPITAL LETTER OMICRON)", "CCO"),  # as ethane
    ("🧪CCO", 1, "'🧪' (U+1F9EA TEST TUBE)", "CCO"),  # as ethanol
    ("\u200fOCC", 1, "'\\u200f' (U+200F RIGHT-TO-LEFT MARK)", "OCC"),  # as ethanol
    ("ＣＣ(＝Ｏ)Ｏ", 1, "'Ｃ' (U+FF23 FULLWIDTH LATIN CAPITAL LETTER C)", "CC(=O)O"),
    ("с1ссссс1", 1, "'с' (U+0441 CYRILLIC SMALL LETTER ES)", "c1ccccc1"),
    ("СССO", 1, "'С' (U+0421 CYRILLIC CAPITAL LETTER ES)", "CCCO"),  # all letters: not sent to the lexicon
    ("CC(=O)Oc1ccccc1C(=O)O\u200b", 22, "'\\u200b' (U+200B ZERO WIDTH SPACE)", "CC(=O)Oc1ccccc1C(=O)O"),
])
def test_non_ascii_smiles_is_refused_with_its_ascii_look_alike(text, position, described, suggestion):
    resolved = resolve_input(text)
    assert not resolved.valid and resolved.smiles is None
    assert resolved.reason == "non-ascii"
    assert f"non-ASCII character {described} at position {position}" in resolved.error
    assert resolved.error.endswith(f"did you mean {suggestion!r}?")
    parsed = parse_molecule(text)
    assert not parsed.valid and parsed.reason == "non-ascii"
    row = predict_inputs([text])[0]
    assert not row.valid and row.properties == {} and row.error == resolved.error


def test_non_ascii_without_a_molecule_behind_it_gets_no_suggestion():
    resolved = resolve_input("C☃O")
    assert resolved.reason == "non-ascii" and "U+2603 SNOWMAN" in resolved.error and "did you mean" not in resolved.error


@pytest.mark.parametrize("name, same_as", [
    ("β-carotene", "beta-carotene"),
    ("α-tocopherol", "alpha-tocopherol"),
    ("аspirin", "aspirin"),  # Cyrillic а: the name the user sees is aspirin
])
def test_drug_names_with_non_ascii_letters_still_resolve(name, same_as):
    resolved, ascii_name = resolve_input(name), resolve_input(same_as)
    assert ascii_name.valid and resolved.valid
    assert resolved.smiles == ascii_name.smiles and resolved.name == ascii_name.name
    assert resolved.how.startswith("name")


def test_unknown_greek_name_is_an_unknown_name():
    resolved = resolve_input("ω-zorblaxitol")
    assert not resolved.valid and resolved.reason == "unknown name" and "neither" in resolved.error


@pytest.mark.parametrize("text, mass", [
    ("[999999C]", "999999"),  # used to become [16959C], MW 16,959
    ("[65549C]CO", "65549"),  # wraps round to 13 in RDKit: it used to pass as [13C]
    ("[30C]CO", "30"),  # no such carbon isotope
    ("CC[1O]", "1"),
    ("[0C]CO", "0"),  # RDKit reads mass number 0 as "no isotope"
    ("[400U]", "400"),
])
def test_impossible_isotopes_are_refused(text, mass):
    resolved = resolve_input(text)
    assert not resolved.valid and resolved.reason == "isotope", resolved.error
    assert f"mass number {mass}" in resolved.error


@pytest.mark.parametrize("text, expected", [
    ("[13CH3]CO", "[13CH3]CO"),
    ("[2H]C([2H])([2H])Oc1ccccc1", "[2H]C([2H])([2H])Oc1ccccc1"),
    ("OC[C@H]1O[C@@H](O)[C@H]([18F])[C@@H](O)[C@@H]1O", "OC[C@H]1O[C@@H](O)[C@H]([18F])[C@@H](O)[C@@H]1O"),
    ("[125I]c1ccc(O)cc1", "Oc1ccc([125I])cc1"),
    ("[14CH3]C(=O)O", "[14CH3]C(=O)O"),
])
def test_real_isotopes_are_kept(text, expected):
    resolved = resolve_input(text)
    assert resolved.valid and resolved.smiles == expected


@pytest.mark.parametrize("text", ["C=1CCCCC#1", "C#1CCCCC=1", "c:1ccccc-1", "C=%10CCCCC#%10", "C=%(123)CCCCC#%(123)"])
def test_ring_closure_with_conflicting_bonds_is_refused(text):
    resolved = resolve_input(text)
    assert not resolved.valid and resolved.reason == "ring closure", resolved
    assert "conflicting bonds" in resolved.error


@pytest.mark.parametrize("text", ["C1CCCCC=1", "C=1CCCCC1", "C=1CCCCC=1", "C=%10CCCCC%10"])
def test_ring_closure_bond_on_one_or_both_matching_sides_is_legal(text):
    assert resolve_input(text).smiles == "C1=CCCCC1"


def test_bracket_atoms_and_two_digit_rings_do_not_confuse_the_ring_check():
    assert resolve_input("[C@@H]12CC[C@H](CC1)C2").valid
    assert resolve_input("C%12CC%13CC%12CC%13").valid
    assert resolve_input(IMATINIB).valid and resolve_input(ATORVASTATIN).valid


# -- item 6: SDF records and oversized inputs -------------------------------------------------------
def molblock_3d_with_hydrogens(smiles: str) -> str:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=7) == 0
    return Chem.MolToMolBlock(mol)


@pytest.mark.parametrize("smiles, mw", [(IMATINIB, 493.62), (ATORVASTATIN, 558.65)])
def test_sdf_records_with_explicit_3d_hydrogens_are_read(tmp_path, smiles, mw):
    block = molblock_3d_with_hydrogens(smiles)
    assert len(block) > 5_000  # longer than the SMILES cap that used to refuse it
    parsed = parse_molecule(block)
    assert parsed.valid, parsed.error
    assert parsed.smiles == parse_molecule(smiles).smiles
    sdf = tmp_path / "drug.sdf"
    sdf.write_text(block + ">  <NAME>\nβ-drug\n\n$$$$\n")  # a data field, non-ASCII included
    rows, texts, column = read_molecule_file(sdf)
    result = predict_inputs(texts)[0]
    assert column == "molblock" and result.valid and result.resolved_by == "molblock"
    assert result.properties["mw"] == pytest.approx(mw, abs=0.01)


def test_molblock_with_too_many_atoms_is_refused_by_atom_count():
    from rdkit import Chem

    polymer = Chem.AddHs(Chem.MolFromSmiles("C" * 400))  # 1,202 atoms
    parsed = parse_molecule(Chem.MolToMolBlock(polymer))
    assert not parsed.valid and parsed.reason == "too large" and "atoms" in parsed.error


def test_molblock_bytes_are_capped_well_above_real_records():
    block = molblock_3d_with_hydrogens(IMATINIB)
    huge = block.replace("M  END", "M  END\n" + ("> <NOTE>\n" + "x" * 200 + "\n\n") * 20_000)  # ~4 MB
    parsed = parse_molecule(huge)
    assert not parsed.valid and parsed.reason == "too large" and len(parsed.error) < 200


def test_a_20000_character_smiles_is_too_large_with_a_short_echo():
    text = "C" * 20_000
    start = time.perf_counter()
    resolved = resolve_input(text)
    assert time.perf_counter() - start < 0.5
    assert not resolved.valid and resolved.reason == "too large"
    assert "SMILES" in resolved.error and "20,000 characters" in resolved.error
    assert "C" * (MAX_ECHO + 1) not in resolved.error and len(resolved.error) < 200


@pytest.mark.parametrize("text", [
    "aspirin " * 2_000,  # name-like, 16,000 characters
    "x" * 3_000_000,  # one long word
    "metformin (" * 1_000,  # unbalanced brackets used to make the name normaliser quadratic
])
def test_long_name_like_inputs_are_refused_before_fuzzy_matching(text):
    start = time.perf_counter()
    resolved = resolve_input(text)
    assert time.perf_counter() - start < 0.5
    assert not resolved.valid and resolved.reason == "too large"
    assert len(resolved.error) < 200 and not resolved.suggestions


def test_errors_echo_only_a_short_prefix():
    garbage = "xq#bad" * 100
    for text in (garbage, "C1CC" + "C" * 300, "[" * 300, "С" * 300):
        error = resolve_input(text).error
        assert error and len(error) < 250, error
        assert text[:MAX_ECHO + 1] not in error
