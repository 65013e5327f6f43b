"""The admet-ai predictor through our interface: all endpoints, order kept, same values as admet-ai."""

from __future__ import annotations

import pytest

from litmol.predictors import get_predictor, predict_inputs

pytestmark = pytest.mark.slow

DRUGS = {"aspirin": "CC(=O)Oc1ccccc1C(=O)O", "caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
         "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"}


def test_all_endpoints_with_units_and_percentiles():
    admet = get_predictor("admet")
    props = {p.name: p for p in admet.properties()}
    assert len(props) == 82  # 41 endpoints + 41 DrugBank percentiles
    assert props["hERG"].unit == "probability" and props["hERG_drugbank_pct"].unit == "percentile"
    assert props["Solubility_AqSolDB"].unit.startswith("log")


def test_batch_keeps_order_and_matches_admet_ai():
    from admet_ai import ADMETModel

    rows = predict_inputs(["aspirin", "C1CC", "caffeine", "imatinib"], predictors=["admet"], alerts=False)
    assert [r.valid for r in rows] == [True, False, True, True]
    assert len(rows[0].properties) == 82 and rows[1].properties == {}
    for row in rows:
        for key, value in row.properties.items():
            if key in {"hERG", "AMES", "BBB_Martins", "DILI"}:
                assert 0.0 <= value <= 1.0
    reference = ADMETModel(num_workers=0, include_physchem=False).predict(smiles=list(DRUGS.values()))
    ours = [rows[0], rows[2], rows[3]]
    for (_, ref), mine in zip(reference.iterrows(), ours, strict=True):
        assert mine.properties["hERG"] == pytest.approx(float(ref["hERG"]), abs=1e-3)
        assert mine.properties["Solubility_AqSolDB"] == pytest.approx(float(ref["Solubility_AqSolDB"]), abs=1e-3)
    # caffeine crosses the blood-brain barrier; imatinib is a known hERG liability compared with aspirin
    assert rows[2].properties["BBB_Martins"] > 0.8
    assert rows[3].properties["hERG"] > rows[0].properties["hERG"]
