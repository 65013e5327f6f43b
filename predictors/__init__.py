"""Molecular property predictors: parsing and standardization, name -> structure lexicon,
descriptors and structural alerts, a predictor registry, and batch prediction.

Layout: chem/ (parsing, resolution, descriptors, alerts, lexicon), ml/ (trained ensembles, admet-ai),
service/ (the LitServe service and its HTTP client); rows.py holds the typed results.

Public API:
    predict(inputs, properties=None, predictors=None, alerts="core", settings=None)
        -> list[PredictionRow], in-process or on the predictor service (settings.url)
    predict_inputs(...)                                             the same, always in this process
    PredictionRow, Alert                                            typed results (to_dict: the JSON)
    parse_molecule, to_mol, resolve_input                           molecules from text
    DrugLexicon, default_lexicon                                    name lookup with fuzzy matching
    PREDICTORS, register_predictor, get_predictor, list_predictors  the registry
    agent_property_names                                            what the agent's tool may request
"""

from __future__ import annotations

from litmol.lazy import lazy_getattr

from .errors import InvalidMoleculeError, PredictorError, UnknownPredictorError

_LAZY = {
    "predict": "api", "predict_inputs": "api", "PredictionRow": "rows", "Alert": "rows",
    "parse_molecule": "chem.mol", "to_mol": "chem.mol", "resolve_input": "chem.resolve",
    "DrugLexicon": "chem.lexicon", "default_lexicon": "chem.lexicon", "PREDICTORS": "registry",
    "register_predictor": "registry", "get_predictor": "registry", "list_predictors": "registry",
    "agent_property_names": "registry", "find_alerts": "chem.alerts", "compute_descriptors": "chem.descriptors",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["InvalidMoleculeError", "PredictorError", "UnknownPredictorError", *_LAZY]
