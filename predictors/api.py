"""Batch prediction: inputs in, one result per input out, in order, bad rows kept with their error."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from litmol.settings import PredictorSettings

from .chem.alerts import find_alerts
from .chem.resolve import resolve_input
from .errors import UnknownPredictorError, known_names_hint, quoted_names
from .registry import get_predictor, list_predictors
from .rows import Alert, PredictionRow

logger = logging.getLogger(__name__)

DEFAULT_PREDICTORS = ("rdkit",)
MAX_BATCH = 10_000


def known_properties(predictors: Sequence[str]) -> dict[str, str]:
    """Property name -> predictor name for the given predictors."""
    return {p.name: name for name in predictors for p in get_predictor(name).properties()}


ALERT_MODES = ("core", "all", "none")
PARALLEL_MIN_INPUTS = 512  # below this, starting worker processes costs more than it saves
_POOL: Any = None


def alert_mode(alerts: bool | str) -> str:
    """`True`/"core": PAINS, Brenk, NIH; "all": plus medchem's ~2,500 rules; `False`/"none": skip."""
    mode = {True: "core", False: "none"}.get(alerts, alerts) if isinstance(alerts, bool) else str(alerts).lower()
    if mode not in ALERT_MODES:
        raise ValueError(f"alerts must be one of {', '.join(ALERT_MODES)} (got {alerts!r})")
    return mode


def _workers(settings: PredictorSettings | None) -> int:
    """Processes for the RDKit stage: `settings.workers`, else one per core (1 in daemon processes)."""
    import multiprocessing

    if multiprocessing.current_process().daemon:  # e.g. a service worker: cannot have children
        return 1
    workers = (settings or PredictorSettings()).workers
    return workers or max(1, len(os.sched_getaffinity(0)))


def _rdkit_stage(texts: Sequence[str], descriptors: bool, mode: str) -> list[tuple[Any, dict, list[Alert]]]:
    """Resolve inputs, then descriptors and alerts of the valid ones (runs in worker processes)."""
    from .chem.alerts import pattern_bits
    from .chem.descriptors import compute_descriptors

    out = []
    for text in texts:
        r = resolve_input(text)
        bits = pattern_bits(r.mol) if r.valid and (descriptors or mode != "none") else None
        props = compute_descriptors(r.mol, bits) if r.valid and descriptors else {}
        found = find_alerts(r.mol, mode == "all", bits=bits) if r.valid and mode != "none" else []
        out.append((r, props, found))
    return out


def _run_rdkit_stage(texts: Sequence[str], descriptors: bool, mode: str,
                     settings: PredictorSettings | None) -> list[tuple[Any, dict, list[Alert]]]:
    global _POOL
    if len(texts) < PARALLEL_MIN_INPUTS:
        return _rdkit_stage(texts, descriptors, mode)
    workers = _workers(settings)
    if workers == 1:
        return _rdkit_stage(texts, descriptors, mode)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if _POOL is None:
        _POOL = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
        _stop_workers_on_sigterm()
    size = max(64, -(-len(texts) // (workers * 4)))
    parts = [texts[i:i + size] for i in range(0, len(texts), size)]
    results: list[tuple[Any, dict, list[Alert]]] = []
    for part in _POOL.map(_rdkit_stage, parts, [descriptors] * len(parts), [mode] * len(parts)):
        results += part
    return results


def _terminate_pool() -> None:
    """Stop the worker processes now (they are the forkserver's children: they outlive this process)."""
    global _POOL
    pool, _POOL = _POOL, None
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(2)


def _stop_workers_on_sigterm() -> None:
    """On SIGTERM, terminate the pool's workers, then do what SIGTERM did before (by default: die).

    Only from the main thread (where signal handlers live); an ignored SIGTERM stays ignored.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        _terminate_pool()
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(signum, frame)
        else:
            os.kill(os.getpid(), signum)  # the default action, as if this handler had not been here

    signal.signal(signal.SIGTERM, on_sigterm)


def predict_inputs(inputs: Sequence[str], properties: Sequence[str] | None = None,
                   predictors: Sequence[str] | None = None, alerts: bool | str = "core",
                   settings: PredictorSettings | None = None) -> list[PredictionRow]:
    """Predict properties for SMILES / MOL blocks / drug names, in this process.

    Returns one PredictionRow per input, in input order; an input that cannot be resolved has
    `valid=False` and an `error` (and `suggestions` when it looks like a misspelt drug name).
    `predictors` defaults to `rdkit`, or to whichever predictors provide the requested
    `properties` (unknown names raise UnknownPredictorError). `alerts`: see `alert_mode`.
    Large batches run parsing, descriptors and alerts in `settings.workers` processes (default:
    one per core; `settings` defaults to PredictorSettings()).
    """
    if len(inputs) > MAX_BATCH:
        raise ValueError(f"{len(inputs):,} inputs; at most {MAX_BATCH:,} per call (split the file)")
    mode = alert_mode(alerts)
    wanted = list(predictors or (list_predictors() if properties else DEFAULT_PREDICTORS))
    for name in wanted:
        get_predictor(name)  # unknown predictor names fail before any work
    if properties:
        table = known_properties(wanted)
        unknown = [p for p in properties if p not in table]
        if unknown:
            raise UnknownPredictorError(f"unknown properties: {quoted_names(unknown)}; {known_names_hint(unknown, table)}")
        wanted = [n for n in wanted if n in {table[p] for p in properties}]
    staged = _run_rdkit_stage(list(inputs), "rdkit" in wanted, mode, settings)
    valid = [r for r, _, _ in staged if r.valid]
    others = [name for name in wanted if name != "rdkit"]
    per_predictor = {name: get_predictor(name).predict([r.mol for r in valid]) for name in others}
    results: list[PredictionRow] = []
    position = 0
    for r, descriptors, found in staged:
        row = PredictionRow(r.input, r.smiles, r.valid, r.error, name=r.name, resolved_by=r.how,
                            properties=dict(descriptors), alerts=found)
        if r.valid:
            for name in others:
                row.properties.update(per_predictor[name][position])
            if properties:
                row.properties = {k: v for k, v in row.properties.items() if k in properties}
            position += 1
        else:
            row.suggestions = list(r.suggestions)
        results.append(row)
    return results


def predict(inputs: Sequence[str], properties: Sequence[str] | None = None,
            predictors: Sequence[str] | None = None, alerts: bool | str = "core",
            settings: PredictorSettings | None = None) -> list[PredictionRow]:
    """`predict_inputs` here, or on the predictor service when `settings.url` is set
    (`settings` defaults to PredictorSettings(): litmol.toml [predictors], LITMOL_PREDICTOR_URL).

    Same arguments, rows and errors either way (UnknownPredictorError for unknown names, ValueError
    above MAX_BATCH); the service path can also raise PredictorServiceError (unreachable, busy, timeout).
    """
    settings = settings or PredictorSettings()
    if not settings.url:
        return predict_inputs(inputs, properties, predictors, alerts, settings)
    if len(inputs) > MAX_BATCH:
        raise ValueError(f"{len(inputs):,} inputs; at most {MAX_BATCH:,} per call (split the file)")
    from .service.client import shared_client

    return shared_client(settings.url, settings.timeout, settings.retries).predict(inputs, properties, predictors,
                                                                                  alerts)
