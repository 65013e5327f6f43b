"""Compare two runs question by question: accuracy deltas with paired tests, and what flipped.

On the questions both runs scored (`correct` not None in both), per type and overall: the
exact McNemar test (a two-sided binomial test with p = 1/2 on the discordant pairs) and a
paired bootstrap 95 % interval of the accuracy difference B - A (fixed seed, so a rerun prints
the same interval). A negative delta means B got worse.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from .metrics import percentile, rescore
from .runner import RESULTS, RUN, read_results

BOOTSTRAP_REPS = 2000


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (1.0 when there are none)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_ci(diffs: list[int], reps: int = BOOTSTRAP_REPS, seed: int = 0) -> list[float] | None:
    """Percentile 95 % interval of the mean paired difference, resampling questions with replacement."""
    if not diffs:
        return None
    rng = random.Random(seed)
    n = len(diffs)
    means = [sum(rng.choices(diffs, k=n)) / n for _ in range(reps)]
    return [percentile(means, 0.025), percentile(means, 0.975)]


def _load(run_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    path = run_dir / RESULTS
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no {RESULTS}")
    run = json.loads((run_dir / RUN).read_text(encoding="utf-8")) if (run_dir / RUN).exists() else None
    return {r["id"]: rescore(r) for r in read_results(path)}, run


def _paired(pairs: list[tuple[bool, bool]], reps: int, seed: int) -> dict[str, Any]:
    n = len(pairs)
    b = sum(a and not bb for a, bb in pairs)  # right in A, wrong in B
    c = sum(bb and not a for a, bb in pairs)  # wrong in A, right in B
    acc_a = sum(a for a, _ in pairs) / n if n else None
    acc_b = sum(bb for _, bb in pairs) / n if n else None
    return {"n": n, "accuracy_a": acc_a, "accuracy_b": acc_b,
            "delta": acc_b - acc_a if n else None, "right_to_wrong": b, "wrong_to_right": c,
            "p_mcnemar": mcnemar_exact(b, c),
            "ci95_delta": bootstrap_ci([int(bb) - int(a) for a, bb in pairs], reps, seed)}


def compare_runs(dir_a: str | Path, dir_b: str | Path, reps: int = BOOTSTRAP_REPS, seed: int = 0) -> dict[str, Any]:
    """Paired comparison of run B against run A (see the module doc)."""
    dir_a, dir_b = Path(dir_a), Path(dir_b)
    a, run_a = _load(dir_a)
    b, run_b = _load(dir_b)
    notes = []
    sha = [(r or {}).get("config", {}).get("input_sha256") for r in (run_a, run_b)]
    if all(sha) and sha[0] != sha[1]:
        notes.append("the runs used different question files; only ids present in both are compared")
    common = [i for i in a if i in b and a[i]["score"]["correct"] is not None and b[i]["score"]["correct"] is not None]
    by_type: dict[str, list[tuple[bool, bool]]] = {}
    for i in common:
        by_type.setdefault(a[i]["type"], []).append((a[i]["score"]["correct"], b[i]["score"]["correct"]))
    pairs = [(a[i]["score"]["correct"], b[i]["score"]["correct"]) for i in common]
    return {
        "a": str(dir_a), "b": str(dir_b), "notes": notes,
        "only_in_a": sorted(set(a) - set(b)), "only_in_b": sorted(set(b) - set(a)),
        "by_type": {t: _paired(p, reps, seed) for t, p in sorted(by_type.items())},
        "overall": _paired(pairs, reps, seed),
        "right_to_wrong": [i for i in common if a[i]["score"]["correct"] and not b[i]["score"]["correct"]],
        "wrong_to_right": [i for i in common if not a[i]["score"]["correct"] and b[i]["score"]["correct"]],
    }


def _pct(x: float | None, signed: bool = False) -> str:
    return "-" if x is None else f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def format_comparison(result: dict[str, Any]) -> str:
    """The comparison as a plain-text table and the lists of flipped questions."""
    head = f"{'type':<8} {'n':>5} {'acc A %':>8} {'acc B %':>8} {'delta':>7} {'95% CI':>15} {'R->W':>5} {'W->R':>5} {'p':>8}"
    lines = [f"A: {result['a']}", f"B: {result['b']}", *[f"note: {n}" for n in result["notes"]], "", head]
    for label, m in [*result["by_type"].items(), ("all", result["overall"])]:
        ci = m["ci95_delta"]
        ci_text = f"[{_pct(ci[0], True)}, {_pct(ci[1], True)}]" if ci else "-"
        lines.append(f"{label:<8} {m['n']:>5} {_pct(m['accuracy_a']):>8} {_pct(m['accuracy_b']):>8} "
                     f"{_pct(m['delta'], True):>7} {ci_text:>15} {m['right_to_wrong']:>5} {m['wrong_to_right']:>5} "
                     f"{m['p_mcnemar']:>8.4g}")
    for key, label in (("right_to_wrong", "right in A, wrong in B"), ("wrong_to_right", "wrong in A, right in B")):
        ids = result[key]
        lines.append(f"\n{label} ({len(ids)}): {', '.join(ids) if ids else 'none'}")
    if result["only_in_a"] or result["only_in_b"]:
        lines.append(f"\nnot compared: {len(result['only_in_a'])} only in A, {len(result['only_in_b'])} only in B")
    return "\n".join(lines)
