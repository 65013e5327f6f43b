"""Joining or starting a Ray cluster for the jobs that can run on one (`--ray [ADDRESS]`): the index
build's embedding, `predict --input ... --ray`, `eval run --ray`.

"local" starts a cluster on this machine for the length of the job; any other value is the address of a
running one (auto, HOST:PORT, ray://HOST:10001). Ray is imported only here and in the jobs that use it.

The local cluster listens on loopback only: every Ray process (GCS, raylet, workers and actors, the
runtime-env agent, the autoscaler's metrics server) binds 127.0.0.1, not every interface, and no
dashboard or dashboard agent is started (see SECURITY.md, checked by tests/litmol/test_cluster.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

LOCAL = "local"
LOOPBACK = "127.0.0.1"


def ray_init(address: str | None = LOCAL, num_cpus: int | None = None) -> bool:
    """Connect to the cluster at `address`, or start one on this machine for "local" (`num_cpus` of its
    cores, all by default; reachable on 127.0.0.1 only). No dashboard, quiet workers, no Ray Data progress
    bars (the jobs draw their own). True when this call started or joined it (the caller shuts it down
    with `ray.shutdown()`)."""
    import ray

    if ray.is_initialized():
        return False
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": True,
                               "logging_level": logging.WARNING}
    if address in (None, "", LOCAL):
        # Ray starts workers at niceness 15 by default: on a busy laptop they would starve behind everything
        # else. The local cluster's actors get the job's own priority (on a cluster of your own,
        # `RAY_worker_niceness=0 ray start ...` does the same).
        with _loopback_node():
            ray.init(num_cpus=num_cpus, _system_config={"worker_niceness": 0}, _node_ip_address=LOOPBACK,
                     **options)
    else:
        ray.init(address=address, **options)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return True


@contextlib.contextmanager
def _loopback_node() -> Iterator[None]:
    """Let `ray.init(_node_ip_address="127.0.0.1")` keep 127.0.0.1 for the node it starts.

    On Linux, Ray replaces a loopback node address with the machine's outward IP (`services.
    resolve_ip_for_localhost`), and its servers then listen on every interface (`::`, `0.0.0.0` for the
    autoscaler's Prometheus metrics) whatever the node address says. With `ENABLE_RAY_CLUSTER` off (Ray's
    own default on macOS and Windows, `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`) the node keeps 127.0.0.1 and
    every server binds it. Ray reads the flag only while it starts the node in this process (the node's
    processes are given its address), so it is restored right after: a later `ray.init(address=...)` to a
    real cluster from this process is unaffected."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def cluster_shape() -> tuple[int, float]:
    """(CPUs, GPUs) of the connected cluster."""
    import ray

    resources = ray.cluster_resources()
    return int(resources.get("CPU", 1)), float(resources.get("GPU", 0))


def actor_shares(workers: int, jobs: int) -> tuple[int, float, int, float]:
    """(actors, CPUs per actor, threads per actor, GPUs per actor) for a pool of `workers` actors (0: one
    per CPU) over `jobs` pieces of work on the connected cluster. More actors than CPUs share them
    (fractional CPUs, one thread each), so every actor of the pool can be placed; GPUs are shared evenly
    when the cluster has any."""
    cpus, gpus = cluster_shape()
    actors = max(1, min(workers or cpus, jobs))
    per_gpu = min(1.0, gpus / actors) if gpus else 0.0
    share = cpus / actors if actors > cpus else float(cpus // actors)
    return actors, share, max(1, cpus // actors), per_gpu


class ClusterError(RuntimeError):
    """A job on the Ray cluster failed; the message is the cause in one line (Ray's own spans a traceback)."""


@contextlib.contextmanager
def ray_errors() -> Iterator[None]:
    """Turn a Ray failure inside the block (a task or actor that raised or died) into a ClusterError."""
    import ray

    try:
        yield
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)
        if cause is not None and not isinstance(cause, ray.exceptions.RayError):
            text = f"{type(cause).__name__}: {cause}"
        else:
            text = next((line for line in reversed(str(exc).splitlines()) if line.strip()), type(exc).__name__)
        raise ClusterError(f"the Ray job failed: {text.strip()[:500]}") from exc
