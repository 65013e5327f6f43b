"""The `propose_candidates` tool: the design engine (predictors/design) with a budget small enough for a
chat turn, its shortlist written as the model should repeat it (numbers, flags, "model predictions")."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from langchain.tools import ToolRuntime
from langchain_core.tools import tool
from pydantic import Field

logger = logging.getLogger(__name__)

CHAT_BUDGET = 400  # molecules scored per call: about half a minute on 2 cores with the default predictors
MAX_CANDIDATES = 10
TIME_LIMIT_S = 35.0  # the whole call ends within this (and a batch's misestimate); it keeps the best so far


def _line(c: Any) -> str:
    shown = []
    for key, value in c.properties.items():
        if value is None:
            continue
        text = f"{key} {value:.2f}" if isinstance(value, float) else f"{key} {value}"
        if key in c.uncertainty:
            text += f" ± {c.uncertainty[key]:.2f}"
        if key in c.out_of_domain:
            text += " (outside the model's domain)"
        shown.append(text)
    seed = f"; similarity {c.seed_similarity:.2f} to {c.nearest_seed}" if c.seed_similarity is not None else ""
    drug = f"; nearest approved drug {c.nearest_drug} ({c.drug_similarity:.2f})" if c.nearest_drug else ""
    alerts = f"; alerts: {', '.join(c.alerts)}" if c.alerts else ""
    return f"{c.rank}. {c.smiles} score {c.score:.2f}: " + ", ".join(shown) + seed + drug + alerts


@tool(parse_docstring=True)
def propose_candidates(objectives: Annotated[list[str], Field(max_length=6)], runtime: ToolRuntime[Any],
                       seeds: Annotated[list[str], Field(max_length=3)] = [],  # noqa: B006
                       n: int = 5, min_similarity: float = 0.4) -> str:
    """Design new candidate compounds: analogues of seed molecules that meet property targets (predictions).

    Args:
        objectives: Property targets, e.g. ["bbb>=0.7", "logs>=-4", "qed>=0.6", "sa<=4"]; forms PROP>=X, PROP<=X, PROP LO..HI, PROP max, PROP min; "logs>=seed" = better than the seed.
        seeds: 1-3 approved-drug names or SMILES to start from, e.g. ["imatinib"]; empty: start from ZINC.
        n: How many candidates (1-10).
        min_similarity: Least Tanimoto similarity to a seed (0.2-0.9).
    """
    from litmol.predictors.design import DesignConfig, DesignError, ObjectiveError, propose

    asked, n = int(n), max(1, min(int(n), MAX_CANDIDATES))
    similarity = min(max(float(min_similarity), 0.2), 0.9) if seeds else None
    config = DesignConfig(n=n, budget=CHAT_BUDGET, min_similarity=similarity, random_seed=0,
                          time_limit_s=TIME_LIMIT_S)
    try:
        result = propose(list(seeds), list(objectives), config, settings=runtime.context.settings.predictors)
    except (DesignError, ObjectiveError) as exc:
        return f"propose_candidates failed: {exc}. Fix the seeds or objectives and call it again."
    except Exception as exc:
        logger.exception("propose_candidates")
        return f"propose_candidates failed: {exc}. Tell the user the design step failed."
    targets = ", ".join(o.label for o in result.objectives) or "similarity to the seeds"
    head = (f"<candidates> {len(result.candidates)} designed compounds for {targets}"
            + (f" near {', '.join(n for n, _ in result.seeds)}" if result.seeds else "")
            + f" ({result.calls} molecules scored, {result.feasible} met every constraint"
            + (f"; stopped at the {TIME_LIMIT_S:.0f} s limit" if result.interrupted else "")
            + (f"; at most {MAX_CANDIDATES} per call, {asked} were asked" if asked > MAX_CANDIDATES else "")
            + "). These are model predictions, not measurements; say so.")
    if not result.candidates and result.interrupted:
        return head + ("\nNone met every constraint in the time: call it again (a first call loads the models) "
                       "or suggest loosening a target.")
    if not result.candidates:
        return head + "\nNone met every constraint: suggest loosening a target or a lower similarity."
    return head + "\n" + "\n".join(_line(c) for c in result.candidates)
