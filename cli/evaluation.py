"""`litmol eval run|report|compare`: question batches through the agent, their reports, and the
paired comparison of two runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .agent import open_session
from .common import EXIT_OK, UsageError, add_model_arguments, agent_settings, positive, print_json

RUN_EPILOG = """input: one JSON object per line
  {"id": "q1", "question": "Is aspirin an NSAID?", "type": "yesno", "gold": "yes"}
  {"id": "q2", "question": "Molecular weight of caffeine?", "gold": 194.19, "meta": {"tolerance": 0.5}}
  {"id": "q3", "question": "Which drugs treat angina?", "type": "list", "gold": ["nifedipine", ["GTN", "nitroglycerin"]]}
  {"id": "q4", "question": "nifedipine angina trials", "gold_pmids": ["406586", "411609"]}
  types: yesno, short (default with gold), list, pmids (default with only gold_pmids), open (no gold)

examples:
  litmol eval run corpora/eval/batch.jsonl --out runs/base
  litmol eval run batch.jsonl --out runs/small --index small --limit 20
  litmol eval run batch.jsonl --out runs/vllm --backend openai --base-url http://127.0.0.1:8000/v1 --workers 8
  litmol eval run batch.jsonl --out runs/ray --backend openai --base-url http://127.0.0.1:8000/v1 --ray --ray-workers 4
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
    from litmol.agent.backends import resolve_engine

    agent = agent_settings(args).agent
    engine = resolve_engine(agent.engine)
    local = {"engine": engine, "adapter": agent.adapter,
             "quantization": agent.quantization if engine == "llama-cpp" else None}
    config = RunConfig(input_path=str(args.file), input_sha256=batch.sha256, n_questions=len(batch.questions),
                       backend=agent.backend, model=args.model, base_url=args.base_url,
                       **(local if agent.backend == "local" else {}),
                       max_steps=agent.max_model_calls, self_consistency=args.self_consistency, seed=args.seed)
    out = Path(args.out)
    prepare_run_dir(out, config)  # refuse a mismatched folder before a model loads
    session = open_session(args, chat_model, require_index=False)
    ray = args.ray or agent.ray
    if ray and chat_model is not None:
        raise UsageError("--ray builds the chat model on each worker from the options; it cannot take a given one")
    run_batch(batch.questions, session, out, config, workers=args.workers, limit=args.limit,
              skipped_invalid=batch.invalid, retry_errors=args.retry_errors, progress=not args.quiet,
              ray=ray, ray_workers=args.ray_workers or agent.ray_workers)
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
        print_json(result)
    else:
        print(format_comparison(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    ev = sub.add_parser("eval", help="run a question batch through the agent, report it, compare runs")
    esub = ev.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = esub.add_parser("run", parents=[shared], help="answer every question of a JSONL batch (resumable)",
                        description="Validate the whole batch, then run each question through the agent: "
                        "DIR/results.jsonl gets one record per question as it finishes; re-running with the "
                        "same --out resumes. Then DIR/metrics.json, DIR/report.html and DIR/report.md.",
                        epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE.jsonl", help="the question batch")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder (created; an existing one resumes)")
    add_model_arguments(p)
    p.add_argument("--workers", type=positive, default=1, metavar="N",
                   help="questions in flight (default 1; a local model still generates one at a time)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="spread the questions over Ray actors, each with its own agent session (use with "
                   "--backend openai --base-url: they share that LLM server): alone, a cluster started on this "
                   "machine; or its address (auto, HOST:PORT, ray://HOST:10001). Still resumable, each question once")
    p.add_argument("--ray-workers", type=positive, metavar="N", help="Ray agent actors (default: one per CPU)")
    p.add_argument("--limit", type=positive, metavar="N", help="only the first N questions of the file")
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
    p.add_argument("--reps", type=positive, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(func=cmd_eval_compare)
