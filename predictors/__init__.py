"""Molecular property predictors: parsing and standardization, name -> structure lexicon,
descriptors and structural alerts, a predictor registry, and batch prediction.

Public API:
    predict_inputs(inputs, properties=None, predictors=("rdkit",))  -> list of result dicts
    parse_molecule, to_mol, resolve_input                           molecules from text
    DrugLexicon, default_lexicon                                    name lookup with fuzzy matching
    PREDICTORS, register_predictor, get_predictor                   the registry
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidMoleculeError, PredictorError, UnknownPredictorError

_LAZY = {
    "predict_inputs": "api", "parse_molecule": "mol", "to_mol": "mol", "resolve_input": "resolve",
    "DrugLexicon": "lexicon", "default_lexicon": "lexicon", "PREDICTORS": "registry",
    "register_predictor": "registry", "get_predictor": "registry", "list_predictors": "registry", "find_alerts": "descriptors",
    "compute_descriptors": "descriptors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)


__all__ = ["InvalidMoleculeError", "PredictorError", "UnknownPredictorError", *_LAZY]
