"""Quality of the shipped trained models on their scaffold-split test sets, re-measured from disk.

For each model: read the held-out test molecules saved with it (split.json.gz), reload the saved
weights, predict them, and report MAE/RMSE or ROC-AUC with calibration (ECE), error by
applicability domain, and how well the ensemble spread ranks errors. Published anchors (TDC
ADMET group, scaffold split with 20 % test, 5 seeds — a different split and, for B3DB, a different
data set) are printed alongside. admet-ai's matching endpoint is run on the same test molecules as
a peer; it was trained on the TDC sets, which overlap our test molecules, so it is optimistic.

    python bench/model_quality.py [--models logs,logd,bbb] [--no-admet]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

# TDC ADMET leaderboard (scaffold split, 20 % test, mean of 5 seeds), checked 2026-11-23.
ANCHORS = {
    "logs": {"dataset": "TDC Solubility_AqSolDB", "metric": "mae",
             "values": {"Chemprop-RDKit (ADMET-AI's model)": 0.761, "KPGT": 0.714, "AttentiveFP": 0.776}},
    "logd": {"dataset": "TDC Lipophilicity_AstraZeneca", "metric": "mae",
             "values": {"Chemprop-RDKit (ADMET-AI's model)": 0.467, "MolE": 0.406, "AttentiveFP": 0.572}},
    "bbb": {"dataset": "TDC BBB_Martins (1,975 molecules; not B3DB)", "metric": "roc_auc",
            "values": {"Chemprop-RDKit (ADMET-AI's model)": 0.869, "MapLight": 0.916}},
}
ADMET_PEER = {"logs": "Solubility_AqSolDB", "logd": "Lipophilicity_AstraZeneca", "bbb": "BBB_Martins"}
TARGETS = {"logs": ("mae", 0.80), "logd": ("mae", 0.50), "bbb": ("roc_auc", 0.90)}


def evaluate(name: str, admet: bool) -> dict:
    import gzip
    import json

    import numpy as np
    from scipy.stats import spearmanr

    from litmol.predictors.chem.mol import parse_molecule
    from litmol.predictors.ml.metrics import error_by_domain, model_metrics, reliability_table
    from litmol.predictors.ml.train import SPLIT_FILE
    from litmol.predictors.registry import get_predictor

    predictor = get_predictor(name)
    meta = predictor.meta
    with gzip.open(predictor.directory / SPLIT_FILE, "rt") as fh:  # the held-out molecules of training
        split = json.load(fh)
    mols = [parse_molecule(s).mol for s in split["test"]]
    if any(m is None for m in mols):
        raise SystemExit(f"{name}: a stored test molecule no longer parses")
    y = np.asarray(split["y_test"])
    test = split["test"]
    out = predictor.model().predict(mols)
    metrics = model_metrics(meta["task"], y, out["value"])
    result = {"model": name, "task": meta["task"], "n_test": len(test), "metrics": metrics,
              "card_metrics": meta["metrics"]["test"], "target": TARGETS[name], "anchors": ANCHORS[name],
              "error_by_domain": error_by_domain(meta["task"], y, out["value"], out["ad"])}
    if meta["task"] == "regression":
        err = np.abs(out["value"] - y)
        result["std_vs_error_spearman"] = float(spearmanr(out["std"], err).statistic)
        result["ad_vs_error_spearman"] = float(spearmanr(out["ad"], err).statistic)
    else:
        result["reliability"] = reliability_table(y, out["value"])
    if admet:
        from litmol.predictors.ml.admet import AdmetPredictor

        peer = np.array([r.get(ADMET_PEER[name], np.nan) for r in AdmetPredictor().predict(mols)])
        ok = np.isfinite(peer)  # admet-ai cannot featurize a few exotic molecules
        result["admet_ai_same_test"] = model_metrics(meta["task"], y[ok], peer[ok]) | {"skipped": int((~ok).sum())}
    return result


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--models", default="logs,logd,bbb")
    ap.add_argument("--no-admet", action="store_true", help="skip the admet-ai peer")
    args = ap.parse_args()
    results = [evaluate(n, not args.no_admet) for n in args.models.split(",")]
    rows = []
    for r in results:
        key = r["target"][0]
        anchor = r["anchors"]["values"]["Chemprop-RDKit (ADMET-AI's model)"]
        rows.append({"model": r["model"], "test n": r["n_test"], "metric": key, "ours": r["metrics"][key],
                     "card": r["card_metrics"][key], "target": r["target"][1],
                     "admet-ai same test": r.get("admet_ai_same_test", {}).get(key, ""),
                     "Chemprop-RDKit (TDC)": anchor, "ECE": r["metrics"].get("ece", ""),
                     "rho(std,|err|)": r.get("std_vs_error_spearman", "")})
    print(table(rows, list(rows[0])))
    for r in results:
        print(f"\n{r['model']}: error by applicability domain (max Tanimoto to training)")
        print(table(r["error_by_domain"], list(r["error_by_domain"][0])))
        if "reliability" in r:
            print(f"{r['model']}: reliability (test)")
            print(table(r["reliability"], ["bin", "n", "mean_prob", "observed"]))
    print(f"saved {save('model_quality', {'results': results})}")


if __name__ == "__main__":
    main()
