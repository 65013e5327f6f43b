"""Batch prediction: inputs in, one result per input out, in order, bad rows kept with their error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .descriptors import find_alerts
from .errors import UnknownPredictorError
from .registry import get_predictor, list_predictors
from .resolve import resolve_input

logger = logging.getLogger(__name__)

DEFAULT_PREDICTORS = ("rdkit",)
MAX_BATCH = 10_000


def known_properties(predictors: Sequence[str]) -> dict[str, str]:
    """Property name -> predictor name for the given predictors."""
    return {p.name: name for name in predictors for p in get_predictor(name).properties()}


def predict_inputs(inputs: Sequence[str], properties: Sequence[str] | None = None,
                   predictors: Sequence[str] | None = None, alerts: bool = True) -> list[dict[str, Any]]:
    """Predict properties for SMILES / MOL blocks / drug names.

    Returns, per input and in input order, `{input, smiles, valid, error, properties, alerts,
    name, resolved_by}`; an input that cannot be resolved has `valid: false` and an `error`.
    `predictors` defaults to `rdkit`, or to whichever predictors provide the requested
    `properties` (unknown names raise UnknownPredictorError).
    """
    if len(inputs) > MAX_BATCH:
        raise ValueError(f"{len(inputs):,} inputs; at most {MAX_BATCH:,} per call (split the file)")
    wanted = list(predictors or (list_predictors() if properties else DEFAULT_PREDICTORS))
    for name in wanted:
        get_predictor(name)  # unknown predictor names fail before any work
    if properties:
        table = known_properties(wanted)
        unknown = [p for p in properties if p not in table]
        if unknown:
            raise UnknownPredictorError(f"unknown properties: {', '.join(unknown)}; known: {', '.join(sorted(table))}")
        wanted = [n for n in wanted if n in {table[p] for p in properties}]
    resolved = [resolve_input(text) for text in inputs]
    valid = [r for r in resolved if r.valid]
    per_predictor = {name: get_predictor(name).predict([r.mol for r in valid]) for name in wanted}
    results: list[dict[str, Any]] = []
    position = 0
    for r in resolved:
        row: dict[str, Any] = {"input": r.input, "smiles": r.smiles, "valid": r.valid, "error": r.error,
                               "properties": {}, "alerts": [], "name": r.name, "resolved_by": r.how}
        if r.valid:
            for name in wanted:
                row["properties"].update(per_predictor[name][position])
            if properties:
                row["properties"] = {k: v for k, v in row["properties"].items() if k in properties}
            if alerts:
                row["alerts"] = find_alerts(r.mol)
            position += 1
        elif r.suggestions:
            row["suggestions"] = r.suggestions
        results.append(row)
    return results
