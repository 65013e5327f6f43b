"""Design objectives over the predictor registry: parsing `--objective` specs and desirabilities.

A spec names a property (any registry column, or a short alias: `sa`, `logp`, `herg` …) and what is
wanted of it:

    qed>=0.6     at least (a hard constraint: every returned candidate meets it)
    sa<=4        at most (hard)
    logs -4..-1  inside a range (hard)
    logs>=seed   better than the seed molecules' own prediction (hard; `<=seed` for lower): at least the
                 highest seed's value (at most the lowest), fixed when the run starts
    bbb max      as high as possible (an objective, never a constraint)
    mw min       as low as possible

Each objective maps a predicted value to a desirability in [0, 1] (Derringer-style): 1 where a
constraint is met (0.9 at the bound, 1 a tolerance width inside it: a margin against prediction error),
falling linearly to 0 over the property's tolerance width outside it; for max/min a
logistic around the property's typical drug value (probabilities are their own desirability). The
design score is the geometric mean of the desirabilities, so one failed objective pulls it down hard.
A prediction outside its model's applicability domain counts at half its desirability and is flagged.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..chem.smiles_checks import preview
from ..errors import PredictorError

ALIASES = {
    "sa": "sa_score", "sascore": "sa_score", "logp": "clogp", "alogp": "clogp", "psa": "tpsa", "molwt": "mw",
    "weight": "mw", "solubility": "logs", "logsol": "logs", "bbbp": "bbb", "herg": "hERG", "ames": "AMES",
    "dili": "DILI", "clintox": "ClinTox", "hia": "HIA_Hou", "pgp": "Pgp_Broccatelli", "caco2": "Caco2_Wang",
    "ppbr": "PPBR_AZ", "half_life": "Half_Life_Obach", "ld50": "LD50_Zhu", "rotb": "rotatable_bonds",
}

# (typical drug value, tolerance width): the ramp of a constraint and the logistic of max/min
SCALES: dict[str, tuple[float, float]] = {
    "mw": (400.0, 100.0), "clogp": (2.5, 1.0), "tpsa": (80.0, 25.0), "hbd": (2.0, 1.0), "hba": (5.0, 2.0),
    "rotatable_bonds": (5.0, 2.0), "rings": (3.0, 1.0), "aromatic_rings": (2.0, 1.0), "heavy_atoms": (28.0, 7.0),
    "fsp3": (0.35, 0.15), "formal_charge": (0.0, 1.0), "qed": (0.6, 0.15), "sa_score": (3.0, 1.0),
    "lipinski_violations": (0.0, 1.0), "logs": (-3.5, 1.0), "logd": (2.0, 1.0), "bbb": (0.5, 0.15),
    "Solubility_AqSolDB": (-3.5, 1.0), "Lipophilicity_AstraZeneca": (2.0, 1.0), "Caco2_Wang": (-5.0, 0.5),
    "LD50_Zhu": (2.5, 0.7), "PPBR_AZ": (80.0, 15.0), "VDss_Lombardo": (1.0, 1.0), "Half_Life_Obach": (10.0, 8.0),
    "HydrationFreeEnergy_FreeSolv": (-8.0, 3.0), "Clearance_Hepatocyte_AZ": (40.0, 25.0),
    "Clearance_Microsome_AZ": (30.0, 20.0),
}
NOVELTY = "novelty"  # 1 - max Tanimoto (Morgan r2) to the approved drugs; the design scorer computes it
PROBABILITY = {"bbb", NOVELTY}  # and every admet-ai classification column (values in [0, 1])
# the values a property can take where it is bounded (probabilities: [0, 1]); a bound outside is refused
RANGES: dict[str, tuple[float, float]] = {
    "qed": (0.0, 1.0), "sa_score": (1.0, 10.0), "fsp3": (0.0, 1.0), "lipinski_violations": (0.0, 4.0),
    "lipinski_pass": (0.0, 1.0), "veber_pass": (0.0, 1.0), "PPBR_AZ": (0.0, 100.0),
    **{p: (0.0, math.inf) for p in ("mw", "tpsa", "hbd", "hba", "rotatable_bonds", "rings", "aromatic_rings",
                                    "heavy_atoms", "VDss_Lombardo", "Half_Life_Obach", "Clearance_Hepatocyte_AZ",
                                    "Clearance_Microsome_AZ")},
}
DOMAIN_PENALTY = 0.5
INSIDE = 0.9  # a met constraint scores 0.9 at its bound, rising to 1 one tolerance width inside (robust to error)

_SPEC = re.compile(r"""^\s*(?P<prop>[A-Za-z][\w\-]*)\s*(?:
      (?P<op>>=|<=|=>|=<|>|<)\s*(?:(?P<x>[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)|(?P<ref>seeds?|start))
    | (?:\s+|=|:)\s*(?P<lo>[-+]?\d*\.?\d+)\s*\.\.\s*(?P<hi>[-+]?\d*\.?\d+)
    | (?:\s+|=|:)\s*(?P<goal>max|min|maximi[sz]e|minimi[sz]e|high|low)
    )\s*$""", re.VERBOSE | re.IGNORECASE)
SPEC_HELP = ("write PROP>=X, PROP<=X, PROP LO..HI, PROP max, PROP min, PROP>=seed or PROP<=seed "
             "(e.g. qed>=0.6, sa<=4, logs -4..-1, bbb max, logs>=seed)")


class ObjectiveError(PredictorError, ValueError):
    """A design objective that cannot be parsed or names an unknown property."""


@dataclass(slots=True, frozen=True)
class Objective:
    """What is wanted of one predicted property."""

    prop: str  # registry column
    kind: str  # ge, le, range, max, min
    lo: float | None = None
    hi: float | None = None
    basis: str | None = None  # "seed" until the seeds' prediction fixes the bound, then the seed's name

    def __post_init__(self) -> None:
        for bound in (self.lo, self.hi):
            if bound is not None and not math.isfinite(bound):
                raise ObjectiveError(f"bad objective for {self.prop}: a bound must be a finite number (got {bound})")

    @property
    def pending(self) -> bool:
        """A seed-relative bound not yet fixed (resolve_seed_bounds)."""
        return self.basis == "seed" and self.lo is None and self.hi is None

    @property
    def is_constraint(self) -> bool:
        return self.kind in ("ge", "le", "range")

    @property
    def label(self) -> str:
        if self.pending:
            return f"{self.prop}{'>=' if self.kind == 'ge' else '<='}seed"
        suffix = f" ({self.basis})" if self.basis else ""
        return {"ge": f"{self.prop}>={_num(self.lo)}", "le": f"{self.prop}<={_num(self.hi)}",
                "range": f"{self.prop} {_num(self.lo)}..{_num(self.hi)}"}.get(self.kind, f"{self.prop} {self.kind}") + suffix

    def satisfied(self, value: float | None) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.kind == "ge":
            return value >= self.lo
        if self.kind == "le":
            return value <= self.hi
        if self.kind == "range":
            return self.lo <= value <= self.hi
        return True

    def desirability(self, value: float | None) -> float:
        """In [0, 1]; 0 for a missing value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return 0.0
        center, width = scale_of(self.prop)
        if self.kind in ("ge", "le", "range"):
            below = (self.lo - value) if self.lo is not None and value < self.lo else 0.0
            above = (value - self.hi) if self.hi is not None and value > self.hi else 0.0
            if below or above:
                return max(0.0, INSIDE * (1.0 - (below + above) / width))
            margin = min(value - self.lo if self.lo is not None else math.inf,
                         self.hi - value if self.hi is not None else math.inf)
            return INSIDE + (1.0 - INSIDE) * min(1.0, margin / width)
        if is_probability(self.prop):
            d = min(1.0, max(0.0, float(value)))
        else:
            d = 1.0 / (1.0 + math.exp(-(value - center) / width))
        return d if self.kind == "max" else 1.0 - d


def _num(x: float | None) -> str:
    return f"{x:g}" if x is not None else "?"


def is_probability(prop: str) -> bool:
    """Values in [0, 1] that are their own desirability: bbb, novelty and admet-ai's classification columns
    (mixed or upper case, e.g. hERG, AMES, NR-AR; its regression columns are listed apart)."""
    return prop in PROBABILITY or (prop not in SCALES and not prop.islower() and prop not in _REGRESSION_ADMET)


_REGRESSION_ADMET = {"Solubility_AqSolDB", "Lipophilicity_AstraZeneca", "HydrationFreeEnergy_FreeSolv", "Caco2_Wang",
                     "PPBR_AZ", "VDss_Lombardo", "Half_Life_Obach", "Clearance_Hepatocyte_AZ", "Clearance_Microsome_AZ",
                     "LD50_Zhu"}


def value_range(prop: str) -> tuple[float, float] | None:
    """The values `prop` can take, where it is bounded (RANGES, probabilities in [0, 1]); None if unbounded."""
    if prop in RANGES:
        return RANGES[prop]
    return (0.0, 1.0) if is_probability(prop) else None


def _bound(spec: str, prop: str, text: str) -> float:
    """One bound of a spec: a finite number inside the property's range; ObjectiveError (one line) if not."""
    x = float(text)
    if not math.isfinite(x):
        raise ObjectiveError(f"bad objective '{spec}': {text} is not a finite number")
    span = value_range(prop)
    if span is not None and not span[0] <= x <= span[1]:
        where = f"at least {span[0]:g}" if span[1] == math.inf else f"between {span[0]:g} and {span[1]:g}"
        raise ObjectiveError(f"bad objective '{spec}': {prop} is {where}, so {x:g} is out of range")
    return x


def scale_of(prop: str) -> tuple[float, float]:
    if prop in SCALES:
        return SCALES[prop]
    return (0.5, 0.15) if is_probability(prop) else (0.0, 1.0)


def resolve_property(name: str, known: Sequence[str]) -> str:
    """The registry column a user's property name means (case-insensitive, aliases); ObjectiveError if none."""
    by_lower = {k.lower(): k for k in known if not k.endswith(("_std", "_ad", "_in_domain", "_drugbank_pct"))}
    key = name.strip().lower()
    if key in (NOVELTY, "novel"):
        return NOVELTY
    if key in ALIASES and ALIASES[key] in known:
        return ALIASES[key]
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, [*by_lower, *ALIASES], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(by_lower.get(c) or ALIASES[c] for c in close)}?" if close else \
        f"; known: {', '.join(sorted(['qed', 'sa', 'mw', 'tpsa', 'logp', 'logs', 'logd', 'bbb', 'herg', NOVELTY]))} " \
        "and every column of `litmol predictors list`"
    raise ObjectiveError(f"unknown property {preview(name)}{hint}")


