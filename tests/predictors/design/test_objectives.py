"""Objective specs: every documented form parses, bad ones get one clear line, desirabilities behave."""

from __future__ import annotations

import pytest

from litmol.predictors.api import known_properties
from litmol.predictors.design.objectives import (
    DOMAIN_PENALTY,
    Objective,
    ObjectiveError,
    combined_score,
    desirabilities,
    is_probability,
    parse_objective,
    parse_objectives,
    resolve_seed_bounds,
)
from litmol.predictors.registry import list_predictors

KNOWN = list(known_properties(list_predictors()))


@pytest.mark.parametrize(("spec", "prop", "kind", "lo", "hi"), [
    ("qed>=0.6", "qed", "ge", 0.6, None), ("sa<=4", "sa_score", "le", None, 4.0), ("logs -4..-1", "logs", "range", -4, -1),
    ("bbb max", "bbb", "max", None, None), ("mw min", "mw", "min", None, None), ("TPSA 40..90", "tpsa", "range", 40, 90),
    ("herg<=0.3", "hERG", "le", None, 0.3), ("logp > 1", "clogp", "ge", 1, None), ("logd=1..3", "logd", "range", 1, 3),
    ("qed maximize", "qed", "max", None, None), ("novelty>=0.5", "novelty", "ge", 0.5, None),
])
def test_every_documented_form_parses(spec, prop, kind, lo, hi):
    o = parse_objective(spec, KNOWN)
    assert (o.prop, o.kind, o.lo, o.hi) == (prop, kind, lo, hi)


@pytest.mark.parametrize(("spec", "says"), [
    ("novelty>seed", "not a seed"), ("logs>=seeding", "bad objective"), ("logs seed", "bad objective"),
    ("qed>>0.6", "bad objective"), ("qed", "bad objective"), ("logs -1..-4", "empty"), ("", "bad objective"),
    ("qde>=0.6", "did you mean qed"), ("foo max", "unknown property 'foo'"), ("qed>=abc", "bad objective"),
])
def test_bad_specs_get_one_clear_line(spec, says):
    with pytest.raises(ObjectiveError) as err:
        parse_objective(spec, KNOWN)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_property_named_twice_is_refused():
    with pytest.raises(ObjectiveError, match="two objectives"):
        parse_objectives(["qed>=0.5", "qed max"], KNOWN)


def test_desirability_rises_inside_a_constraint_and_falls_outside():
    o = parse_objective("qed>=0.6", KNOWN)
    assert o.desirability(0.3) == 0.0 and 0 < o.desirability(0.55) < o.desirability(0.6) == pytest.approx(0.9)
    assert o.desirability(0.9) == 1.0 and o.satisfied(0.6) and not o.satisfied(0.59)
    r = parse_objective("logs -4..-1", KNOWN)
    assert r.desirability(-2.5) > r.desirability(-1.2) > r.desirability(-0.5) and r.desirability(None) == 0.0
    up, down = parse_objective("bbb max", KNOWN), parse_objective("mw min", KNOWN)
    assert up.desirability(0.9) == pytest.approx(0.9) and down.desirability(250) > down.desirability(550)


def test_out_of_domain_predictions_count_at_a_penalty():
    objs = parse_objectives(["bbb>=0.7"], KNOWN)
    inside = desirabilities(objs, {"bbb": 0.9, "bbb_in_domain": True})
    outside = desirabilities(objs, {"bbb": 0.9, "bbb_in_domain": False})
    assert outside["bbb>=0.7"] == pytest.approx(DOMAIN_PENALTY * inside["bbb>=0.7"])
    assert combined_score([1.0, 0.25]) == pytest.approx(0.5) and combined_score([0.9, 0.0]) == 0.0


def test_classification_columns_are_their_own_desirability():
    assert all(is_probability(p) for p in ("bbb", "novelty", "hERG", "AMES", "NR-AR", "CYP3A4_Veith", "BBB_Martins"))
    assert not any(is_probability(p) for p in ("qed", "mw", "logs", "LD50_Zhu", "Caco2_Wang", "lipinski_pass"))
    herg = parse_objective("hERG min", KNOWN)
    assert herg.desirability(0.2) == pytest.approx(0.8) and herg.desirability(0.9) == pytest.approx(0.1)


@pytest.mark.parametrize(("spec", "kind"), [("logs>seed", "ge"), ("logS >= seeds", "ge"), ("herg<seed", "le"),
                                            ("sa <= start", "le")])
def test_seed_relative_specs_wait_for_the_seeds_prediction(spec, kind):
    o = parse_objective(spec, KNOWN)
    assert o.kind == kind and o.pending and (o.lo, o.hi) == (None, None)
    assert o.label.endswith("seed")


def test_seed_bounds_beat_every_seed_and_name_it():
    seeds = [("A", "CCO"), ("B", "CCN"), ("C", "CCC")]
    up, down, fixed = parse_objectives(["logs>seed", "sa<seed", "qed>=0.5"], KNOWN)
    got = resolve_seed_bounds([up, down, fixed], seeds,
                              [{"logs": -3.2, "sa_score": 2.5}, {"logs": -2.0, "sa_score": None}, {"sa_score": 3.1}])
    assert (got[0].kind, got[0].lo, got[0].basis, got[0].label) == ("ge", -2.0, "B", "logs>=-2 (B)")
    assert (got[1].kind, got[1].hi, got[1].basis) == ("le", 2.5, "A")
    assert got[2] is fixed and not any(o.pending for o in got)
    assert got[0].satisfied(-1.9) and not got[0].satisfied(-2.1)


def test_a_seed_bound_without_a_seed_or_a_value_is_one_clear_line():
    o = parse_objective("logs>seed", KNOWN)
    with pytest.raises(ObjectiveError, match="give a seed") as err:
        resolve_seed_bounds([o], [], [])
    assert "\n" not in str(err.value)
    with pytest.raises(ObjectiveError, match="no seed has a predicted logs"):
        resolve_seed_bounds([o], [("A", "CCO")], [{"logs": None}])


@pytest.mark.parametrize(("spec", "says"), [
    ("qed>=1e999", "1e999 is not a finite number"), ("logs>=-1e999", "-1e999 is not a finite number"),
    ("qed>=1.5", "qed is between 0 and 1"), ("qed 0.2..2", "qed is between 0 and 1"), ("hERG<=2", "between 0 and 1"),
    ("sa<=11", "sa_score is between 1 and 10"), ("mw>=-5", "mw is at least 0"), ("novelty>=1.2", "between 0 and 1"),
])
def test_bounds_must_be_finite_and_inside_the_property_range(spec, says):
    with pytest.raises(ObjectiveError) as err:
        parse_objective(spec, KNOWN)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_bounds_at_the_edge_of_the_range_and_of_unbounded_properties_are_kept():
    assert parse_objective("qed>=1", KNOWN).lo == 1.0 and parse_objective("sa<=10", KNOWN).hi == 10.0
    assert parse_objective("logs>=-1e3", KNOWN).lo == -1000.0  # logS has no known range
    with pytest.raises(ObjectiveError, match="finite"):
        Objective("logs", "ge", lo=float("nan"))  # built in code, not parsed: still refused


def test_an_infinite_bound_is_exit_status_2_and_one_line_from_the_cli(capsys):
    from litmol.cli.main import main

    assert main(["propose", "--seed", "aspirin", "--objective", "qed>=1e999", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "litmol: error: bad objective 'qed>=1e999': 1e999 is not a finite number"
