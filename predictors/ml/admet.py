"""admet-ai's 41 ADMET endpoints (Chemprop ensembles shipped in the wheel) behind our predictor interface.

Classification endpoints are probabilities (0-1); regression endpoints carry admet-ai's units.
Each endpoint also gets `<id>_drugbank_pct`: its percentile among approved drugs (DrugBank).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
from collections.abc import Sequence
from typing import Any

from litmol.settings import PredictorSettings, export

from ..chem.descriptors import PropertyInfo
from ..registry import register_predictor
from .models import torch_device

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def endpoint_table() -> list[dict[str, str]]:
    """admet-ai's endpoint metadata (id, name, category, task type, units), without loading models."""
    import importlib.util
    from pathlib import Path

    import pandas as pd

    spec = importlib.util.find_spec("admet_ai")  # by path: importing admet_ai loads torch and chemprop
    table = pd.read_csv(Path(spec.origin).parent / "resources" / "data" / "admet.csv")
    table = table[table["category"] != "Physicochemical"]  # our rdkit predictor covers those
    return table[["id", "name", "category", "task_type", "units"]].fillna("").to_dict("records")


@register_predictor("admet")
class AdmetPredictor:
    """admet-ai ADMETModel, batched, on `device` (default: PredictorSettings().device; auto: the GPU
    when one is visible, else CPU)."""

    name = "admet"
    # toxicity, absorption, distribution, metabolism and excretion endpoints questions name most
    agent_properties = ("hERG", "AMES", "DILI", "ClinTox", "Caco2_Wang", "HIA_Hou", "CYP3A4_Veith",
                        "CYP2D6_Veith", "PPBR_AZ", "Half_Life_Obach", "LD50_Zhu")

    def __init__(self, device: str | None = None, settings: PredictorSettings | None = None) -> None:
        self.device = device
        self.settings = settings
        self._model = None

    def properties(self) -> list[PropertyInfo]:
        out = []
        for row in endpoint_table():
            unit = "probability" if row["task_type"] == "classification" else (row["units"] or "-")
            out.append(PropertyInfo(row["id"], unit, f"{row['name']} ({row['category']}, admet-ai)"))
            out.append(PropertyInfo(f"{row['id']}_drugbank_pct", "percentile",
                                    f"{row['name']}: percentile among DrugBank approved drugs"))
        return out

    def setup(self) -> None:
        if self._model is not None:
            return
        export("TQDM_DISABLE", "1", overwrite=False)  # admet-ai's bars; tqdm reads the variable
        from admet_ai import ADMETModel

        logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # after import: lightning resets it
        logging.getLogger("lightning").setLevel(logging.ERROR)
        logging.getLogger("chemprop").setLevel(logging.ERROR)  # a harmless drop_last note per call
        self._model = ADMETModel(num_workers=0, include_physchem=False)
        self._model.device = torch_device(self.device or (self.settings or PredictorSettings()).device)

    def predict_smiles(self, smiles: Sequence[str]) -> list[dict[str, Any]]:
        """Endpoints for canonical SMILES (already validated), in order."""
        if not smiles:
            return []
        self.setup()
        import warnings

        # admet-ai/lightning print progress bars and deprecation notes; results are checked below
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                frame = self._model.predict(smiles=list(smiles))
            except (TypeError, RuntimeError, ValueError):  # admet-ai fails on a batch it parsed to nothing
                if len(smiles) == 1:
                    logger.warning("admet-ai cannot featurize %s; no ADMET endpoints for it", smiles[0])
                    return [{}]
                raise
        if len(frame) != len(smiles):  # admet-ai drops what its own parser rejects: redo one by one
            return [self.predict_smiles([s])[0] if s else {} for s in smiles] if len(smiles) > 1 else [{}]
        rename = {c: c.replace("_drugbank_approved_percentile", "_drugbank_pct") for c in frame.columns}
        frame = frame.rename(columns=rename)
        return [{k: round(float(v), 4) for k, v in row.items()} for row in frame.to_dict("records")]

    def predict(self, mols: Sequence[Any]) -> list[dict[str, Any]]:
        from rdkit import Chem

        return self.predict_smiles([Chem.MolToSmiles(m) for m in mols])