MAX_SPEC_CHARS = 200  # "logs>=-4", "bbb max", "qed 0.5..0.9": a longer objective is not one


def parse_objective(spec: str, known: Sequence[str]) -> Objective:
    """One `--objective` spec -> Objective; ObjectiveError (one line) when it is malformed."""
    if len(spec or "") > MAX_SPEC_CHARS:  # before any matching: close-spelling search grows with the text
        raise ObjectiveError(f"objective of {len(spec):,} characters ({preview(spec)}); at most {MAX_SPEC_CHARS}")
    m = _SPEC.match(spec or "")
    if not m:
        raise ObjectiveError(f"bad objective {preview(spec or '')}: {SPEC_HELP}")
    prop = resolve_property(m["prop"], known)
    if m["ref"]:
        if prop == NOVELTY:
            raise ObjectiveError(f"bad objective '{spec}': novelty is measured against the approved drugs, "
                                 "not a seed; write novelty>=X")
        return Objective(prop, "ge" if m["op"] in (">=", "=>", ">") else "le", basis="seed")
    if m["op"]:
        x = _bound(spec, prop, m["x"])
        return Objective(prop, "ge", lo=x) if m["op"] in (">=", "=>", ">") else Objective(prop, "le", hi=x)
    if m["lo"] is not None:
        lo, hi = _bound(spec, prop, m["lo"]), _bound(spec, prop, m["hi"])
        if lo > hi:
            raise ObjectiveError(f"bad objective '{spec}': the range {lo:g}..{hi:g} is empty (write LO..HI, low first)")
        return Objective(prop, "range", lo=lo, hi=hi)
    goal = m["goal"].lower()
    return Objective(prop, "max" if goal.startswith(("max", "high")) else "min")


