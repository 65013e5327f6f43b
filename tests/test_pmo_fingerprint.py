"""bench/pmo/fast_pharm2d.py, the numpy build of RDKit's Gobbi 2D pharmacophore fingerprint that the PMO
hop runs score with: it must set exactly the bits RDKit's own Gen2DFingerprint sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D, Utils

PATH = Path(__file__).resolve().parents[1] / "bench" / "pmo" / "fast_pharm2d.py"


@pytest.fixture(scope="module")
def fast():
    spec = importlib.util.spec_from_file_location("fast_pharm2d", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fast_pharm2d"] = module
    spec.loader.exec_module(module)
    return module


# Real molecules from small to large (the GA's hop populations reach 80-280 heavy atoms), a salt
# (two fragments: no path between them), one with no pharmacophore feature, one with a single feature,
# and long chains.
MOLECULES = {
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "rifampicin": "COC1C=COC2(C)Oc3c(C)c(O)c4c(O)c(c(C=NN5CCN(C)CC5)c(O)c4c3C2=O)NC(=O)C(C)=CC=CC(C)C(O)"
                  "C(C)C(O)C(C)C(OC(C)=O)C1C",
    "paclitaxel": "CC(=O)OC1C(=O)C2(C)C(O)CC3OCC3(OC(C)=O)C2C(OC(=O)c2ccccc2)C2(O)CC(OC(=O)C(O)C(NC(=O)c3ccccc3)"
                  "c3ccccc3)C(C)=C1C2(C)C",
    "cyclosporin": "CCC1NC(=O)C(C(O)C(C)CC=CC)N(C)C(=O)C(C(C)C)N(C)C(=O)C(CC(C)C)N(C)C(=O)C(CC(C)C)N(C)C(=O)"
                   "C(C)NC(=O)C(C)NC(=O)C(CC(C)C)N(C)C(=O)C(C(C)C)NC(=O)C(CC(C)C)N(C)C(=O)CN(C)C1=O",
    "sodium salicylate": "O=C([O-])c1ccccc1O.[Na+]",
    "methane": "C",
    # an amine and an acid 98-101 bonds apart along a chain that is no pharmacophore feature:
    # distances on the edge of the last bin (8-100)
    **{f"chain {k}": "N" + "C(=C)" * k + "C(=O)O" for k in range(96, 100)},
    "benzene": "c1ccccc1",
}


def test_bit_function_matches_rdkit_for_every_small_triangle(fast):
    """Order, base and scaffold index against SigFactory.GetBitIdx for every distance and
    triangle below 20, on each repeat pattern of features."""
    same, compared = fast.check_bits(Gobbi_Pharm2D.factory, top=20)
    assert compared > 10_000
    assert same == compared


def test_the_bin_shortcut_rests_on_properties_that_hold_for_every_distance_triple(fast):
    """_bits_by_bins is exact only if RDKit's triangle bits depend on the three distance bins alone and
    not on which match of one family sits where: checked on every triple in [2, 100)^3."""
    holding, checked = fast.check_bin_properties()
    assert checked == 4 * 98 ** 3 and holding == checked


def test_counts_and_other_bins_take_the_enumerating_path_and_match_rdkit(fast, monkeypatch):
    from rdkit.Chem.Pharm2D.SigFactory import SigFactory

    monkeypatch.setattr(Utils, "GetUniqueCombinations", Utils.GetUniqueCombinations_new)
    mol = Chem.MolFromSmiles(MOLECULES["imatinib"])
    counting = SigFactory(Gobbi_Pharm2D.factory.featFactory, minPointCount=2, maxPointCount=3, useCounts=True)
    counting.SetBins(Gobbi_Pharm2D.defaultBins)
    coarse = SigFactory(Gobbi_Pharm2D.factory.featFactory, minPointCount=2, maxPointCount=3)
    coarse.SetBins([(2, 4), (4, 8), (8, 100)])
    for factory in (counting, coarse):
        factory.Init()
        theirs = Generate.Gen2DFingerprint(mol, factory)
        ours = fast.gen_2d_fingerprint(mol, factory)
        if factory.useCounts:
            assert ours.GetNonzeroElements() == theirs.GetNonzeroElements() and max(theirs.GetNonzeroElements().values()) > 1
        else:
            assert set(ours.GetOnBits()) == set(theirs.GetOnBits()) and len(ours.GetOnBits()) > 20


@pytest.mark.parametrize("name", MOLECULES)
def test_fingerprint_sets_rdkit_bits(fast, name, monkeypatch):
    monkeypatch.setattr(Utils, "GetUniqueCombinations", Utils.GetUniqueCombinations_new)
    mol = Chem.MolFromSmiles(MOLECULES[name])
    theirs = set(Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory).GetOnBits())
    ours = set(fast.gen_2d_fingerprint(mol, Gobbi_Pharm2D.factory).GetOnBits())
    assert ours == theirs
    if name in ("imatinib", "cyclosporin"):
        assert len(ours) > 50  # a real comparison, not two empty fingerprints


def test_install_swaps_what_generate_calls_and_bit_info_still_goes_to_rdkit(fast, monkeypatch):
    monkeypatch.setattr(Generate, "Gen2DFingerprint", Generate.Gen2DFingerprint)  # restored afterwards
    rdkit_build = Generate.Gen2DFingerprint
    fast.install()
    assert Generate.Gen2DFingerprint is fast.gen_2d_fingerprint
    mol = Chem.MolFromSmiles(MOLECULES["imatinib"])
    info: dict = {}
    bits = set(Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory, bitInfo=info).GetOnBits())
    assert info and set(info) == bits  # bitInfo is only filled by RDKit's own loop
    assert bits == set(rdkit_build(mol, Gobbi_Pharm2D.factory).GetOnBits())
