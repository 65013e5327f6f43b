"""`litmol index build|add|stats` and `litmol corpus add|inspect`: build, extend and inspect the
literature index."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_allow_damaged,
    positive,
    print_json,
    settings,
)


def print_ingest_notes(ingest: dict[str, Any]) -> None:
    """Damaged files, and file:line examples of skipped rows, one line each on stderr."""
    for d in ingest.get("damaged") or []:
        where = f" at line {d['line']}" if d.get("line") else ""
        print(f"warning: damaged: {d['path']}: after {d['records_read']:,} records{where}: {d['reason']}",
              file=sys.stderr)
    for reason, examples in (ingest.get("examples") or {}).items():
        for example in examples:
            print(f"skipped: {reason}: {example}", file=sys.stderr)


def cmd_index_build(args: argparse.Namespace) -> int:
    from litmol.retrieval import build_index

    manifest = build_index(args.corpus or None, settings(args).retrieval, stage=args.stage,
                           if_missing=args.if_missing, progress=not args.quiet, allow_damaged=args.allow_damaged,
                           ray=args.ray, ray_workers=args.ray_workers or 0)
    ingest = manifest.get("ingest") or {}
    print_ingest_notes(ingest)
    skipped = ", ".join(f"{n:,} {why}" for why, n in (ingest.get("skipped") or {}).items()) or "none"
    print(f"index {manifest['name']}: {manifest['count']:,} articles, status {manifest['status']}"
          f" (read {ingest.get('read', 0):,}; skipped: {skipped})", file=sys.stderr)
    if manifest.get("dense"):
        d, emb = manifest["dense"], manifest["embedder"]
        print(f"dense: {d['kind']} index, {d['count']:,} vectors, embedder {emb['id']} "
              f"({emb['backend']}, {emb['max_seq_length']} tokens)", file=sys.stderr)
    return EXIT_OK


def cmd_index_add(args: argparse.Namespace) -> int:
    from litmol.retrieval import add_to_index

    manifest, summary = add_to_index(args.paths, settings(args).retrieval, progress=not args.quiet,
                                     allow_damaged=args.allow_damaged)
    ingest = summary["ingest"]
    print_ingest_notes(ingest)
    skipped = ", ".join(f"{n:,} {why}" for why, n in ingest["skipped"].items()) or "none"
    line = (f"read {ingest['read']:,} records: added {summary['added']:,}, updated {summary['updated']:,}, "
            f"unchanged {summary['unchanged']:,}; skipped: {skipped}. Index now {manifest['count']:,} articles.")
    if ingest["damaged"]:
        n = len(ingest["damaged"])
        line += f" damaged: {n} file{'s' if n > 1 else ''} (kept the records before the damage)."
    if args.json:
        print_json(summary | {"articles": manifest["count"]})
    else:
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_index_stats(args: argparse.Namespace) -> int:
    from litmol.retrieval import open_index

    index = open_index(settings(args).retrieval, verify=not args.no_verify)
    stats = index.stats()
    if args.check_dense:
        return EXIT_OK if stats["status"] == "complete" else EXIT_FAILURE
    if args.json:
        print_json(stats)
        return EXIT_OK
    dense = stats["dense"]
    print(f"index      {stats['name']}  ({stats['path']})")
    print(f"articles   {stats['articles']:,}  years {stats['years'][0]}-{stats['years'][1]}")
    print(f"status     {stats['status']}  dense coverage {stats['dense_coverage']:.0%}")
    if dense:
        emb = stats["embedder"]
        print(f"dense      {dense['kind']} {dense['params']}  {dense['count']:,} vectors")
        print(f"embedder   {emb['id']}  backend {emb['backend']}  {emb['max_seq_length']} tokens  dim {emb['dim']}")
    for src in stats["sources"]:
        print(f"source     {src['name']}  ({src['records_read']:,} records read)")
    if stats["timings_s"]:
        print("timings    " + "  ".join(f"{k} {v}s" for k, v in stats["timings_s"].items()))
    if index.notice:
        print(f"note       {index.notice}")
    return EXIT_OK


def cmd_corpus_inspect(args: argparse.Namespace) -> int:
    from litmol.retrieval import collect_records
    from litmol.retrieval.corpus import resolve_corpus

    records, report = collect_records(resolve_corpus(args.paths or None))
    years = sorted(r.year for r in records if r.year)
    info = report.to_dict() | {
        "with_mesh": sum(bool(r.mesh) for r in records),
        "years": [years[0], years[-1]] if years else None,
    }
    if args.json:
        print_json(info)
    else:
        print(report.summary())
        print(f"with MeSH headings: {info['with_mesh']:,}; years: {info['years']}")
    print_ingest_notes(info)
    return EXIT_USAGE if report.damaged else EXIT_OK  # `corpus inspect F && corpus add F` stops on damage


def _add_paths_parser(subparsers: Any, shared: argparse.ArgumentParser, helptext: str) -> None:
    """`index add` and `corpus add`: the same command under both names users look for."""
    p = subparsers.add_parser("add", parents=[shared], help=helptext, description=helptext)
    p.add_argument("paths", nargs="+", metavar="PATH", help="PubMed XML(.gz), JSONL or CSV files")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_allow_damaged(p)
    p.set_defaults(func=cmd_index_add)


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    index = sub.add_parser("index", help="build, extend and inspect the literature index")
    isub = index.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = isub.add_parser("build", parents=[shared], help="build the index (default corpus unless --corpus)",
                        description="Ingest a corpus and build its index: the lexical (BM25) part is "
                        "published first, then the dense part is embedded in resumable chunks.")
    p.add_argument("--corpus", nargs="+", metavar="PATH", help="'default' or PubMed XML(.gz)/JSONL/CSV files or folders")
    p.add_argument("--stage", choices=["all", "lexical", "dense"], default="all",
                   help="lexical: ingest + BM25 only; dense: embed the current build; all: both (default)")
    p.add_argument("--if-missing", action="store_true", help="skip the lexical stage if an index exists")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="embed on a Ray cluster: alone, one started on this machine; or its address (auto, "
                   "HOST:PORT, ray://HOST:10001). A killed job resumes from the chunks written")
    p.add_argument("--ray-workers", type=positive, metavar="N", help="Ray embedding actors (default: one per CPU)")
    add_allow_damaged(p)
    p.set_defaults(func=cmd_index_build)
    _add_paths_parser(isub, shared, "append articles to the index (only new ones are embedded)")
    p = isub.add_parser("stats", parents=[shared], help="show what the index holds and how it was built")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--no-verify", action="store_true", help="skip file checksums")
    p.add_argument("--check-dense", action="store_true", help="exit 0 if the dense part is complete, else 1")
    p.set_defaults(func=cmd_index_stats)

    corpus = sub.add_parser("corpus", help="read corpus files: add them to the index, or inspect them")
    csub = corpus.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_paths_parser(csub, shared, "add PubMed baseline/update XML(.gz), JSONL or CSV files to the index")
    p = csub.add_parser("inspect", parents=[shared], help="count records in files without indexing (default corpus if none)")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_corpus_inspect)
