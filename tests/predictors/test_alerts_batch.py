"""Alert screening gives exactly the unscreened catalogs' answer; alert modes; parallel batches."""

from __future__ import annotations

import csv
import os

import pytest

from litmol.predictors import api
from litmol.predictors.api import predict_inputs
from litmol.predictors.chem.alerts import find_alerts
from litmol.predictors.chem.mol import to_mol
from litmol.settings import PredictorSettings
from tests.conftest import DATA


def _real_molecules(n: int = 150) -> list[str]:
    """Approved drugs from the lexicon plus the test file's molecules (PAINS, salts, names)."""
    from litmol.predictors.chem.lexicon import default_lexicon

    drugs = [e.smiles for e in default_lexicon().entries[:n]]
    with (DATA / "molecules.csv").open() as fh:
        return drugs + [row["smiles"] for row in csv.DictReader(fh)]


def test_screen_matches_every_alert_unscreened():
    mols = [m for m in (to_mol(s) for s in _real_molecules()) if m is not None]
    assert len(mols) > 150
    hits = 0
    for mol in mols:
        screened = find_alerts(mol, include_medchem=True)
        assert screened == find_alerts(mol, include_medchem=True, screen=False)
        hits += len(screened)
    assert hits > 100  # the comparison saw real matches, not only empty lists


def test_alert_modes():
    rhodanine = "O=C1NC(=S)SC1=Cc1ccccc1"
    core, full, none = (predict_inputs([rhodanine], alerts=m)[0].alerts for m in ("core", "all", "none"))
    assert {a.catalog for a in core} <= {"PAINS", "BRENK", "NIH"} and any(a.catalog == "PAINS" for a in core)
    assert core == full[:len(core)] and any(a.catalog.startswith("medchem:") for a in full)
    assert none == []
    with pytest.raises(ValueError, match="alerts must be one of"):
        predict_inputs([rhodanine], alerts="some")


def test_parallel_batch_equals_serial(monkeypatch):
    texts = (_real_molecules(120) * 5)[:600] + ["C1CC", "", "asprin"]
    serial = predict_inputs(texts, settings=PredictorSettings(workers=1))
    monkeypatch.setenv("LITMOL_PREDICT_WORKERS", "2")  # the default settings read it
    assert api._workers(None) == 2
    parallel = predict_inputs(texts)
    assert parallel == serial
    assert [r.input for r in parallel] == texts
    assert parallel[-3].valid is False and parallel[-1].name == "Acetylsalicylic acid"
    assert parallel[-3].suggestions == [] and "asprin" in parallel[-1].input
    assert os.environ["LITMOL_PREDICT_WORKERS"] == "2"


def test_screened_qed_equals_rdkit_qed():
    from rdkit.Chem import QED

    from litmol.predictors.chem.descriptors import compute_descriptors

    mols = [m for m in (to_mol(s) for s in _real_molecules(300)) if m is not None]
    assert all(compute_descriptors(m)["qed"] == round(QED.qed(m), 3) for m in mols)
