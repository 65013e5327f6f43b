"""Candidate proposal: seeds and objectives over the predictor registry -> mol_ga's Graph GA under an
oracle budget -> a ranked, diverse shortlist of feasible candidates.

Layout: objectives.py (specs and desirabilities), scoring.py (the batch oracle, in-process or on the
predictor service), pool.py (ZINC 250k from mol_ga, approved drugs), engine.py (the GA loop),
ranking.py (constraints, Pareto fronts, diversity, explanations), stopping.py (time limits, Ctrl-C, and
oracle batches sized to stop in time).

Public API:
    propose(seeds, objectives, config=None, settings=None, progress=False) -> DesignResult
    DesignConfig, DesignResult, Candidate, Objective, parse_objective(s), DesignError, ObjectiveError
"""

from __future__ import annotations

from litmol.lazy import lazy_getattr

_LAZY = {
    "propose": "engine", "DesignConfig": "engine", "DesignResult": "engine", "DesignError": "engine",
    "resolve_seeds": "engine", "Candidate": "ranking", "Objective": "objectives", "ObjectiveError": "objectives",
    "parse_objective": "objectives", "parse_objectives": "objectives",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = list(_LAZY)
