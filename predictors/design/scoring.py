"""The design oracle: a batch of SMILES -> one `Evaluation` per molecule, through the predictor registry.

Scoring goes in batches through `predictors.predict`, so it runs in this process or on the predictor
service (`LITMOL_PREDICTOR_URL`, GPU when the service has one) with no change here. Results are cached by
canonical SMILES; `calls` counts the distinct molecules scored (the oracle budget).

Every molecule also gets its nearest approved drug and `novelty` (1 - that Tanimoto), and every core alert
it carries (only the chosen catalogs filter). admet-ai has no applicability-domain model, so an objective
on one of its columns is judged by the proxy its own percentiles use, the approved drugs: a molecule
whose nearest approved drug is below `PROXY_DOMAIN` Tanimoto is flagged outside the domain for it and
counts at half weight, as the trained models' own domain flags do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .objectives import NOVELTY, Objective, as_number, combined_score, desirabilities
from .stopping import StopRule, shared_timer

logger = logging.getLogger(__name__)

ALERT_FILTERS = {"core": ("PAINS", "BRENK", "NIH"), "pains": ("PAINS",), "none": ()}
REPORTED = ("mw", "clogp", "tpsa", "qed", "sa_score")  # always predicted: every candidate shows them
SIMILARITY_WIDTH = 0.2  # below --min-similarity the similarity desirability falls to 0 over this much Tanimoto
# admet-ai columns: outside the domain below this Tanimoto to the nearest approved drug (26 % of a random
# 1,000-molecule ZINC 250k sample fall below it, median 0.28: bench/design_domain_proxy.py; the trained
# models' own threshold, against their training sets, is 0.4)
PROXY_DOMAIN = 0.25


@dataclass(slots=True)
class Evaluation:
    """One molecule as the design engine sees it."""

    smiles: str
    valid: bool
    properties: dict[str, Any] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)  # catalog:name of the alerts that filter it
    all_alerts: list[str] = field(default_factory=list)  # every core alert (PAINS, Brenk, NIH) it matches
    similarity: float | None = None  # max Tanimoto to a seed (None without seeds)
    nearest_seed: str | None = None
    desirability: dict[str, float] = field(default_factory=dict)  # objective label -> [0, 1]
    score: float = 0.0  # geometric mean of the desirabilities (and of the similarity term), 0 if filtered
    feasible: bool = False  # every hard constraint met: constraints, no filtering alert, similarity
    out_of_domain: list[str] = field(default_factory=list)  # properties predicted outside their model's domain
    proxy_domain: list[str] = field(default_factory=list)  # properties whose domain is judged by PROXY_DOMAIN
    nearest_drug: str | None = None
    drug_similarity: float | None = None
    error: str | None = None


def fingerprint(mol: Any):
    """Morgan radius 2, 2048 bits (the similarity used everywhere in design); None for no molecule."""
    return _generator().GetFingerprint(mol) if mol is not None else None


_GEN: Any = None


def _generator():
    global _GEN
    if _GEN is None:
        from rdkit.Chem import rdFingerprintGenerator

        _GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return _GEN


def needed_properties(objectives: Sequence[Objective], known: dict[str, str]) -> list[str]:
    """The registry columns to request: each objective's property and its uncertainty and domain columns."""
    out: list[str] = []
    for o in objectives:
        for name in (o.prop, f"{o.prop}_std", f"{o.prop}_in_domain"):
            if name in known and name not in out:
                out.append(name)
    return out