def parse_objectives(specs: Sequence[str], known: Sequence[str]) -> list[Objective]:
    """Several specs; a property named twice is an error (say it once, as a range if needed)."""
    out = [parse_objective(s, known) for s in specs]
    seen: dict[str, str] = {}
    for o in out:
        if o.prop in seen:
            raise ObjectiveError(f"'{o.prop}' appears in two objectives ({seen[o.prop]}, {o.label}); "
                                 "use one, e.g. a range LO..HI")
        seen[o.prop] = o.label
    return out


def resolve_seed_bounds(objectives: Sequence[Objective], seeds: Sequence[tuple[str, str]],
                        predicted: Sequence[Mapping[str, object]]) -> list[Objective]:
    """Fix each PROP>seed / PROP<seed bound from the seeds' own predictions (`predicted`, one mapping per
    seed): better than every seed, i.e. at least the highest value (at most the lowest). ObjectiveError
    when there is no seed or no seed has a value."""
    out = []
    for o in objectives:
        if not o.pending:
            out.append(o)
            continue
        if not seeds:
            raise ObjectiveError(f"'{o.label}' compares with the seed molecules: give a seed (--seed NAME|SMILES) "
                                 f"or a number ({o.prop}{'>=' if o.kind == 'ge' else '<='}X)")
        values = [(v, label) for (label, _), props in zip(seeds, predicted, strict=True)
                  if (v := as_number(props.get(o.prop))) is not None and not math.isnan(v)]
        if not values:
            raise ObjectiveError(f"'{o.label}': no seed has a predicted {o.prop}; give a number instead")
        value, label = max(values) if o.kind == "ge" else min(values)
        bound = round(value, 3)
        out.append(Objective(o.prop, o.kind, lo=bound if o.kind == "ge" else None,
                             hi=bound if o.kind == "le" else None, basis=label))
    return out


def as_number(value: object) -> float | None:
    """A predicted value as a float; None for a missing, boolean or text value."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def desirabilities(objectives: Sequence[Objective], properties: Mapping[str, object]) -> dict[str, float]:
    """Each objective's desirability for one molecule's predicted properties, halved outside the domain."""
    out = {}
    for o in objectives:
        value = properties.get(o.prop)
        d = o.desirability(as_number(value))
        if properties.get(f"{o.prop}_in_domain") is False:
            d *= DOMAIN_PENALTY
        out[o.label] = d
    return out


def combined_score(values: Sequence[float]) -> float:
    """Geometric mean (0 when any desirability is 0)."""
    if not values:
        return 0.0
    if min(values) <= 0:
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))
