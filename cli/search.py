"""`litmol search` (one query, piped queries, or interactive) and `litmol article PMID`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .common import EXIT_OK, UsageError, print_json, result_count, settings, year


def _print_passages(passages: Sequence[Any], query: str) -> None:
    if not passages:
        print(f"no articles match {query!r}")
        return
    for i, p in enumerate(passages, 1):
        snippet = " ".join(p.text.split())[:220]
        print(f"{i:>2}. [PMID:{p.pmid}] {p.title} ({p.year or 'n.d.'})  score {p.score:.4f}")
        print(f"    {snippet}{'…' if len(p.text) > 220 else ''}")
        print(f"    https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/")


def cmd_search(args: argparse.Namespace) -> int:
    from litmol.retrieval import RetrievalError, open_index

    query = " ".join(args.query).strip()
    if args.query and not query:
        raise UsageError("empty query: give keywords or a question")
    if not query and args.json:
        raise UsageError("give a QUERY with --json")
    index = open_index(settings(args).retrieval, verify=False)
    if index.notice and not args.json and args.mode != "lexical":
        print(f"note: {index.notice}", file=sys.stderr)

    def run(q: str) -> list:
        return index.search(q, k=args.k, mode=args.mode, since=args.since, until=args.until)

    if query:
        passages = run(query)
        if args.json:
            print_json([p.to_dict() for p in passages])
        else:
            _print_passages(passages, query)
        return EXIT_OK
    if not sys.stdin.isatty():  # piped queries, one per line; empty lines are skipped
        piped = [line.strip() for line in sys.stdin if line.strip()]
        if not piped:
            raise UsageError("no query: give QUERY, or pipe one query per line")
        for q in piped:
            print(f"query: {q}")
            _print_passages(run(q), q)
        return EXIT_OK
    print("litmol search: type a question or keywords; an empty line or Ctrl-D quits.")
    while True:
        try:
            q = input("search> ").strip()
        except EOFError:
            print()
            return EXIT_OK
        if not q or q in {"quit", "exit"}:
            return EXIT_OK
        try:
            _print_passages(run(q), q)
        except RetrievalError as exc:
            print(f"error: {exc}", file=sys.stderr)


def cmd_article(args: argparse.Namespace) -> int:
    from litmol.retrieval import open_index

    article = open_index(settings(args).retrieval, verify=False).get_article(args.pmid)
    if args.json:
        print_json(article)
        return EXIT_OK
    print(f"PMID {article['pmid']}  {article['journal']} ({article['year'] or 'n.d.'})")
    print(article["title"])
    print()
    print(article["abstract"])
    if article["mesh"]:
        terms = [m["name"] + (f" ({', '.join(m['qualifiers'])})" if m["qualifiers"] else "") for m in article["mesh"]]
        print("\nMeSH: " + "; ".join(terms))
    if article["publication_types"]:
        print("Types: " + "; ".join(article["publication_types"]))
    print(f"https://pubmed.ncbi.nlm.nih.gov/{article['pmid']}/")
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("search", parents=[shared], help="search the literature index (interactive without QUERY)",
                       description="Search indexed PubMed abstracts. hybrid fuses dense (meaning) and "
                       "lexical (BM25 words) rankings by reciprocal rank fusion.")
    p.add_argument("query", nargs="*", metavar="QUERY", help="free-text question or keywords")
    p.add_argument("-k", type=result_count, default=10, help="number of results (default 10, at most 100)")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--since", type=year, metavar="YEAR", help="only articles published in or after YEAR")
    p.add_argument("--until", type=year, metavar="YEAR", help="only articles published in or before YEAR")
    p.add_argument("--json", action="store_true", help="JSON list of {pmid, title, year, score, text}")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("article", parents=[shared], help="show one article by PMID")
    p.add_argument("pmid")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_article)