class Scorer:
    """Scores SMILES against objectives, seeds and alert filters; caches by SMILES and counts calls.

    `stop`: a StopRule (time limit, Ctrl-C) checked before every batch; batches are then sized to end in
    time, and `evaluate` raises DesignStopped (stopping.py) with what it scored before kept in `cache`."""

    def __init__(self, objectives: Sequence[Objective], seeds: Sequence[tuple[str, str]] = (),
                 min_similarity: float | None = None, alerts: str = "core", settings: Any = None,
                 batch_size: int = 256, stop: StopRule | None = None) -> None:
        from ..api import known_properties
        from ..registry import list_predictors

        if alerts not in ALERT_FILTERS:
            raise ValueError(f"alerts must be one of {', '.join(ALERT_FILTERS)} (got {alerts!r})")
        self.objectives = list(objectives)
        self.seeds = list(seeds)  # (label, smiles)
        self.min_similarity = min_similarity
        self.alerts = alerts
        self.settings = settings
        self.batch_size = batch_size
        self.stop = stop
        known = known_properties(list_predictors())
        self.properties = list(dict.fromkeys([*needed_properties(self.objectives, known), *REPORTED]))
        self.timer = shared_timer((tuple(sorted(self.properties)), getattr(settings, "url", None)))
        # model columns with no domain flag of their own (admet-ai): judged by the approved-drug proxy
        self.proxy_domain = [o.prop for o in self.objectives if known.get(o.prop) not in (None, "rdkit")
                             and f"{o.prop}_in_domain" not in known]
        self.cache: dict[str, Evaluation] = {}
        self.calls = 0
        from ..chem.mol import to_mol

        self._seed_fps = [fingerprint(to_mol(s)) for _, s in self.seeds]

    def __call__(self, smiles: Sequence[str]) -> list[float]:
        """mol_ga's scoring function: scores in input order."""
        return [e.score for e in self.evaluate(smiles)]

    def evaluate(self, smiles: Sequence[str]) -> list[Evaluation]:
        new = list(dict.fromkeys(s for s in smiles if s not in self.cache))
        done = 0
        while done < len(new):
            size = self.stop.batch_size(len(new) - done, self.batch_size, self.timer) if self.stop else self.batch_size
            chunk = new[done:done + size]
            started = time.perf_counter()
            scored = self._score(chunk)
            seconds = time.perf_counter() - started
            self.timer.record(len(chunk), seconds)
            logger.debug("scored a batch of %d in %.2f s", len(chunk), seconds)
            for s, e in zip(chunk, scored, strict=True):
                self.cache[s] = e
            self.calls += len(chunk)
            done += len(chunk)
        return [self.cache[s] for s in smiles]

    def _score(self, smiles: Sequence[str]) -> list[Evaluation]:
        from rdkit import DataStructs

        from ..api import predict
        from ..chem.mol import to_mol
        from .pool import approved_pool

        rows = predict(list(smiles), properties=self.properties, alerts="core", settings=self.settings)
        out = []
        filtered = ALERT_FILTERS[self.alerts]
        drugs = approved_pool()
        for s, row in zip(smiles, rows, strict=True):
            if not row.valid:
                out.append(Evaluation(s, False, error=row.error))
                continue
            props = dict(row.properties)
            fp = fingerprint(to_mol(row.smiles))
            alerts = [a.label for a in row.alerts if a.catalog.upper() in filtered]
            e = Evaluation(row.smiles or s, True, properties=props, alerts=alerts,
                           all_alerts=list(dict.fromkeys(a.label for a in row.alerts)))
            if fp is not None:
                (i, sim), = drugs.nearest(fp, 1)
                e.nearest_drug, e.drug_similarity = drugs.labels[i], sim
                props[NOVELTY] = round(1.0 - sim, 4)
            for prop in self.proxy_domain:
                if props.get(prop) is not None:
                    props[f"{prop}_in_domain"] = (e.drug_similarity or 0.0) >= PROXY_DOMAIN
                    e.proxy_domain.append(prop)
            e.desirability = desirabilities(self.objectives, props)
            e.out_of_domain = [o.prop for o in self.objectives if props.get(f"{o.prop}_in_domain") is False]
            terms = list(e.desirability.values())
            if self._seed_fps:
                sims = DataStructs.BulkTanimotoSimilarity(fp, self._seed_fps) if fp is not None else [0.0]
                best = int(np.argmax(sims))
                e.similarity, e.nearest_seed = float(sims[best]), self.seeds[best][0]
                if self.min_similarity:  # the constraint's ramp, then closer to the seed is better
                    m = self.min_similarity
                    terms.append(max(0.0, 0.9 * (1.0 - (m - e.similarity) / SIMILARITY_WIDTH)) if e.similarity < m
                                 else 0.9 + 0.1 * (e.similarity - m) / max(1e-6, 1.0 - m))
                else:
                    terms.append(max(e.similarity, 1e-3))
            if not terms:
                terms = [1.0]
            meets = all(o.satisfied(as_number(props.get(o.prop))) for o in self.objectives if o.is_constraint)
            similar = not self.min_similarity or (e.similarity or 0.0) >= self.min_similarity
            e.feasible = bool(meets and similar and not alerts)
            e.score = 0.0 if alerts else combined_score(terms)
            out.append(e)
        return out

