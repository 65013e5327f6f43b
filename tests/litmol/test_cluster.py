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
