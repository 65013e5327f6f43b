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
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PredictorError
from .objectives import Objective, parse_objectives, resolve_seed_bounds
from .ranking import Candidate, inchikey, shortlist
from .scoring import Scorer
from .stopping import DesignStopped, StopRule

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
    pool: str = "zinc"  # starting pool: zinc (ZINC 250k, mol_ga's copy) or moses (molsets' training set)
    include_known: bool = False  # also shortlist approved drugs and unchanged starting molecules (marked known)
    stale_generations: int = 6  # stop early after this many generations with no new molecule
    time_limit_s: float | None = None  # the whole run, ranking included, ends within about this (best so far)


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
    seconds: float = 0.0  # time spent in the loop, over every resumed piece of a checkpointed run


CHECKPOINT_VERSION = 1


def _save_checkpoint(path: Path, key: dict[str, Any], scores: dict[str, float], population: list[tuple[float, str]],
                     rng: random.Random, stale: int, generations: list[GenerationInfo], seconds: float) -> None:
    """The whole GA state as JSON (atomically): enough to continue exactly where the run was."""
    version, internal, gauss = rng.getstate()
    state = {"version": CHECKPOINT_VERSION, "key": key, "scores": list(scores.items()), "population": population,
             "rng": [version, list(internal), gauss], "stale": stale, "seconds": seconds,
             "generations": [asdict(g) for g in generations]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _load_checkpoint(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
        ok = state.get("version") == CHECKPOINT_VERSION and state.get("key") == key
    except (OSError, ValueError) as exc:
        raise DesignError(f"checkpoint {path} is unreadable ({exc}); delete it to start again") from None
    if not ok:
        raise DesignError(f"checkpoint {path} is from a different run (budget, settings or start); "
                          "delete it to start again")
    return state


def run_ga(score: Callable[[list[str]], list[float]], start: Sequence[str], budget: int, rng: random.Random,
           config: DesignConfig, progress: bool = False,
           on_generation: Callable[[GenerationInfo], None] | None = None,
           should_stop: Callable[[], bool] | None = None,
           feasible: Callable[[str], bool] | None = None,
           checkpoint: Path | None = None, checkpoint_seconds: float = 60.0,
           time_left: Callable[[], float] | None = None) -> SearchResult:
    """mol_ga's Graph GA (blended crossover/mutation, quantile sampling, keep the best `population_size`)
    maximising `score` over at most `budget` distinct molecules, the starting ones included. Any scoring
    function works (the design oracle, a PMO oracle). Stops early after `stale_generations` generations
    that produce nothing new, when `should_stop()` turns true, when `time_left()` (seconds) is shorter than
    the last generation step took, when `score` raises DesignStopped, or on KeyboardInterrupt.

    `checkpoint`: a JSON file the state is saved to at most every `checkpoint_seconds` (and when the run
    stops); a run started again with the same file, budget, settings and start continues from it and ends
    exactly as an uninterrupted run would (the RNG state is saved too)."""
    from mol_ga.graph_ga.gen_candidates import graph_ga_blended_generation
    from mol_ga.sample_population import uniform_quantile_sampling
    from tqdm import tqdm

    scores: dict[str, float] = {}
    generations: list[GenerationInfo] = []
    interrupted = False
    started = time.perf_counter()
    first = list(dict.fromkeys(start))[:budget]
    key = {"budget": budget, "population_size": config.population_size, "offspring_size": config.offspring_size,
           "stale_generations": config.stale_generations, "start": first}
    resumed = _load_checkpoint(checkpoint, key) if checkpoint else None
    before = resumed["seconds"] if resumed else 0.0
    saved_at = time.perf_counter()
    bar = tqdm(total=budget, desc="designing", unit="call", disable=not progress, leave=False)

    def evaluate(smiles: list[str]) -> None:
        for s, v in zip(smiles, score(smiles), strict=True):
            scores[s] = float(v)
        bar.update(len(smiles))

    def save(force: bool = False) -> None:
        nonlocal saved_at
        if checkpoint and (force or time.perf_counter() - saved_at >= checkpoint_seconds):
            _save_checkpoint(checkpoint, key, scores, population, rng, stale, generations,
                             before + time.perf_counter() - started)
            saved_at = time.perf_counter()

    population: list[tuple[float, str]] = []
    stale = 0
    clean = True
    step_s = 0.0  # the last generation step (sampling, crossover, mutation) took this long
    try:
        if resumed:
            scores.update((s, float(v)) for s, v in resumed["scores"])
            population = [(float(v), s) for v, s in resumed["population"]]
            version, internal, gauss = resumed["rng"]
            rng.setstate((version, tuple(internal), gauss))
            stale = int(resumed["stale"])
            generations = [GenerationInfo(**g) for g in resumed["generations"]]
            bar.update(len(scores))
            logger.info("resumed from %s: %d molecules scored", checkpoint, len(scores))
        else:
            evaluate(first)
            population = heapq.nlargest(config.population_size, ((scores[s], s) for s in first))
            save(force=True)
        while len(scores) < budget and stale < config.stale_generations:
            if (should_stop and should_stop()) or (time_left is not None and time_left() <= step_s):
                interrupted = True
                break
            clean = False  # from here until the generation is complete, the state is not saved
            step_started = time.monotonic()
            samples = uniform_quantile_sampling(population, 2 * config.offspring_size, rng)
            want = min(config.offspring_size, budget - len(scores))
            offspring = sorted(graph_ga_blended_generation(samples, want, rng))  # sorted: set order is not seeded
            step_s = time.monotonic() - step_started
            new = [s for s in offspring if s not in scores][:budget - len(scores)]
            if not new:
                stale += 1
                clean = True
                continue
            stale = 0
            evaluate(new)
            merged = {s: v for v, s in population} | {s: scores[s] for s in new}
            population = heapq.nlargest(config.population_size, ((v, s) for s, v in merged.items()))
            info = GenerationInfo(len(generations) + 1, len(scores), population[0][0],
                                  sum(map(feasible, scores)) if feasible else 0,
                                  before + time.perf_counter() - started)
            generations.append(info)
            clean = True
            logger.info("generation %d: %d molecules scored, best %.3f, %d feasible", info.generation, info.calls,
                        info.best, info.feasible)
            bar.set_postfix(best=f"{info.best:.3f}")
            save()
            if on_generation:
                on_generation(info)
    except (KeyboardInterrupt, DesignStopped) as exc:
        interrupted = True
        logger.info("stopped early (%s): keeping what was scored", exc or "Ctrl-C")
    finally:
        bar.close()
    if population and clean:  # after Ctrl-C inside a generation, the last save (a complete one) stands
        save(force=True)
    return SearchResult(scores, generations, interrupted, before + time.perf_counter() - started)


# seconds kept for ranking under a time limit: measured 0.25 s for 250 molecules scored, 0.71 s for 1,000 (2 busy
# cores), so a fixed part and about twice the measured cost per molecule
RANKING_S = 0.3
RANKING_S_PER_CALL = 0.0015


def propose(seeds: Sequence[str], objectives: Sequence[str | Objective], config: DesignConfig | None = None,
            settings: Any = None, progress: bool = False,
            on_generation: Callable[[GenerationInfo], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> DesignResult:
    """Run the GA and return the ranked, diverse shortlist of feasible candidates.

    `objectives`: specs ("qed>=0.6", "bbb max") or Objective objects. `config.time_limit_s` bounds the
    whole call, ranking included: the run stops between oracle batches (sized to end in time) and
    between its steps, and ranks what it has. `should_stop()` turning true (the CLI's Ctrl-C) or a
    KeyboardInterrupt ends the run the same way; `interrupted` is then true. What cannot be cut is one
    prediction batch already started and, in a fresh process, loading a predictor's models.
    """
    from ..api import known_properties
    from ..registry import list_predictors
    from .pool import approved_keys, starting_population

    started = time.monotonic()
    config = config or DesignConfig()
    if config.budget < 10:
        raise DesignError(f"budget {config.budget} is too small: at least 10 oracle calls")
    if config.min_similarity is not None and not 0 < config.min_similarity <= 1:
        raise DesignError(f"min similarity must be in (0, 1] (got {config.min_similarity})")
    if config.min_similarity and not seeds:
        raise DesignError("a minimum similarity needs at least one seed (--seed NAME|SMILES)")
    if config.time_limit_s is not None and not 0 < config.time_limit_s < math.inf:
        raise DesignError(f"time limit must be a positive number of seconds (got {config.time_limit_s})")
    known = list(known_properties(list_predictors()))
    parsed = [o for o in objectives if isinstance(o, Objective)]
    parsed += parse_objectives([o for o in objectives if not isinstance(o, Objective)], known)
    if not parsed and not seeds:
        raise DesignError("nothing to optimise: give an objective (e.g. qed>=0.6) or a seed")
    seed_pairs = resolve_seeds(seeds)
    scorer: Scorer | None = None
    stop = None
    if config.time_limit_s is not None or should_stop is not None:
        deadline = started + config.time_limit_s if config.time_limit_s is not None else None
        stop = StopRule(deadline, should_stop,
                        reserve=lambda: RANKING_S + RANKING_S_PER_CALL * (scorer.calls if scorer else 0))
    rng = random.Random(config.random_seed)
    start: list[str] = []
    search = SearchResult({}, [], interrupted=False)
    try:
        parsed = _fix_seed_bounds(parsed, seed_pairs, settings, stop)
        scorer = Scorer(parsed, seed_pairs, config.min_similarity, config.alerts, settings, stop=stop)
        approved_keys()  # loaded before the search, so that ranking takes a fraction of a second
        if stop:
            stop.check("the starting population")
        start = starting_population([s for _, s in seed_pairs], min(config.start_size, max(2, config.budget // 3)),
                                    rng, pool=config.pool, stop=stop)
        search = run_ga(scorer, start, config.budget, rng, config, progress, on_generation, should_stop,
                        feasible=lambda s: scorer.cache[s].feasible,
                        time_left=stop.remaining if stop and stop.deadline is not None else None)
    except (DesignStopped, KeyboardInterrupt) as exc:  # before the search started: nothing scored
        logger.info("stopped before the search (%s)", exc or "Ctrl-C")
        search.interrupted = True
    evaluations = list(scorer.cache.values()) if scorer else []
    known = {inchikey(s): "starting pool" for s in start} | approved_keys()
    candidates = shortlist(evaluations, parsed, seed_pairs, config.n, config.diversity,
                           exclude={s for _, s in seed_pairs}, known=known, include_known=config.include_known)
    return DesignResult(candidates, parsed, seed_pairs, scorer.calls if scorer else 0, time.monotonic() - started,
                        search.generations, search.interrupted, evaluated=len(evaluations),
                        feasible=sum(e.feasible for e in evaluations), evaluations=evaluations)


def _fix_seed_bounds(objectives: list[Objective], seeds: list[tuple[str, str]], settings: Any,
                     stop: StopRule | None) -> list[Objective]:
    """PROP>=seed / PROP<=seed bounds fixed from the seeds' own predictions (one batch)."""
    pending = list(dict.fromkeys(o.prop for o in objectives if o.pending))
    seed_values: list[dict] = [{} for _ in seeds]
    if pending and seeds:
        from ..api import predict

        if stop:
            stop.check("the seeds were predicted")
        rows = predict([s for _, s in seeds], properties=pending, alerts=False, settings=settings)
        seed_values = [row.properties if row.valid else {} for row in rows]
    return resolve_seed_bounds(objectives, seeds, seed_values)
