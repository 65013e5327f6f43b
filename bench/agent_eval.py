"""The agent on the dev question set: tool calls, citations, answers and latency, per model.

For every question in corpora/eval/agent_dev.jsonl the agent runs as `litmol ask` runs it, and
agent/scoring.py scores the run: tool-call validity (known tool, arguments valid against its
schema), right tool(s), right arguments (the molecule a tool handled is the asked one; a search
retrieved a gold article), citation validity (cited PMIDs returned by a tool in that run) and
relevance (cited PMIDs in the gold set), and answer correctness where the answer is checkable.

Latency per question is split into prefill, decode and tool time (the rest is the LangChain /
LangGraph loop); model load is timed separately. The agent's overhead is measured against the
bare model: every model call of a sample of questions is replayed with plain `model.generate`
on the same prompt tokens, forced to generate the same number of tokens (no grammar, no loop,
no KV reuse across calls); overhead = (agent time - tool time) / bare time - 1.

    python bench/agent_eval.py                       # 0.5B, all questions
    python bench/agent_eval.py --model 1.5b --per-kind 4 --overhead 4
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

DEV_SET = Path(__file__).resolve().parents[1] / "corpora" / "eval" / "agent_dev.jsonl"
KINDS = ("literature", "property", "both", "none")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _rate(rows: list[dict], key: str) -> float | None:
    vals = [r["scores"][key] for r in rows if r["scores"][key] is not None]
    return round(sum(vals) / len(vals), 3) if vals else None


def _select(questions: list[dict], per_kind: int | None, ids: list[str] | None) -> list[dict]:
    if ids:
        return [q for q in questions if any(q["id"].startswith(i) for i in ids)]
    if per_kind:
        return [q for k in KINDS for q in [x for x in questions if x["kind"] == k][:per_kind]]
    return questions


def bare_time(lm, steps: list[dict]) -> float:
    """Seconds for plain `generate` to process each call's prompt and emit as many tokens."""
    import torch

    total = 0.0
    for step in steps:
        n = max(1, step["completion_tokens"])
        ids = torch.tensor([step["ids"]])
        start = time.perf_counter()
        with torch.inference_mode():
            lm.engine.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, min_new_tokens=n,
                              do_sample=False, pad_token_id=lm.tokenizer.eos_token_id)
        total += time.perf_counter() - start
    return total


