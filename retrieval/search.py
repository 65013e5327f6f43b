"""Search records and rank fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

SearchMode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
MAX_RESULTS = 100  # passages per query at most: enough to read or rerank, never the whole corpus


@dataclass(slots=True)
class Passage:
    """One search hit, as the `litmol search --json` contract and the agent see it."""

    pmid: str
    title: str
    year: int | None
    score: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum_i w_i / (k + rank_i(id)), ranks from 1.

    An id missing from a list contributes nothing for it. Ties keep first-seen order.
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
