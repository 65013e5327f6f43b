"""Trained ensembles as predictors: each model directory (meta.json + model.safetensors) found in
`model_dirs()` is registered under its name, with `<name>`, `<name>_std`, `<name>_ad` and
`<name>_in_domain` properties."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..chem.descriptors import PropertyInfo
from ..registry import PREDICTORS, model_dirs
from .models import META_FILE, EnsembleModel

logger = logging.getLogger(__name__)

AD_THRESHOLD = 0.4  # below this max Tanimoto, test error rises steeply in every shipped model (see cards)


class TrainedPredictor:
    """One trained ensemble; weights load on first predict."""

    def __init__(self, directory: Path, meta: dict[str, Any], device: str | None = None) -> None:
        self.directory = directory
        self.meta = meta
        self.name = meta["name"]
        self.device = device  # None: PredictorSettings().device; the service sets its --device
        self._model: EnsembleModel | None = None

    @property
    def agent_properties(self) -> tuple[str, ...]:
        """The value itself (the agent's tool adds `_std` and `_in_domain`)."""
        return (self.name,)

    def properties(self) -> list[PropertyInfo]:
        n, unit, test = self.name, self.meta["unit"], self.meta.get("metrics", {}).get("test", {})
        quality = (f"test MAE {test['mae']}" if "mae" in test else f"test ROC-AUC {test['roc_auc']}") if test else ""
        return [
            PropertyInfo(n, unit, f"{self.meta['description']} (trained ensemble; {quality}, scaffold split)"),
            PropertyInfo(f"{n}_std", unit, f"{n}: spread across the ensemble members (uncertainty)"),
            PropertyInfo(f"{n}_ad", "0-1", f"{n}: max Tanimoto similarity to the training molecules"),
            PropertyInfo(f"{n}_in_domain", "bool", f"{n}: inside the applicability domain (ad >= {AD_THRESHOLD})"),
        ]

    def model(self) -> EnsembleModel:
        if self._model is None:
            self._model = EnsembleModel.load(self.directory, self.device)
        return self._model

    def predict(self, mols: Sequence[Any]) -> list[dict[str, Any]]:
        if not mols:
            return []
        out = self.model().predict(list(mols))
        n = self.name
        return [{n: round(float(v), 4), f"{n}_std": round(float(s), 4), f"{n}_ad": round(float(a), 3),
                 f"{n}_in_domain": bool(a >= AD_THRESHOLD)}
                for v, s, a in zip(out["value"], out["std"], out["ad"], strict=True)]


def register_trained_models(directories: Sequence[Path] | None = None) -> list[str]:
    """Register every model directory found; a broken one is skipped with a warning."""
    names = []
    for root in directories or model_dirs():
        if not root.is_dir():
            continue
        for meta_path in sorted(root.glob(f"*/{META_FILE}")):
            try:
                meta = json.loads(meta_path.read_text())
                name = meta["name"]
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("skipping model %s: %s", meta_path.parent, exc)
                continue
            if name in {"rdkit", "admet"}:
                logger.warning("skipping model %s: %r is a built-in predictor", meta_path.parent, name)
                continue
            PREDICTORS[name] = lambda d=meta_path.parent, m=meta: TrainedPredictor(d, m)
            names.append(name)
    return names
