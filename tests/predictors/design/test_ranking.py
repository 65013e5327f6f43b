"""Pareto fronts: the front number of each point, as non-dominated sorting defines it."""

from __future__ import annotations

import numpy as np

from litmol.predictors.design.ranking import pareto_fronts


def test_fronts_are_peeled_in_order_and_ties_share_a_front():
    points = np.array([[1.0, 1.0], [0.0, 2.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    assert pareto_fronts(points).tolist() == [1, 1, 3, 2, 1, 2]
    assert pareto_fronts(np.zeros((0, 2))).tolist() == []


def test_every_point_of_a_front_is_dominated_only_by_earlier_fronts():
    points = np.round(np.random.default_rng(0).random((600, 3)), 2)  # many ties
    fronts = pareto_fronts(points)
    for i in range(len(points)):
        dominates = np.all(points >= points[i], axis=1) & np.any(points > points[i], axis=1)
        assert np.all(fronts[dominates] < fronts[i])
        assert fronts[i] == 1 or np.any(fronts[dominates] == fronts[i] - 1)  # not a later front than needed
