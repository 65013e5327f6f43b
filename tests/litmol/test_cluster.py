"""litmol/cluster.py: a failure inside a Ray job reaches the user as one line naming its cause."""

from __future__ import annotations

import pytest


def test_a_failed_ray_task_becomes_one_line_with_its_cause():
    import ray

    from litmol.cluster import ClusterError, ray_errors

    remote_trace = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: no such predictor"
    with pytest.raises(ClusterError) as caught, ray_errors():
        raise ray.exceptions.RayTaskError("predict", remote_trace, ValueError("no such predictor"))
    assert str(caught.value) == "the Ray job failed: ValueError: no such predictor"
    with pytest.raises(ClusterError) as caught, ray_errors():
        raise ray.exceptions.ActorDiedError()
    assert "\n" not in str(caught.value) and str(caught.value).startswith("the Ray job failed: ")
    with pytest.raises(KeyError), ray_errors():  # anything else passes through untouched
        raise KeyError("x")


LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}


@pytest.mark.integration
def test_the_local_cluster_listens_on_loopback_only():
    """`--ray` alone starts a cluster for the job: none of its processes (GCS, raylet, the driver's and the
    workers' gRPC servers, an actor, the runtime-env agent, the autoscaler's metrics server) may listen on
    an outside interface. Before issue 32 the gRPC servers listened on `::` (every interface), the
    autoscaler's Prometheus metrics on 0.0.0.0:44217 and the runtime-env agent on the machine's IP."""
    import psutil
    import ray

    from litmol.cluster import ray_init

    assert ray_init("local", num_cpus=1)
    try:
        @ray.remote
        class Probe:
            def node_ip(self) -> str:
                return ray.util.get_node_ip_address()

        probe = Probe.remote()  # an actor: one more worker process with its own gRPC server
        assert ray.get(probe.node_ip.remote(), timeout=120) == "127.0.0.1"
        processes = {p.pid: p for p in psutil.Process().children(recursive=True)}
        processes[psutil.Process().pid] = psutil.Process()
        names = {pid: p.name() for pid, p in processes.items() if p.is_running()}
        listening = [(names.get(c.pid, "?"), c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                     if c.pid in names and c.status == psutil.CONN_LISTEN]
        outside = [s for s in listening if s[1] not in LOOPBACK]
        assert not outside, outside
        kinds = {name for name, _, _ in listening}
        assert {"gcs_server", "raylet"} <= kinds and len(listening) >= 5, listening
    finally:
        ray.shutdown()
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER  # restored: a later ray.init(address=...) resolves real IPs
