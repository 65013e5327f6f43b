"""Model quality metrics: regression errors, ROC-AUC, calibration (ECE), error by applicability domain."""

from __future__ import annotations

from typing import Any

import numpy as np

AD_BINS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.01)


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from scipy.stats import spearmanr

    err = pred - y
    ss_tot = float(np.sum((y - y.mean()) ** 2)) or 1.0
    return {"n": len(y), "mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "r2": 1.0 - float(np.sum(err ** 2)) / ss_tot, "spearman": float(spearmanr(y, pred).statistic)}


def expected_calibration_error(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """ECE with equal-width probability bins: sum over bins of |accuracy - confidence| * share."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += abs(float(y[mask].mean()) - float(prob[mask].mean())) * mask.mean()
    return float(ece)


def classification_metrics(y: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {"n": len(y), "positives": int(y.sum()), "roc_auc": float(roc_auc_score(y, prob)),
            "pr_auc": float(average_precision_score(y, prob)),
            "accuracy": float(np.mean((prob >= 0.5) == (y == 1))),
            "brier": float(np.mean((prob - y) ** 2)), "ece": expected_calibration_error(y, prob)}


def reliability_table(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin: count, mean predicted probability, observed positive rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    return [{"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int((which == b).sum()),
             "mean_prob": float(prob[which == b].mean()), "observed": float(y[which == b].mean())}
            for b in range(bins) if (which == b).any()]


def error_by_domain(task: str, y: np.ndarray, pred: np.ndarray, ad: np.ndarray,
                    edges: tuple[float, ...] = AD_BINS) -> list[dict[str, Any]]:
    """Error (MAE, or ROC-AUC/accuracy for classifiers) per band of max-Tanimoto-to-training."""
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (ad >= lo) & (ad < hi)
        if mask.sum() < 5:
            continue
        row: dict[str, Any] = {"ad_band": f"{lo:.1f}-{min(hi, 1.0):.1f}", "n": int(mask.sum())}
        if task == "regression":
            row["mae"] = float(np.mean(np.abs(pred[mask] - y[mask])))
        else:
            row["accuracy"] = float(np.mean((pred[mask] >= 0.5) == (y[mask] == 1)))
            row["brier"] = float(np.mean((pred[mask] - y[mask]) ** 2))
            if 0 < y[mask].sum() < mask.sum():
                from sklearn.metrics import roc_auc_score

                row["roc_auc"] = float(roc_auc_score(y[mask], pred[mask]))
        rows.append(row)
    return rows


def model_metrics(task: str, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return regression_metrics(y, pred) if task == "regression" else classification_metrics(y, pred)
