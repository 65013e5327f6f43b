"""The registry: the agent-facing property names it derives, and device settings reaching the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from litmol.predictors import registry
from litmol.predictors.api import known_properties
from litmol.predictors.errors import UnknownPredictorError
from litmol.predictors.ml.models import EnsembleModel, torch_device
from litmol.predictors.ml.trained_models import TrainedPredictor, register_trained_models
from litmol.settings import PredictorSettings

# the agent's grammar depends on these names and their order: changing them changes what the model sees
AGENT_NAMES = ("mw", "clogp", "tpsa", "hbd", "hba", "qed", "lipinski_pass", "logs", "logd", "bbb", "hERG",
               "AMES", "DILI", "ClinTox", "Caco2_Wang", "HIA_Hou", "CYP3A4_Veith", "CYP2D6_Veith",
               "PPBR_AZ", "Half_Life_Obach", "LD50_Zhu")
SHIPPED = Path(registry.__file__).parent / "trained"


def test_agent_property_names_are_the_grammar_and_exist_in_the_registry():
    names = registry.agent_property_names()
    assert names == AGENT_NAMES
    table = known_properties(registry.list_predictors())
    assert [table[n] for n in names] == ["rdkit"] * 7 + ["logs", "logd", "bbb"] + ["admet"] * 11
    assert registry.agent_property_names(registry.AGENT_DEFAULT_PREDICTORS) == AGENT_NAMES[:10]
    with pytest.raises(UnknownPredictorError, match="not an agent predictor"):
        registry.agent_property_names(["colour"])


def test_the_agent_tool_is_built_from_the_registry():
    import typing

    from litmol.agent.tools import PREDICT_DEFAULT, PropertyName

    assert typing.get_args(PropertyName) == AGENT_NAMES and AGENT_NAMES[:10] == PREDICT_DEFAULT


def test_a_users_model_does_not_change_the_agent_names(tmp_path):
    shutil.copytree(SHIPPED / "logd", tmp_path / "mine")
    meta = (tmp_path / "mine" / "meta.json")
    meta.write_text(meta.read_text().replace('"name": "logd"', '"name": "mylogd"', 1))
    try:
        assert register_trained_models([tmp_path]) == ["mylogd"]
        assert "mylogd" in registry.list_predictors()
        assert registry.agent_property_names() == AGENT_NAMES
    finally:
        registry.PREDICTORS.pop("mylogd", None)


def test_devices_come_from_settings_or_the_caller(monkeypatch):
    assert torch_device("cpu") == "cpu" and torch_device("auto") in {"cpu", "cuda"}
    model = TrainedPredictor(SHIPPED / "logs", {"name": "logs", "unit": "log(mol/L)"}, device="cpu").model()
    assert model.device == "cpu"
    monkeypatch.setenv("LITMOL_PREDICTOR_DEVICE", "cpu")  # what the service exports to its workers
    assert EnsembleModel.load(SHIPPED / "logs").device == "cpu"
    assert EnsembleModel(model.meta, model.tensors, settings=PredictorSettings(device="cpu")).device == "cpu"
