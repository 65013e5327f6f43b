"""Typed prediction rows: the JSON contract (`to_dict`) and its inverse (`from_dict`) on real predictions."""

from __future__ import annotations

import json
import pickle

import pytest

from litmol.predictors import Alert, PredictionRow, predict_inputs
from litmol.predictors.service.schemas import PredictionRow as PredictionRowSchema

KEYS = ["input", "smiles", "valid", "error", "properties", "alerts", "name", "resolved_by"]


@pytest.fixture(scope="module")
def rows() -> list[PredictionRow]:
    # a drug name, a bad SMILES, a misspelt name with no match (suggestions), a PAINS hit, an empty input
    return predict_inputs(["aspirin", "C1CC", "zorblaxitol", "O=C1NC(=S)SC1=Cc1ccccc1", ""],
                          predictors=["rdkit", "logs"])


def test_to_dict_is_the_documented_json_in_its_key_order(rows):
    aspirin, bad, unknown, rhodanine, empty = (row.to_dict() for row in rows)
    assert list(aspirin) == KEYS and list(bad) == KEYS and list(unknown) == [*KEYS, "suggestions"]
    assert aspirin["name"] == "Acetylsalicylic acid" and aspirin["resolved_by"] == "name (exact)"
    assert aspirin["properties"]["mw"] == pytest.approx(180.16, abs=0.01) and "logs_std" in aspirin["properties"]
    assert aspirin["alerts"] == [{"catalog": "BRENK", "name": "phenol_ester"}]
    assert bad == {"input": "C1CC", "smiles": None, "valid": False, "error": bad["error"], "properties": {},
                   "alerts": [], "name": None, "resolved_by": None}
    assert "cannot parse" in bad["error"]
    assert "Sorbitol" in unknown["suggestions"] and not unknown["valid"]
    assert any(a["catalog"] == "PAINS" for a in rhodanine["alerts"])
    assert empty["valid"] is False and empty["error"]


def test_from_dict_inverts_to_dict_through_json(rows):
    text = json.dumps([row.to_dict() for row in rows], ensure_ascii=False)
    back = [PredictionRow.from_dict(item) for item in json.loads(text)]
    assert back == rows
    assert json.dumps([row.to_dict() for row in back], ensure_ascii=False) == text  # byte for byte
    assert all(isinstance(a, Alert) for row in back for a in row.alerts)


def test_the_service_schema_accepts_exactly_to_dict(rows):
    for row in rows:
        data = row.to_dict()
        assert PredictionRowSchema.model_validate(data).model_dump(exclude_none=False, exclude_unset=True) == data


def test_rows_cross_processes_and_alerts_read_as_labels(rows):
    assert pickle.loads(pickle.dumps(rows)) == rows  # worker processes hand rows back pickled
    assert rows[0].alerts[0].label == "BRENK:phenol_ester"
    with pytest.raises(AttributeError):
        rows[0].alerts[0].name = "other"  # alerts are values
