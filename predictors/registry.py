"""Predictors by name: `rdkit` (descriptors, rules, alerts), `admet` (admet-ai), trained models.

A predictor takes a list of RDKit molecules and returns one dict of properties per molecule,
in order. Registering a new one is one class and one decorator line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from .descriptors import DESCRIPTORS, PropertyInfo
from .errors import UnknownPredictorError


class Predictor(Protocol):
    name: str

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
    from . import admet  # noqa: F401  (registers "admet")

    global _TRAINED_LOADED
    if not _TRAINED_LOADED:
        _TRAINED_LOADED = True
        from .trained_models import register_trained_models

        register_trained_models()


def model_dirs() -> list[Path]:
    """Where trained models are looked for: the shipped ones, then $LITMOL_HOME/predictors (wins on a name clash)."""
    from litmol.settings import litmol_home

    return [Path(__file__).parent / "trained", litmol_home() / "predictors"]


def list_predictors() -> list[str]:
    """Names of every registered predictor."""
    _load_builtin()
    return sorted(PREDICTORS)


def get_predictor(name: str) -> Predictor:
    """The (cached) predictor registered as `name`; heavy models load on first predict."""
    _load_builtin()
    if name not in PREDICTORS:
        raise UnknownPredictorError(f"no predictor named {name!r}; known: {', '.join(sorted(PREDICTORS))}")
    if name not in _INSTANCES:
        _INSTANCES[name] = PREDICTORS[name]()
    return _INSTANCES[name]


@register_predictor("rdkit")
class RDKitPredictor:
    """Descriptors, Lipinski/Veber checks (alerts are reported separately)."""

    name = "rdkit"

    def properties(self) -> list[PropertyInfo]:
        return list(DESCRIPTORS)

    def predict(self, mols: Sequence[Any]) -> list[dict[str, Any]]:
        from .descriptors import compute_descriptors

        return [compute_descriptors(m) for m in mols]
