"""`litmol links`: drug–disease and drug–target links from the indexed articles — their text (mined)
and their PubMed indexing (MeSH) — query, build, hypotheses, export, train."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, positive, print_json, settings

EPILOG = """examples:
  litmol links build                                   # once after `litmol index build` (~3 min, default corpus);
                                                       # published whole when done, resumed if interrupted
  litmol links --disease angina                        # what is reported to treat or cause angina
  litmol links --drug propranolol --relation treats --min-articles 2
  litmol links --disease "breast cancer" --json        # [{drug, disease, relation, score, n_articles, pmids, ...}]
  litmol links --disease "infantile diarrhea"          # MeSH headings and entry terms resolve in either word order
  litmol links --disease "diabetes mellitus" --narrower  # its narrower MeSH headings too (type 1, type 2, ...)
  litmol links --target "dopamine D2 receptors"        # which drugs inhibit, activate or act on a target
  litmol links --drug haloperidol --relation acts_on   # what a drug acts on
  litmol links hypotheses --disease "Raynaud disease"  # unstated drug -> disease links via shared concepts
  litmol links export links.graphml                    # the whole network for Cytoscape or Gephi
sources: "text mining" (a classifier reads the abstract) and "PubMed indexing" (the record's MeSH
headings: drug/therapeutic use x disease/drug therapy, drug x receptor/antagonists & inhibitors, ...).
scores: a link's score is the chance that at least one of its articles states the relation
(noisy-OR of per-article classifier probabilities; an indexed article counts 0.9); see README,
"Drug–disease links".
"""


def _print_links(links: list, heading: str) -> None:
    if not links:
        print(f"{heading}: no links found")
        return
    print(heading)
    for lk in links:
        years = f"{lk.first_year}–{lk.last_year}" if lk.first_year else "year unknown"
        sources = ", ".join(f"{k} {v}" for k, v in lk.sources.items())
        print(f"  {lk.score:.2f}  {lk.drug} {lk.relation} {lk.disease}  ({lk.n_articles} article"
              f"{'s' if lk.n_articles != 1 else ''}, {years}; {sources}; PMID {', '.join(lk.pmids[:5])}"
              f"{' …' if len(lk.pmids) > 5 else ''})")
        for ev in lk.evidence[:2]:
            sentence = ev["sentence"]
            quoted = f"“{sentence[:200]}{'…' if len(sentence) > 200 else ''}”" if ev.get("source") != "PubMed indexing" \
                else f"indexed as {sentence}"
            print(f"        {quoted} [PMID:{ev['pmid']}]")


def _link_table(args: argparse.Namespace, **names: str | None) -> Any:
    """The published link table; the given names are checked for length first (NameTooLongError, exit 2),
    so that a huge argument costs nothing, with or without a table."""
    from litmol.links.errors import check_name_length
    from litmol.links.table import LinkTable

    for kind, name in names.items():
        if name is not None:
            check_name_length(name.strip(), kind)
    return LinkTable.open(settings(args).retrieval)


def cmd_links(args: argparse.Namespace) -> int:
    if not args.drug and not args.disease and not args.target:
        raise UsageError("give --disease NAME, --drug NAME or --target NAME (or a subcommand: build, hypotheses, "
                         "export, train)")
    if args.disease and args.target:
        raise UsageError("give --disease or --target, not both")
    table = _link_table(args, drug=args.drug, disease=args.disease, target=args.target)
    links = table.links(drug=args.drug, disease=args.disease, target=args.target, relation=args.relation,
                        min_articles=args.min_articles, limit=args.limit, narrower=args.narrower)
    if args.json:
        print_json([lk.to_dict() for lk in links])
    else:
        what = " and ".join(x for x in (args.drug, args.disease, args.target) if x)
        _print_links(links, f"links of {what} in {table.n_articles:,} mined articles (score = chance at least one "
                            "article states it)")
    return EXIT_OK


def cmd_links_build(args: argparse.Namespace) -> int:
    from litmol.links.table import build_links

    report = build_links(settings(args).retrieval, progress=not args.quiet, rebuild=args.rebuild,
                         indexing=not args.text_only)
    rate = f", {report['abstracts_per_s']} abstracts/s" if report["abstracts_per_s"] else ""
    if report.get("resumed_at") is not None:
        rate += f"; resumed an interrupted build at {report['resumed_at']:,} articles"
    print(f"links: {report['articles']:,} articles mined ({report['new_articles']:,} new, "
          f"{report['new_pairs']:,} drug–disease pairs scored, {report['new_indexed']:,} links from PubMed indexing) "
          f"in {report['seconds']} s{rate} -> {report['path']}", file=sys.stderr)
    return EXIT_OK


def cmd_links_hypotheses(args: argparse.Namespace) -> int:
    hyps = _link_table(args, disease=args.disease).hypotheses(args.disease, limit=args.limit)
    if args.json:
        print_json(hyps)
        return EXIT_OK
    if not hyps:
        print(f"no hypotheses for {args.disease}")
    for h in hyps:
        print(f"  {h['score']:.3f}  {h['drug']} -> {h['disease']}  (no article names both)")
        for step in h["chain"]:
            print(f"        via {step['via']}: drug PMID {', '.join(step['drug_pmids'][:3])}; "
                  f"disease PMID {', '.join(step['disease_pmids'][:3])}")
    return EXIT_OK


def cmd_links_export(args: argparse.Namespace) -> int:
    from litmol.links.table import export_links

    fmt = args.format or ("graphml" if str(args.out).endswith(".graphml") else "csv")
    n = export_links(_link_table(args), args.out, fmt, relation=args.relation, min_articles=args.min_articles)
    print(f"{n:,} links written to {args.out} ({fmt})", file=sys.stderr)
    return EXIT_OK


def cmd_links_train(args: argparse.Namespace) -> int:
    from litmol.links.relations import MODEL_FILE
    from litmol.links.train import train

    model, report = train(progress=not args.quiet)
    out = Path(args.out) if args.out else MODEL_FILE
    model.save(out)
    if args.json:
        print_json(report)
    else:
        for t in report["trials"]:
            print(f"C={t['C']}: dev F1 treats {t['dev']['treats']['f1']:.3f}, causes {t['dev']['causes']['f1']:.3f}")
        for scope, res in report["test"].items():
            for level in ("article", "corpus"):
                print(f"test, {scope}, {level} level: " + "; ".join(
                    f"{rel} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f}" for rel, m in res[level].items()))
    print(f"model written to {out}", file=sys.stderr)
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    links = sub.add_parser(
        "links", parents=[shared],
        help="drug–disease (treats / causes) and drug–target links from the literature, with evidence",
        description="Links between drugs and diseases or targets that the indexed articles state — in their text "
        "(mined) or their PubMed indexing (MeSH) — each with a score, its articles, its sources and evidence. Build "
        "the table once after indexing (`litmol links build`), then query it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    links.add_argument("--disease", metavar="NAME", help="links of this disease (e.g. 'breast cancer', 'angina')")
    links.add_argument("--drug", metavar="NAME", help="links of this drug (names, synonyms, brand names)")
    links.add_argument("--target", metavar="NAME",
                       help="links of this target: a receptor, enzyme or transporter (e.g. 'dopamine D2 receptors')")
    links.add_argument("--narrower", action="store_true",
                       help="also gather the narrower MeSH headings of the disease or target")
    links.add_argument("--relation", choices=["treats", "causes", "other", "inhibits", "activates", "acts_on"],
                       help="only this relation (default: treats and causes for a disease; inhibits, activates and "
                            "acts_on for a target; all for a drug; other = co-mentioned only)")
    links.add_argument("--min-articles", type=positive, default=1, metavar="N", help="links stated in at least N articles")
    links.add_argument("--limit", type=positive, default=25, metavar="N", help="at most N links (default 25)")
    links.add_argument("--json", action="store_true",
                       help="JSON list of {drug, disease|target, relation, score, n_articles, pmids, sources, evidence}")
    links.set_defaults(func=cmd_links)
    lsub = links.add_subparsers(dest="action", metavar="ACTION", required=False)
    p = lsub.add_parser("build", parents=[shared],
                        help="mine the indexed abstracts (only new ones; progress bar); published whole when done, "
                             "an interrupted build resumes")
    p.add_argument("--rebuild", action="store_true", help="mine every article again")
    p.add_argument("--text-only", action="store_true",
                   help="leave PubMed indexing out (text mining alone, as it is measured)")
    p.set_defaults(func=cmd_links_build)
    p = lsub.add_parser("hypotheses", parents=[shared],
                        help="drugs no article links to the disease, connected through shared concepts (ABC model)")
    p.add_argument("--disease", metavar="NAME", required=True)
    p.add_argument("--limit", type=positive, default=15, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_links_hypotheses)
    p = lsub.add_parser("export", parents=[shared], help="write every link to CSV or GraphML (Cytoscape, Gephi)")
    p.add_argument("out", metavar="FILE", help="output file (.csv or .graphml)")
    p.add_argument("--format", choices=["csv", "graphml"], help="default: from the file name")
    p.add_argument("--relation", choices=["treats", "causes"])
    p.add_argument("--min-articles", type=positive, default=1, metavar="N")
    p.set_defaults(func=cmd_links_export)
    p = lsub.add_parser("train", parents=[shared],
                        help="retrain the relation classifier on the silver key (train split; tuned on dev; test reported)")
    p.add_argument("--out", metavar="FILE", help="where to write the model (default: the packaged one)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=cmd_links_train)
