"""The design loop: mol_ga's Graph GA (crossover and mutation, quantile sampling of the population) driven
generation by generation under an oracle budget, so that it can report progress, stop when asked and
keep the best so far.

    result = propose(["imatinib"], ["bbb>=0.7", "logs>=-4", "qed>=0.6", "sa<=4"],
                     DesignConfig(n=10, budget=1500, min_similarity=0.4, random_seed=1))
    for c in result.candidates: print(c.rank, c.smiles, c.score, c.why)

Deterministic for a given `random_seed` (the GA's RNG, the starting sample and every tie are seeded or
sorted). The objectives come from the predictor registry (objectives.py); scoring goes in batches through
`predictors.predict` (scoring.py), in-process or on the predictor service.
"""

from __future__ import annotations

import heapq
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import PredictorError
from .objectives import Objective, parse_objectives
from .ranking import Candidate, shortlist
from .scoring import Scorer

logger = logging.getLogger(__name__)


class DesignError(PredictorError, ValueError):
    """Bad design input: an unresolvable seed, impossible settings."""


@dataclass(slots=True)
class DesignConfig:
    """Settings of one design run."""

    n: int = 20  # candidates in the shortlist
    budget: int = 2000  # oracle calls: distinct molecules scored, starting population included
    min_similarity: float | None = None  # Tanimoto (Morgan r2) to the nearest seed, a hard constraint
    alerts: str = "core"  # structural alerts that filter a molecule: core (PAINS, Brenk, NIH), pains, none
    random_seed: int = 0
    population_size: int = 250
    offspring_size: int = 100
    start_size: int = 250  # starting population (seeds, their analogues; random ZINC without seeds)
    diversity: float = 0.75  # at most this Tanimoto between two shortlisted candidates
    stale_generations: int = 6  # stop early after this many generations with no new molecule


@dataclass(slots=True)
class GenerationInfo:
    generation: int
    calls: int
    best: float
    feasible: int
    seconds: float


@dataclass(slots=True)
class DesignResult:
    candidates: list[Candidate]
    objectives: list[Objective]
    seeds: list[tuple[str, str]]  # (label, SMILES)
    calls: int
    seconds: float
    generations: list[GenerationInfo] = field(default_factory=list)
    interrupted: bool = False
    evaluated: int = 0
    feasible: int = 0
    evaluations: list[Any] = field(default_factory=list, repr=False)  # every molecule scored (scoring.Evaluation)


def resolve_seeds(seeds: Sequence[str]) -> list[tuple[str, str]]:
    """Names or SMILES -> (label, canonical SMILES); DesignError naming the first that does not resolve."""
    from ..chem.resolve import resolve_input

    out = []
    for text in seeds:
        r = resolve_input(text)
        if not r.valid:
            hint = f" (did you mean {', '.join(r.suggestions[:3])}?)" if r.suggestions else ""
            raise DesignError(f"seed '{text}' is not a molecule: {r.error}{hint}")
        out.append((r.name or text, r.smiles))
    return out


@dataclass(slots=True)
class SearchResult:
    """What the GA loop leaves: every molecule it scored, in the order it scored them."""

    scores: dict[str, float]
    generations: list[GenerationInfo]
    interrupted: bool


