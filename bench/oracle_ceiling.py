"""The ceiling of the agent's tools: for every question of a batch, the right tool calls (from the
question's key, agent/training/oracle.py) executed for real, then a templated answer that reads only
their results, scored by the evaluator's rules (agent/evaluation/metrics.py). What a model that
routes and reads perfectly would get with these tools; the rest is the tools' (or the key's) fault.

    python bench/oracle_ceiling.py                                  # dev batch
    python bench/oracle_ceiling.py --batch corpora/eval/batch_test.jsonl --name oracle_ceiling_test
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def run(batch: Path) -> tuple[list[dict], list[dict]]:
    from tqdm import tqdm

    from litmol.agent.evaluation.metrics import score_record
    from litmol.agent.evaluation.questions import load_questions
    from litmol.agent.evaluation.runner import retrieved_in_order
    from litmol.agent.session import AgentSession
    from litmol.agent.training.oracle import Step, plan, templated_answer

    session = AgentSession()
    questions = [q.model_dump() for q in load_questions(batch).questions]  # gold as the evaluator reads it
    records = []
    for q in tqdm(questions, desc="oracle", unit="q"):
        p = plan(q)
        if p is None:
            records.append({"id": q["id"], "type": q["type"], "kind": "unknown", "correct": None})
            continue
        t = time.perf_counter()
        steps = [Step(c, session.call_tool(c.name, **c.args)) for c in p.calls]
        answer = templated_answer(p, steps) or ""
        from langchain_core.messages import ToolMessage

        messages = [ToolMessage(s.result, tool_call_id=str(i), name=s.call.name) for i, s in enumerate(steps)]
        record = {"answer": answer, "retrieved_pmids": retrieved_in_order(messages), "citations": []}
        score = score_record(q, record)
        records.append({"id": q["id"], "type": q["type"], "kind": p.kind, "correct": score["correct"],
                        "recall@5": score.get("recall@5"), "list_recall": score.get("list_recall"),
                        "list_precision": score.get("list_precision"), "answer": answer,
                        "calls": [{"name": s.call.name, "args": s.call.args} for s in steps],
                        "seconds": round(time.perf_counter() - t, 3)})
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["type"], r["kind"])].append(r)
        groups[(r["type"], "all")].append(r)
        groups[("all", "all")].append(r)
    rows = []
    for (qtype, kind), rs in sorted(groups.items()):
        scored = [r for r in rs if r["correct"] is not None]
        r5 = [r["recall@5"] for r in rs if r.get("recall@5") is not None]
        lp = [r["list_precision"] for r in rs if r.get("list_precision") is not None]
        lr = [r["list_recall"] for r in rs if r.get("list_recall") is not None]
        rows.append({"type": qtype, "kind": kind, "n": len(rs), "scored": len(scored),
                     "accuracy": round(sum(bool(r["correct"]) for r in scored) / len(scored), 3) if scored else None,
                     "recall@5": round(sum(r5) / len(r5), 3) if r5 else None,
                     "list_f1": round(2 * (sum(lp) / len(lp)) * (sum(lr) / len(lr)) /
                                      max(1e-9, sum(lp) / len(lp) + sum(lr) / len(lr)), 3) if lp else None})
    return rows, records


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--batch", type=Path, default=Path("corpora/eval/batch_dev.jsonl"), help="question batch (JSONL)")
    ap.add_argument("--name", default="oracle_ceiling", help="bench/results/NAME.json (default oracle_ceiling)")
    args = ap.parse_args()
    rows, records = run(args.batch)
    print(table(rows, ["type", "kind", "n", "scored", "accuracy", "recall@5", "list_f1"]))
    wrong = [r for r in records if r["correct"] is False]
    for r in wrong[:15]:
        print(f"  wrong {r['id']}: {r['answer'][:160]}")
    print("->", save(args.name, {"batch": str(args.batch), "rows": rows, "wrong": wrong}))


if __name__ == "__main__":
    main()
