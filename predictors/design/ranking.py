"""From scored molecules to a shortlist: hard constraints, deduplication, Pareto fronts, diversity.

1. Only feasible molecules (every constraint met, no filtering alert, similar enough to a seed) and not a
   seed itself; one per InChIKey. Known compounds (an approved drug, or a starting molecule the GA did not
   change) are left out unless asked for, and then marked `known`.
2. Pareto front of each (non-dominated sorting over the objectives' desirabilities and the similarity).
3. Ranked by the scalar score (geometric mean of the desirabilities); a candidate joins the shortlist only
   if its Tanimoto to every one already in is below `diversity` (sphere exclusion in score order).
Each candidate carries its properties, uncertainties, domain flags, alerts, nearest seed and approved drug
with their similarity, its novelty, and a line saying why it ranks where it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .objectives import Objective
from .scoring import Evaluation, fingerprint


@dataclass(slots=True)
class Candidate:
    """One proposed compound."""

    rank: int
    smiles: str
    score: float
    properties: dict[str, Any]
    uncertainty: dict[str, float] = field(default_factory=dict)  # property -> ensemble std
    out_of_domain: list[str] = field(default_factory=list)
    desirability: dict[str, float] = field(default_factory=dict)
    pareto_front: int = 1
    nearest_seed: str | None = None
    seed_similarity: float | None = None
    nearest_drug: str | None = None
    drug_similarity: float | None = None
    inchikey: str = ""
    why: str = ""
    alerts: list[str] = field(default_factory=list)  # every core alert it matches (only the chosen ones filter)
    novelty: float | None = None  # 1 - drug_similarity
    known: str | None = None  # "approved drug NAME" or "starting pool": not new (only with include_known)

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "smiles": self.smiles, "score": round(self.score, 4),
                "properties": {k: _round(v) for k, v in self.properties.items()},
                "uncertainty": {k: round(v, 4) for k, v in self.uncertainty.items()},
                "out_of_domain": self.out_of_domain, "desirability": {k: round(v, 3) for k, v in self.desirability.items()},
                "pareto_front": self.pareto_front, "nearest_seed": self.nearest_seed,
                "seed_similarity": _round(self.seed_similarity), "nearest_drug": self.nearest_drug,
                "drug_similarity": _round(self.drug_similarity), "novelty": _round(self.novelty),
                "known": self.known, "alerts": self.alerts, "inchikey": self.inchikey, "why": self.why}


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def pareto_fronts(points: np.ndarray) -> np.ndarray:
    """Front number (1 = non-dominated) of each row, all columns maximised. The dominance matrix is built
    a block of rows at a time (bounded memory), then fronts are peeled off it: 1,000 rows take ~0.1 s."""
    points = np.asarray(points, dtype=float)
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=int)
    dominated_by = np.zeros((n, n), dtype=bool)  # [i, j]: row j dominates row i
    step = max(1, 4_000_000 // (n * points.shape[1]))
    for start in range(0, n, step):
        block = points[start:start + step, None, :]
        dominated_by[start:start + step] = (np.all(points[None] >= block, axis=2)
                                            & np.any(points[None] > block, axis=2))
    front = np.zeros(n, dtype=int)
    remaining = np.ones(n, dtype=bool)
    level = 1
    while remaining.any():
        current = remaining & ~dominated_by[:, remaining].any(axis=1)
        front[current] = level
        remaining &= ~current
        level += 1
    return front


def inchikey(smiles: str) -> str:
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    return Chem.MolToInchiKey(mol) if mol is not None else smiles


def explain(e: Evaluation, objectives: Sequence[Objective], front: int) -> str:
    parts = []
    for o in objectives:
        v = e.properties.get(o.prop)
        d = e.desirability.get(o.label, 0.0)
        shown = f"{v:.3g}" if isinstance(v, float) else str(v)
        flag = ""
        if o.prop in e.out_of_domain:
            flag = (" (far from every approved drug, the only domain check for this model: half weight)"
                    if o.prop in e.proxy_domain else " (outside the model's domain: half weight)")
        parts.append(f"{o.label}: {shown} -> {d:.2f}{flag}")
    if e.similarity is not None:
        parts.append(f"similarity {e.similarity:.2f} to {e.nearest_seed}")
    return f"score {e.score:.3f} (geometric mean of " + "; ".join(parts) + f"); Pareto front {front}"


def shortlist(evaluations: Iterable[Evaluation], objectives: Sequence[Objective], seeds: Sequence[tuple[str, str]],
              n: int, diversity: float = 0.75, exclude: set[str] | None = None,
              known: dict[str, str] | None = None, include_known: bool = False) -> list[Candidate]:
    """The ranked, diverse shortlist (at most n; fewer when fewer molecules are feasible). `known` maps the
    InChIKeys of known compounds to what they are; they are left out unless `include_known`."""
    from rdkit import DataStructs

    from ..chem.mol import to_mol
    from .pool import approved_pool

    seed_keys = {inchikey(s) for _, s in seeds}
    known = known or {}
    by_key: dict[str, Evaluation] = {}
    for e in evaluations:
        if not (e.valid and e.feasible) or (exclude and e.smiles in exclude):
            continue
        key = inchikey(e.smiles)
        if key in seed_keys or (key in known and not include_known):
            continue
        if key not in by_key or e.score > by_key[key].score:
            by_key[key] = e
    ranked = sorted(by_key.items(), key=lambda kv: (-kv[1].score, kv[1].smiles))
    if not ranked:
        return []
    vectors = np.array([[*e.desirability.values(), *([e.similarity] if e.similarity is not None else [])] or [e.score]
                        for _, e in ranked])
    fronts = pareto_fronts(vectors)
    picked: list[tuple[str, Evaluation, int, Any]] = []
    for (key, e), front in zip(ranked, fronts, strict=True):
        fp = fingerprint(to_mol(e.smiles))
        if fp is None:
            continue
        if picked and max(DataStructs.BulkTanimotoSimilarity(fp, [p[3] for p in picked])) >= diversity:
            continue
        picked.append((key, e, int(front), fp))
        if len(picked) >= n:
            break
    drugs = approved_pool()
    out = []
    for rank, (key, e, front, fp) in enumerate(picked, 1):
        if e.nearest_drug is None:
            (i, e.drug_similarity), = drugs.nearest(fp, 1)
            e.nearest_drug = drugs.labels[i]
        props = {o.prop: e.properties.get(o.prop) for o in objectives}
        for name in ("mw", "clogp", "tpsa", "qed", "sa_score"):
            if name in e.properties:
                props.setdefault(name, e.properties[name])
        std = {o.prop: float(e.properties[f"{o.prop}_std"]) for o in objectives
               if isinstance(e.properties.get(f"{o.prop}_std"), (int, float))}
        out.append(Candidate(rank, e.smiles, e.score, props, std, list(e.out_of_domain), dict(e.desirability), front,
                             e.nearest_seed, e.similarity, e.nearest_drug, e.drug_similarity, key,
                             explain(e, objectives, front), list(e.all_alerts), round(1.0 - e.drug_similarity, 4),
                             known.get(key)))
    return out