def run_ga(score: Callable[[list[str]], list[float]], start: Sequence[str], budget: int, rng: random.Random,
           config: DesignConfig, progress: bool = False,
           on_generation: Callable[[GenerationInfo], None] | None = None,
           should_stop: Callable[[], bool] | None = None,
           feasible: Callable[[str], bool] | None = None) -> SearchResult:
    """mol_ga's Graph GA (blended crossover/mutation, quantile sampling, keep the best `population_size`)
    maximising `score` over at most `budget` distinct molecules, the starting ones included. Any scoring
    function works (the design oracle, a PMO oracle). Stops early after `stale_generations` generations
    that produce nothing new, when `should_stop()` turns true, or on KeyboardInterrupt."""
    from mol_ga.graph_ga.gen_candidates import graph_ga_blended_generation
    from mol_ga.sample_population import uniform_quantile_sampling
    from tqdm import tqdm

    scores: dict[str, float] = {}
    generations: list[GenerationInfo] = []
    interrupted = False
    started = time.perf_counter()
    bar = tqdm(total=budget, desc="designing", unit="call", disable=not progress, leave=False)

    def evaluate(smiles: list[str]) -> None:
        for s, v in zip(smiles, score(smiles), strict=True):
            scores[s] = float(v)
        bar.update(len(smiles))

    try:
        first = list(dict.fromkeys(start))[:budget]
        evaluate(first)
        population = heapq.nlargest(config.population_size, ((scores[s], s) for s in first))
        stale = 0
        while len(scores) < budget and stale < config.stale_generations:
            if should_stop and should_stop():
                interrupted = True
                break
            samples = uniform_quantile_sampling(population, 2 * config.offspring_size, rng)
            want = min(config.offspring_size, budget - len(scores))
            offspring = sorted(graph_ga_blended_generation(samples, want, rng))  # sorted: set order is not seeded
            new = [s for s in offspring if s not in scores][:budget - len(scores)]
            if not new:
                stale += 1
                continue
            stale = 0
            evaluate(new)
            merged = {s: v for v, s in population} | {s: scores[s] for s in new}
            population = heapq.nlargest(config.population_size, ((v, s) for s, v in merged.items()))
            info = GenerationInfo(len(generations) + 1, len(scores), population[0][0],
                                  sum(map(feasible, scores)) if feasible else 0, time.perf_counter() - started)
            generations.append(info)
            bar.set_postfix(best=f"{info.best:.3f}")
            if on_generation:
                on_generation(info)
    except KeyboardInterrupt:
        interrupted = True
        logger.warning("interrupted: keeping the %d molecules scored so far", len(scores))
    finally:
        bar.close()
    return SearchResult(scores, generations, interrupted)


def propose(seeds: Sequence[str], objectives: Sequence[str | Objective], config: DesignConfig | None = None,
            settings: Any = None, progress: bool = False,
            on_generation: Callable[[GenerationInfo], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> DesignResult:
    """Run the GA and return the ranked, diverse shortlist of feasible candidates.

    `objectives`: specs ("qed>=0.6", "bbb max") or Objective objects. A KeyboardInterrupt (or
    `should_stop()` turning true) ends the run early and the shortlist is built from what was scored.
    """
    from ..api import known_properties
    from ..registry import list_predictors
    from .pool import starting_population

    config = config or DesignConfig()
    if config.budget < 10:
        raise DesignError(f"budget {config.budget} is too small: at least 10 oracle calls")
    if config.min_similarity is not None and not 0 < config.min_similarity <= 1:
        raise DesignError(f"min similarity must be in (0, 1] (got {config.min_similarity})")
    if config.min_similarity and not seeds:
        raise DesignError("a minimum similarity needs at least one seed (--seed NAME|SMILES)")
    known = list(known_properties(list_predictors()))
    parsed = [o for o in objectives if isinstance(o, Objective)]
    parsed += parse_objectives([o for o in objectives if not isinstance(o, Objective)], known)
    if not parsed and not seeds:
        raise DesignError("nothing to optimise: give an objective (e.g. qed>=0.6) or a seed")
    seed_pairs = resolve_seeds(seeds)
    rng = random.Random(config.random_seed)
    scorer = Scorer(parsed, seed_pairs, config.min_similarity, config.alerts, settings)
    started = time.perf_counter()
    start = starting_population([s for _, s in seed_pairs], min(config.start_size, max(2, config.budget // 3)), rng)
    search = run_ga(scorer, start, config.budget, rng, config, progress, on_generation, should_stop,
                    feasible=lambda s: scorer.cache[s].feasible)
    evaluations = list(scorer.cache.values())
    candidates = shortlist(evaluations, parsed, seed_pairs, config.n, config.diversity,
                           exclude={s for _, s in seed_pairs})
    return DesignResult(candidates, parsed, seed_pairs, scorer.calls, time.perf_counter() - started,
                        search.generations, search.interrupted, evaluated=len(evaluations),
                        feasible=sum(e.feasible for e in evaluations), evaluations=evaluations)
