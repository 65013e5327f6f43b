"""Predictors by name: `rdkit` (descriptors, rules, alerts), `admet` (admet-ai), trained models.

A predictor takes a list of RDKit molecules and returns one dict of properties per molecule,
in order. Registering a new one is one class and one decorator line.

The agent's predict tool may request only `agent_property_names()`: its grammar is built from them,
so they must not change with what a user trains (see AGENT_PREDICTORS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .chem.descriptors import DESCRIPTORS, PropertyInfo
from .errors import UnknownPredictorError, quoted_names

logger = logging.getLogger(__name__)


class Predictor(Protocol):
    name: str
    agent_properties: tuple[str, ...]  # what the agent's tool may request of it (may be empty)

    def properties(self) -> list[PropertyInfo]: ...

    def predict(self, mols: Sequence[Any]) -> list[dict[str, Any]]: ...


PREDICTORS: dict[str, Callable[[], Predictor]] = {}


def register_predictor(name: str) -> Callable[[Callable[[], Predictor]], Callable[[], Predictor]]:
    """Decorator: make a predictor factory (usually the class) available under `name`."""

    def wrap(factory: Callable[[], Predictor]) -> Callable[[], Predictor]:
        PREDICTORS[name] = factory
        return factory

    return wrap


_INSTANCES: dict[str, Predictor] = {}


_TRAINED_LOADED = False


def _load_builtin() -> None:
    from .ml import admet  # noqa: F401  (registers "admet")

    global _TRAINED_LOADED
    if not _TRAINED_LOADED:
        _TRAINED_LOADED = True
        from .ml.trained_models import register_trained_models

        register_trained_models()


def model_dirs() -> list[Path]:
    """Where trained models are looked for: the shipped ones, then $LITMOL_HOME/predictors (wins on a name clash)."""
    from litmol.settings import litmol_home

    return [Path(__file__).parent / "trained", litmol_home() / "predictors"]


# The predictors whose properties the agent's predict tool may request, in the order its schema lists
# them: the shipped ones only (rdkit, the shipped trained models, admet), so a user's own models never
# change the model's grammar. Of each, the agent sees the properties it names in `agent_properties`:
# the ones a question in plain words asks for (the tool adds the _std/_in_domain companions itself).
AGENT_PREDICTORS = ("rdkit", "logs", "logd", "bbb", "admet")
# Predicted when the agent names no property: everything but admet (41 Chemprop ensembles to load).
AGENT_DEFAULT_PREDICTORS = ("rdkit", "logs", "logd", "bbb")


def agent_property_names(predictors: Sequence[str] = AGENT_PREDICTORS) -> tuple[str, ...]:
    """The property names the agent may request, of `predictors` (a subset of AGENT_PREDICTORS), in
    order. Cheap: no model or endpoint table loads. A predictor that is not installed is skipped."""
    names: list[str] = []
    for name in predictors:
        if name not in AGENT_PREDICTORS:
            raise UnknownPredictorError(f"{quoted_names([name])} is not an agent predictor; those are {', '.join(AGENT_PREDICTORS)}")
        try:
            names += get_predictor(name).agent_properties
        except UnknownPredictorError:
            logger.warning("predictor %r is missing: the agent cannot request its properties", name)
    return tuple(names)


def list_predictors() -> list[str]:
    """Names of every registered predictor."""
    _load_builtin()
    return sorted(PREDICTORS)


def get_predictor(name: str) -> Predictor:
    """The (cached) predictor registered as `name`; heavy models load on first predict."""
    _load_builtin()
    if name not in PREDICTORS:
        raise UnknownPredictorError(f"no predictor named {quoted_names([name])}; known: {', '.join(sorted(PREDICTORS))}")
    if name not in _INSTANCES:
        _INSTANCES[name] = PREDICTORS[name]()
    return _INSTANCES[name]


@register_predictor("rdkit")
class RDKitPredictor:
    """Descriptors, Lipinski/Veber checks (alerts are reported separately)."""

    name = "rdkit"
    agent_properties = ("mw", "clogp", "tpsa", "hbd", "hba", "qed", "lipinski_pass")

    def properties(self) -> list[PropertyInfo]:
        return list(DESCRIPTORS)

    def predict(self, mols: Sequence[Any]) -> list[dict[str, Any]]:
        from .chem.descriptors import compute_descriptors

        return [compute_descriptors(m) for m in mols]