def main() -> int:
    parser = arg_parser(__doc__)
    parser.add_argument("--model", default="0.5b", help="shipped model (0.5b, 1.5b), folder or HF id")
    parser.add_argument("--set", default=str(DEV_SET), help="question set (JSONL)")
    parser.add_argument("--per-kind", type=int, help="only the first N questions of each kind")
    parser.add_argument("--ids", help="comma-separated id prefixes to run (e.g. lit-0,prop-01)")
    parser.add_argument("--overhead", type=int, default=8, help="questions replayed on the bare model (0: none)")
    parser.add_argument("--tool-rounds", type=int, default=1, help="tool families per answer (1 or 2; default 1)")
    parser.add_argument("--out", help="result name under bench/results (default agent_eval_<model>)")
    args = parser.parse_args()

    from tqdm import tqdm

    from litmol.agent.local_chat import LocalChatModel, load_local_lm
    from litmol.agent.scoring import score_run
    from litmol.agent.session import AgentSession
    from litmol.agent.weights import resolve_model_path

    questions = [json.loads(line) for line in Path(args.set).read_text().splitlines() if line.strip()]
    questions = _select(questions, args.per_kind, args.ids.split(",") if args.ids else None)
    t = time.perf_counter()
    path = resolve_model_path(args.model)
    resolve_s = time.perf_counter() - t
    lm = load_local_lm(path)  # the same instance the chat model below uses
    chat = LocalChatModel(model_name=path, tool_rounds=args.tool_rounds)
    session = AgentSession(chat_model_=chat)  # the index and predictors from the settings (LITMOL_*)
    lm.trace = []
    rows = []
    for q in tqdm(questions, desc=f"agent {args.model}", unit="question"):
        lm.trace = []
        result = session.ask(q["question"])
        scores = score_run(q, result.messages, result.answer, [c["pmid"] for c in result.citations])
        steps = lm.trace
        rows.append({"id": q["id"], "kind": q["kind"], "question": q["question"], "answer": result.answer,
                     "citations": [c["pmid"] for c in result.citations], "removed": result.removed_citations,
                     "tool_calls": result.tool_calls, "scores": scores, "latency_s": result.latency_s,
                     "timing": result.timing, "steps": [{k: v for k, v in s.items() if k not in {"ids", "text"}}
                                                        for s in steps], "_steps": steps})

    # the bare model on the same prompts and token counts, spread over the kinds
    sample = rows[:: max(1, len(rows) // args.overhead)][: args.overhead] if args.overhead else []
    for row in tqdm(sample, desc="bare model replay", unit="question"):
        row["bare_s"] = bare_time(lm, row["_steps"])
        row["agent_model_s"] = row["latency_s"] - row["timing"]["tool_s"]
    for row in rows:
        row.pop("_steps")

    calls = sum(r["scores"]["tool_calls"] for r in rows)
    valid = sum(r["scores"]["valid_tool_calls"] for r in rows)
    cited = [r for r in rows if r["scores"]["cited"]]
    gold_cited = [r for r in rows if r["scores"]["cited_gold"] is not None and r["scores"]["cited"]]
    lat = [r["latency_s"] for r in rows]
    summary = {
        "questions": len(rows), "tool_calls": calls,
        "tool_call_validity": round(valid / calls, 3) if calls else None,
        "right_tool": _rate(rows, "right_tool"), "right_args": _rate(rows, "right_args"),
        "retrieved_gold": _rate(rows, "retrieved_gold"),
        "citation_validity": round(sum(r["scores"]["citations_valid"] for r in rows) / len(rows), 3),
        "answers_with_citations": len(cited),
        "citations_removed_by_verifier": sum(len(r["removed"]) for r in rows),
        "citation_relevance": round(sum(r["scores"]["cited_gold"] for r in gold_cited) /
                                    max(1, sum(r["scores"]["cited"] for r in gold_cited)), 3),
        "correct": _rate(rows, "correct"),
        "latency_p50_s": round(_pct(lat, 0.5), 2), "latency_p95_s": round(_pct(lat, 0.95), 2),
        **{f"{k}_p50_s": round(_pct([r["timing"][k] for r in rows], 0.5), 2)
           for k in ("prefill_s", "decode_s", "tool_s", "other_s")},
        **{f"{k}_p95_s": round(_pct([r["timing"][k] for r in rows], 0.95), 2)
           for k in ("prefill_s", "decode_s", "tool_s", "other_s")},
        "prompt_tokens_p50": _pct([sum(s["prompt_tokens"] for s in r["steps"]) for r in rows], 0.5),
        "prefilled_tokens_p50": _pct([sum(s["prefilled_tokens"] for s in r["steps"]) for r in rows], 0.5),
        "completion_tokens_p50": _pct([sum(s["completion_tokens"] for s in r["steps"]) for r in rows], 0.5),
        "model_calls_p50": _pct([len(r["steps"]) for r in rows], 0.5),
        "model_resolve_s": round(resolve_s, 2), "model_load_s": round(lm.load_s, 2),
    }
    if sample:
        agent_s, bare_s = sum(r["agent_model_s"] for r in sample), sum(r["bare_s"] for r in sample)
        summary |= {"overhead_questions": len(sample), "agent_minus_tools_s": round(agent_s, 2),
                    "bare_model_s": round(bare_s, 2), "agent_overhead": round(agent_s / bare_s - 1, 3)}
    by_kind = []
    for kind in KINDS:
        sub = [r for r in rows if r["kind"] == kind]
        if sub:
            by_kind.append({"kind": kind, "n": len(sub), "right_tool": _rate(sub, "right_tool"),
                            "right_args": _rate(sub, "right_args"), "correct": _rate(sub, "correct"),
                            "cited_gold": sum(bool(r["scores"]["cited_gold"]) for r in sub),
                            "p50_s": round(_pct([r["latency_s"] for r in sub], 0.5), 1)})
    print(table(by_kind, ["kind", "n", "right_tool", "right_args", "correct", "cited_gold", "p50_s"]))
    print()
    print(table([{"metric": k, "value": v} for k, v in summary.items()], ["metric", "value"]))
    out = save(args.out or f"agent_eval_{args.model.replace('/', '_')}",
               {"model": args.model, "tool_rounds": args.tool_rounds, "set": Path(args.set).name, "summary": summary, "by_kind": by_kind,
                "questions": rows})
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
