"""The app's overhead: dev questions asked through the Gradio app (gradio_client on loopback,
streaming) next to the same questions asked the way `litmol ask` asks them, in the same run.

For each question: time to the first streamed update the user sees (the question echoed, then
the first tool step), time to the first answer token, and time to the full answer in the UI;
the `ask` time is `AgentSession.ask` in-process with the same loaded model. Each path starts
from an empty KV cache (otherwise the second would reuse the first one's prefill of the same
question), and the index and embedder are loaded before timing starts, so neither pays for them.
UI overhead = sum(UI full) / sum(ask) - 1.

    python bench/ui_latency.py                # 2 questions per kind, local 0.5B
    python bench/ui_latency.py --per-kind 1 --model 1.5b
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.agent_eval import DEV_SET, _pct, _select  # noqa: E402
from bench.common import arg_parser, save, table  # noqa: E402


def _answer_started(history: list[dict]) -> bool:
    """Whether the last chat message is answer text (not the question, not a tool step)."""
    if not history:
        return False
    last = history[-1]
    if last["role"] != "assistant" or (last.get("metadata") or {}).get("title"):
        return False
    content = last.get("content")
    text = "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content or "")
    return bool(text.strip())


def ui_turn(client, question: str, model: str) -> dict:
    started = time.perf_counter()
    first_update = first_token = None
    job = client.submit(question, [], model, api_name="/chat")
    for update in job:
        now = time.perf_counter() - started
        history = update[0] if isinstance(update, list | tuple) else []
        if first_update is None and len(history) > 1:
            first_update = now
        if first_token is None and _answer_started(history):
            first_token = now
    outputs = job.outputs()[-1]
    total = time.perf_counter() - started
    return {"ui_first_update_s": first_update, "ui_first_token_s": first_token or total, "ui_total_s": total,
            "ui_tools": [c["name"] for c in outputs[-1]["tool_calls"]] if isinstance(outputs[-1], dict) else []}


def main() -> int:
    parser = arg_parser(__doc__)
    parser.add_argument("--model", default="0.5b", help="shipped model (0.5b, 1.5b), folder or HF id")
    parser.add_argument("--per-kind", type=int, default=2, help="questions of each kind (default 2)")
    parser.add_argument("--out", default="ui_latency", help="result name under bench/results")
    args = parser.parse_args()

    from gradio_client import Client
    from tqdm import tqdm

    from litmol.agent.backends import make_chat_model
    from litmol.agent.session import AgentSession
    from litmol.settings import Settings
    from litmol.ui.app import launch

    questions = _select([json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()],
                        args.per_kind, None)
    model = make_chat_model("local", args.model)
    t0 = time.perf_counter()
    model.lm  # noqa: B018 - loaded once, shared by both paths
    load_s = time.perf_counter() - t0
    session = AgentSession(Settings.load(), model)
    session.call_tool("search_literature", query="warm-up")  # index and embedder load once, before either path
    app = launch(session, port=None, factory=lambda *_: model, prevent_thread_lock=True, default_model=args.model)
    client = Client(app.local_url, verbose=False)
    rows = []
    try:
        for i, q in enumerate(tqdm(questions, desc=f"ui vs ask ({args.model})", unit="question")):
            row = {"id": q["id"], "kind": q["kind"]}
            for path in (("ui", "ask") if i % 2 == 0 else ("ask", "ui")):
                model.lm.reset_cache()  # the second path would otherwise reuse the first one's prefill
                if path == "ui":
                    row |= ui_turn(client, q["question"], args.model)
                else:
                    t = time.perf_counter()
                    result = session.ask(q["question"])
                    row["ask_s"] = time.perf_counter() - t
                    row["ask_tools"] = [c["name"] for c in result.tool_calls]
            row["ratio"] = row["ui_total_s"] / row["ask_s"]
            rows.append(row)
    finally:
        app.close()
    ui_total = sum(r["ui_total_s"] for r in rows)
    ask_total = sum(r["ask_s"] for r in rows)
    summary = {"questions": len(rows), "model": args.model, "model_load_s": round(load_s, 2),
               "ui_first_update_p50_s": round(_pct([r["ui_first_update_s"] or r["ui_total_s"] for r in rows], .5), 2),
               "ui_first_token_p50_s": round(_pct([r["ui_first_token_s"] for r in rows], .5), 2),
               "ui_total_p50_s": round(_pct([r["ui_total_s"] for r in rows], .5), 2),
               "ask_p50_s": round(_pct([r["ask_s"] for r in rows], .5), 2),
               "ui_total_s": round(ui_total, 1), "ask_total_s": round(ask_total, 1),
               "ui_overhead": round(ui_total / ask_total - 1, 3),
               "same_tools": sum(r["ui_tools"] == r["ask_tools"] for r in rows)}
    print(table(rows, ["id", "kind", "ui_first_update_s", "ui_first_token_s", "ui_total_s", "ask_s", "ratio"]))
    print(table([summary], list(summary)))
    print(f"saved {save(args.out, {'summary': summary, 'questions': rows})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
