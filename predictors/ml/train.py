"""`litmol predictors train`: table -> standardize -> scaffold split -> ensemble -> test metrics -> model dir."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TrainingDataError
from .datasets import PACKAGED, load_table, scaffold_split
from .metrics import error_by_domain, model_metrics, reliability_table
from .models import CARD_FILE, EnsembleModel, TrainConfig

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SHIPPED_DIR = Path(__file__).parent.parent / "trained"
SPLIT_FILE = "split.json.gz"


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def train_model(data: str, name: str, out_dir: Path, target: str | None = None, task: str | None = None,
                smiles_col: str | None = None, positive: str | None = None, unit: str | None = None,
                description: str | None = None, seed: int = 0, config: TrainConfig | None = None,
                progress: bool = False, command: str | None = None) -> tuple[EnsembleModel, dict[str, Any]]:
    """Train, evaluate on the scaffold-split test set, and save an ensemble under out_dir/name."""
    import torch

    if not NAME_RE.match(name):
        raise TrainingDataError(f"model name {name!r}: use 2-40 lowercase letters, digits or _ (e.g. logs_aqsoldb)")
    packaged = PACKAGED.get(str(data).lower()) if not Path(data).exists() else None
    table = load_table(data, target=target, task=task, smiles_col=smiles_col, positive=positive, progress=progress)
    task = table.task
    torch.manual_seed(seed)
    train, val, test = scaffold_split(table.mols, seed=seed)
    y = np.asarray(table.y, dtype=np.float64)
    logger.info("scaffold split (seed %d): train %d, validation %d, test %d", seed, len(train), len(val), len(test))
    meta: dict[str, Any] = {
        "name": name, "property": name, "task": task,
        "unit": unit or (packaged.unit if packaged else ("probability" if task == "classification" else "-")),
        "description": description or (packaged.description if packaged else f"{target} ({task}, trained)"),
        "data": {"source": table.source, "target": target or (packaged.target_col if packaged else None),
                 "positive_label": table.positive, "rows_read": table.read, "rows_used": len(table.smiles),
                 "dropped": dict(table.dropped)},
        "split": {"method": "Bemis-Murcko scaffold (balanced)", "seed": seed, "train": len(train),
                  "validation": len(val), "test": len(test)},
        "created": dt.date.today().isoformat(), "command": command,
        "versions": _versions(),
    }
    model = EnsembleModel.fit([table.mols[i] for i in train], y[train], [table.mols[i] for i in val], y[val],
                              task, meta, config, progress=progress)
    test_mols = [table.mols[i] for i in test]
    out = model.predict(test_mols)
    metrics = {"validation": model_metrics(task, y[val], model.predict([table.mols[i] for i in val])["value"]),
               "test": model_metrics(task, y[test], out["value"])}
    model.meta["metrics"] = _round(metrics)
    model.meta["error_by_domain"] = _round(error_by_domain(task, y[test], out["value"], out["ad"]))
    if task == "classification":
        model.meta["reliability"] = _round(reliability_table(y[test], out["value"]))
    directory = model.save(out_dir / name)
    (directory / CARD_FILE).write_text(model_card(model.meta))
    with gzip.open(directory / SPLIT_FILE, "wt") as fh:  # the exact held-out molecules, for re-evaluation
        json.dump({"validation": [table.smiles[i] for i in val], "test": [table.smiles[i] for i in test],
                   "y_validation": y[val].tolist(), "y_test": y[test].tolist()}, fh)
    return model, model.meta


def _versions() -> dict[str, str]:
    import rdkit
    import torch

    return {"rdkit": rdkit.__version__, "torch": torch.__version__.split("+")[0], "numpy": np.__version__}


def model_card(meta: dict[str, Any]) -> str:
    """A Markdown card: what the model predicts, from which data, how it was split and how well it does."""
    m, d, s = meta["metrics"], meta["data"], meta["split"]
    lines = [f"# {meta['name']}: {meta['description']}", "",
             f"- task: {meta['task']}; unit: {meta['unit']}",
             f"- model: ensemble of {meta['members']} MLPs (hidden {meta['hidden']}, dropout {meta['dropout']}) on "
             f"Morgan count fingerprints (radius 2, {meta['fp']['bits']} bits, log1p) + {len(meta['descriptors'])} "
             "RDKit 2D descriptors (clipped, standardized); weights float16 safetensors",
             "- uncertainty: standard deviation across members; applicability domain: max Tanimoto similarity "
             "(Morgan r2, 2048 bits) to the training molecules (`*_ad`, 0-1)",
             f"- data: {d['source']}; target column {d['target']!r}"
             + (f", positive label {d['positive_label']!r}" if d.get("positive_label") else "")
             + f"; {d['rows_read']:,} rows read, {d['rows_used']:,} unique standardized molecules used; "
             f"dropped: {d['dropped'] or 'none'}",
             f"- split: {s['method']}, seed {s['seed']}: train {s['train']:,} / validation {s['validation']:,} "
             f"(early stopping{', temperature' if meta['task'] == 'classification' else ''}) / test {s['test']:,}",
             f"- trained {meta['created']} with {meta['versions']}", "", "## Test-set metrics (scaffold split)", "",
             "| metric | validation | test |", "|---|---|---|"]
    for key in m["test"]:
        lines.append(f"| {key} | {m['validation'][key]} | {m['test'][key]} |")
    lines += ["", "## Error by applicability domain (test set)", "",
              "| max Tanimoto to training | n | " + ("MAE |" if meta["task"] == "regression" else "accuracy | brier |"),
              "|---|---|---|" + ("" if meta["task"] == "regression" else "---|")]
    for row in meta["error_by_domain"]:
        vals = [row.get("mae")] if meta["task"] == "regression" else [row.get("accuracy"), row.get("brier")]
        lines.append(f"| {row['ad_band']} | {row['n']} | " + " | ".join(str(v) for v in vals) + " |")
    lines += ["", "## Reproduce", "", "```", meta.get("command") or "litmol predictors train ...", "```", ""]
    return "\n".join(lines)
