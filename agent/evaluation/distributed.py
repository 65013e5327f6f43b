"""`litmol eval run --ray [ADDRESS]`: the questions of a batch spread over a pool of Ray actors.

Each actor opens its own agent session from the run's settings (its index and its chat model: with
`--backend openai --base-url URL` every actor talks to the one shared LLM server, e.g. `litmol serve llm`
or vLLM; with the local backend each actor loads the model itself). The driver hands out the pending
questions and stays the only writer of results.jsonl: each record is appended (durably) as it comes back,
and an id already written is never written again, so the run stays resumable and exactly-once — a job
killed at any point resumes with the questions that have no record yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from litmol.cluster import actor_shares, ray_errors, ray_init

logger = logging.getLogger(__name__)


class EvalWorker:
    """One agent session on a Ray actor; `ask` answers one question into its result record."""

    def __init__(self, settings: Any, threads: int) -> None:
        from litmol.retrieval import embed

        from ..session import AgentSession

        embed.set_threads(threads)  # query embeddings: the CPUs Ray gave this actor
        self.session = AgentSession(settings)

    def ask(self, question: Any, max_steps: int, self_consistency: bool) -> dict[str, Any]:
        from .runner import run_question

        return run_question(question, self.session, max_steps, self_consistency)


def run_on_ray(pending: list[Any], settings: Any, max_steps: int, self_consistency: bool,
               address: str | None, workers: int) -> Iterator[dict[str, Any]]:
    """Yield the result record of every pending question, in the order they finish."""
    import ray
    from ray.util import ActorPool

    if not pending:
        return
    started = ray_init(address)
    try:
        actors, cpus, threads, _ = actor_shares(workers, len(pending))
        remote = ray.remote(num_cpus=cpus, max_restarts=0)(EvalWorker)
        pool = ActorPool([remote.remote(settings, threads) for _ in range(actors)])
        ask: Callable[[Any, Any], Any] = lambda actor, q: actor.ask.remote(q, max_steps, self_consistency)  # noqa: E731
        with ray_errors():
            yield from pool.map_unordered(ask, pending)
    finally:
        if started:
            ray.shutdown()
