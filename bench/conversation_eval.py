"""Multi-turn conversations through the agent session, as the app runs them (each turn gets the earlier
questions and answers as history): per-turn accuracy by the evaluator's rules, and the failures a
conversation adds — an answer that repeats an earlier one, or one that answers an earlier question
(it names an earlier turn's drug and not its own).

    python bench/conversation_eval.py                                   # corpora/eval/conversations_dev.jsonl
    python bench/conversation_eval.py --adapter agent/adapters/litmol-0.5b --name conversations_tuned
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402


def _drug_names(turn: dict) -> set[str]:
    from litmol.predictors import default_lexicon

    key = (turn.get("meta") or {}).get("inchikey")
    entry = next((e for e in default_lexicon().entries if e.inchikey == key), None) if key else None
    if entry is None and (turn.get("meta") or {}).get("mesh_drug"):
        entry = default_lexicon().lookup(turn["meta"]["mesh_drug"]).entry
    return {n.lower() for n in entry.names} if entry else set()


def main() -> None:
    from langchain_core.messages import AIMessage, HumanMessage
    from tqdm import tqdm

    ap = arg_parser(__doc__)
    ap.add_argument("--conversations", type=Path, default=Path("corpora/eval/conversations_dev.jsonl"))
    ap.add_argument("--adapter", help="LoRA adapter of the local model")
    ap.add_argument("--name", default="conversations_base", help="bench/results/NAME.json")
    args = ap.parse_args()

    from litmol.agent.evaluation.metrics import score_record
    from litmol.agent.evaluation.questions import parse_questions
    from litmol.agent.loop import repeats_earlier_answer
    from litmol.agent.session import AgentSession, Final
    from litmol.settings import Settings

    settings = Settings.load()
    if args.adapter:
        settings = replace(settings, agent=settings.agent.model_copy(update={"adapter": args.adapter}))
    session = AgentSession(settings)
    conversations = [json.loads(line) for line in args.conversations.read_text().splitlines() if line.strip()]
    records = []
    for conv in tqdm(conversations, desc="conversations", unit="conv"):
        history: list = []
        for i, turn in enumerate(conv["turns"]):
            q = parse_questions([json.dumps({"id": f"{conv['id']}-{i}", **turn})])[0][0].model_dump()
            started = time.perf_counter()
            answer = next(e.answer for e in session.run_turn(turn["question"], history, tokens=False)
                          if isinstance(e, Final))
            record = {"answer": answer.answer, "citations": answer.citations, "tool_calls": answer.tool_calls,
                      "retrieved_pmids": []}
            from litmol.agent.evaluation.runner import retrieved_in_order

            record["retrieved_pmids"] = retrieved_in_order(answer.messages)
            score = score_record(q, record)
            low = answer.answer.lower()
            own = _drug_names(turn)
            earlier = set().union(*(_drug_names(t) for t in conv["turns"][:i])) - own if i else set()
            answered_earlier = bool(earlier) and any(n in low for n in earlier) and not any(n in low for n in own)
            records.append({"conversation": conv["id"], "shape": conv["shape"], "turn": i, "question": turn["question"],
                            "type": turn["type"], "correct": score["correct"], "answer": answer.answer,
                            "repeats_earlier": i > 0 and repeats_earlier_answer(answer.answer, history),
                            "answers_earlier": answered_earlier, "tools": [c["name"] for c in answer.tool_calls],
                            "seconds": round(time.perf_counter() - started, 2)})
            history += [HumanMessage(turn["question"]), AIMessage(answer.answer)]
    rows = []
    for shape in [*sorted({r["shape"] for r in records}), "all"]:
        rs = [r for r in records if shape in ("all", r["shape"])]
        scored = [r for r in rs if r["correct"] is not None]
        later = [r for r in rs if r["turn"] > 0]
        convs = {r["conversation"] for r in rs}
        rows.append({"shape": shape, "conversations": len(convs), "turns": len(rs),
                     "turn_accuracy": round(sum(bool(r["correct"]) for r in scored) / len(scored), 3) if scored else None,
                     "later_turn_accuracy": round(sum(bool(r["correct"]) for r in later if r["correct"] is not None)
                                                  / max(1, sum(r["correct"] is not None for r in later)), 3),
                     "repeats": sum(r["repeats_earlier"] for r in rs), "answers_earlier": sum(r["answers_earlier"] for r in rs)})
    print(table(rows, ["shape", "conversations", "turns", "turn_accuracy", "later_turn_accuracy", "repeats",
                       "answers_earlier"]))
    print("->", save(args.name, {"adapter": args.adapter, "rows": rows, "records": records}))


if __name__ == "__main__":
    main()
