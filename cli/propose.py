"""`litmol propose`: candidate compounds from seeds and objectives (mol_ga Graph GA over our predictors)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, bounded, print_json, settings

EPILOG = """objectives (repeat --objective; any column of `litmol predictors list`, or sa, logp, herg, ...):
  qed>=0.6      at least   (hard: every candidate meets it)
  sa<=4         at most    (hard)
  logs -4..-1   a range    (hard)
  bbb max       as high as possible (soft: ranks, never filters)
  mw min        as low as possible
  logs>=seed    better than the seeds' own prediction (hard: at least the best seed's value; herg<=seed: lower)
  novelty>=0.5  1 - Tanimoto to the nearest approved drug (computed, not predicted)
Predictions outside a model's applicability domain count at half weight and are flagged (admet-ai
columns, which have no domain model, are judged by similarity to the approved drugs).
Approved drugs and unchanged starting molecules are never proposed unless --include-known.

Ctrl-C stops the search after the current prediction batch (a few seconds), then ranks and writes the
best so far as a finished run would (stdout, --output), says "interrupted" on stderr and exits with
status 0; a second Ctrl-C aborts at once, writing nothing (status 130).

examples:
  litmol propose --seed imatinib --objective "bbb>=0.7" --objective "logs>=-4" --min-similarity 0.4 -n 10
  litmol propose --seed nifedipine --seed amlodipine --objective "qed>=0.6" --objective "sa<=4" --json
  litmol propose --objective "qed max" --objective "tpsa 40..90" --budget 5000 --output hits.sdf
  litmol propose --seed imatinib --objective "bbb>=0.6" --objective "logs>=seed"   # more soluble than imatinib
"""


def _print_table(result: Any) -> None:
    cands = result.candidates
    props = [o.prop for o in result.objectives]
    if result.objectives:
        print("objectives: " + ", ".join(o.label for o in result.objectives))
    header = f"{'#':>3} {'score':>6} {'sim':>5}  " + " ".join(f"{p[:10]:>10}" for p in props) + "  smiles"
    print(header)
    for c in cands:
        sim = f"{c.seed_similarity:.2f}" if c.seed_similarity is not None else "-"
        values = " ".join(f"{_fmt(c.properties.get(p)) + ('*' if p in c.out_of_domain else ''):>10}" for p in props)
        print(f"{c.rank:>3} {c.score:>6.3f} {sim:>5}  {values}  {c.smiles}")
    for c in cands:
        notes = ([f"alerts: {', '.join(c.alerts)}"] if c.alerts else []) + ([f"known: {c.known}"] if c.known else [])
        if notes:
            print(f"{c.rank:>3}  " + "; ".join(notes))
    if any(c.out_of_domain for c in cands):
        print("* predicted outside the model's applicability domain (counted at half weight)")


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


EXIT_ABORTED = 130  # 128 + SIGINT


def _abort() -> None:
    """A second Ctrl-C: stop now, writing nothing (as an uncaught SIGINT would, status 130)."""
    sys.stderr.write("aborted\n")
    sys.stderr.flush()
    os._exit(EXIT_ABORTED)


def cmd_propose(args: argparse.Namespace) -> int:
    from litmol.predictors.design.stopping import catch_interrupts  # the standard library only

    if args.output and Path(args.output).suffix.lower() not in (".csv", ".sdf"):
        raise UsageError(f"--output {args.output}: write .csv or .sdf")
    # Ctrl-C: stop, then rank and write the best so far. Entered before numpy, torch and RDKit are imported,
    # so that the threads they start inherit the blocked SIGINT (see catch_interrupts).
    with catch_interrupts(on_repeat=_abort) as interrupted:
        from litmol.predictors.design import DesignConfig, propose

        config = DesignConfig(n=args.n, budget=args.budget, min_similarity=args.min_similarity, alerts=args.alerts,
                              random_seed=args.random_seed, include_known=args.include_known, pool=args.pool)
        result = propose(args.seed or [], args.objective or [], config, settings=settings(args).predictors,
                         progress=not args.quiet, should_stop=interrupted.is_set)
        _write(args, result)
    return EXIT_OK


def _write(args: argparse.Namespace, result: Any) -> None:
    """The shortlist to stdout (table or JSON) and --output, and one summary line on stderr."""
    from litmol.predictors.design.export import write_candidates

    if args.output:
        write_candidates(Path(args.output), result)
    if args.json:
        print_json([c.to_dict() for c in result.candidates])
    else:
        _print_table(result)
    note = " (interrupted: best so far)" if result.interrupted else ""
    print(f"{len(result.candidates)} candidates from {result.feasible:,} feasible of {result.evaluated:,} scored "
          f"({result.calls:,} oracle calls, {result.seconds:.0f} s){note}"
          + (f" -> {args.output}" if args.output else "") + "; these are model predictions, not measurements",
          file=sys.stderr)
    if not result.candidates:
        print("no molecule met every constraint: loosen one, raise --budget or lower --min-similarity",
              file=sys.stderr)


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("propose", parents=[shared], help="propose candidate compounds for seeds and objectives",
                       description="A Graph GA (mol_ga) explores analogues of the seeds (or ZINC 250k) and "
                       "scores them with litmol's predictors; returns a ranked, diverse shortlist in which "
                       "every candidate meets the hard constraints, with properties, uncertainties, domain "
                       "flags, the nearest seed and approved drug, and why it ranks there. Deterministic for "
                       "a --random-seed; Ctrl-C stops and keeps the best so far (see below).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", action="append", metavar="NAME|SMILES", help="a starting molecule (repeatable)")
    p.add_argument("--objective", action="append", metavar="SPEC", help="a target (repeatable), see below")
    p.add_argument("--min-similarity", type=bounded(float, "a number", 0.01, 1.0, "--min-similarity must be 0.01-1"),
                   metavar="T", help="Tanimoto to the nearest seed every candidate keeps (e.g. 0.4)")
    p.add_argument("-n", type=bounded(int, "an integer", 1, 500, "-n must be 1-500"), default=20,
                   help="candidates in the shortlist (default 20)")
    p.add_argument("--budget", type=bounded(int, "an integer", 10, 1_000_000, "--budget must be 10-1,000,000"),
                   default=2000, metavar="CALLS", help="molecules scored at most (default 2000)")
    p.add_argument("--alerts", choices=["core", "pains", "none"], default="core",
                   help="structural alerts that exclude a molecule: core = PAINS, Brenk, NIH (default)")
    p.add_argument("--pool", choices=["zinc", "moses"], default="zinc",
                   help="where the starting analogues come from: ZINC 250k (default) or MOSES (1.58M)")
    p.add_argument("--include-known", action="store_true",
                   help="also propose approved drugs and unchanged starting molecules (marked known)")
    p.add_argument("--random-seed", type=int, default=0, metavar="N", help="seed of the search (default 0)")
    p.add_argument("--output", metavar="FILE", help="write the shortlist to FILE.csv or FILE.sdf")
    p.add_argument("--json", action="store_true", help="print the shortlist as JSON")
    p.set_defaults(func=cmd_propose)

