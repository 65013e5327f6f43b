"""Does an answer depend on what was asked before? The agent's first turn (the forced tool call, greedy,
under the grammar) for dev questions, each asked in three cache states: after an unrelated prompt,
straight after itself, and after another dev question. A question "flips" when its call (tool and
arguments) is not the same in all three.

Two prefix-reuse rules side by side, in the same run, per runtime:
  chunks  what litmol ships: a prompt is computed in 64-token chunks from position 0 and only whole
          chunks so computed are reused (agent/engines.py `reusable`; agent/llama_server.py)
  any     llama-cpp-python's own rule: reuse any matching prefix, compute the rest from there
Runtimes: `local` (the llama-cpp engine in process) and `served` (`litmol serve llm` vs llama-cpp-python's
stock `python -m llama_cpp.server` with the same arguments, on loopback).

    python bench/llm_determinism.py                    # 8 dev questions, local and served
    python bench/llm_determinism.py --questions 16 --runtimes served
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, free_port, save, table  # noqa: E402
from bench.eval_workers import wait_ready  # noqa: E402

BATCH = Path(__file__).resolve().parents[1] / "corpora/eval/batch_dev_subset16.jsonl"
UNRELATED = "Say hello in three words."


def first_calls(chat, questions: list[str]) -> tuple[list[list[str]], float]:
    """Each question's first call in the three cache states, and the mean seconds per first turn."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.tools import ANSWER_TOOL, TOOLS

    bound = chat.bind_tools([*TOOLS, ANSWER_TOOL])
    seconds: list[float] = []

    def first(question: str) -> str:
        t = time.perf_counter()
        reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(question)])
        seconds.append(time.perf_counter() - t)
        return json.dumps([[c["name"], c["args"]] for c in reply.tool_calls], sort_keys=True)

    out = []
    for i, question in enumerate(questions):
        chat.invoke([HumanMessage(UNRELATED)])
        calls = [first(question), first(question)]
        first(questions[(i + 1) % len(questions)])
        calls.append(first(question))
        out.append(calls)
        print(f"  {i + 1}/{len(questions)} {'same' if len(set(calls)) == 1 else 'FLIPS'}", file=sys.stderr, flush=True)
    return out, sum(seconds) / len(seconds)


def local_chat(rule: str):
    from litmol.agent import engines
    from litmol.agent.backends import make_chat_model
    from litmol.settings import AgentSettings

    if rule == "any":  # the peer: any matching prefix, the rest computed from where the match ended
        def any_prefix(cached, ids, whole, chunk=engines.CHUNK):
            return min(engines.common_prefix(cached, ids), len(ids) - 1)

        engines.reusable = any_prefix
    return make_chat_model("local", "0.5b", settings=AgentSettings(), engine="llama-cpp")


def served(rule: str, questions: list[str]):
    from litmol.agent.backends import make_chat_model
    from litmol.agent.serve_llm import server_command
    from litmol.settings import AgentSettings

    port = free_port()
    argv, _, name = server_command(port=port, threads=2, engine="llama-cpp")
    if rule == "any":
        argv[argv.index("litmol.agent.llama_server")] = "llama_cpp.server"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        try:
            wait_ready(url + "/models", proc, timeout=300)
        except (RuntimeError, TimeoutError) as e:
            raise SystemExit(f"the {rule} server did not start ({e}): {' '.join(argv)}") from None
        return first_calls(make_chat_model("openai", name, settings=AgentSettings(), base_url=url), questions)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def run_one(runtime: str, rule: str, n: int) -> dict:
    questions = [json.loads(line)["question"] for line in BATCH.read_text().splitlines() if line.strip()][:n]
    calls, mean_s = first_calls(local_chat(rule), questions) if runtime == "local" else served(rule, questions)
    flips = [q for q, c in zip(questions, calls, strict=True) if len(set(c)) > 1]
    tool_flips = [q for q, c in zip(questions, calls, strict=True) if len({json.loads(x)[0][0] for x in c}) > 1]
    return {"runtime": runtime, "rule": rule, "questions": n, "flips": len(flips), "tool_flips": len(tool_flips),
            "s_per_first_turn": round(mean_s, 2), "flipped": flips, "calls": calls}


def main() -> None:
    parser = arg_parser(__doc__)
    parser.add_argument("--questions", type=int, default=8, help="dev questions (first N of the dev16 subset)")
    parser.add_argument("--runtimes", default="local,served", help="comma-separated: local, served")
    parser.add_argument("--one", nargs=2, metavar=("RUNTIME", "RULE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a child: one runtime x rule in its own process (the local peer patches the engine)
        print(json.dumps(run_one(args.one[0], args.one[1], args.questions)))
        return
    rows = []
    for runtime in args.runtimes.split(","):
        for rule in ("chunks", "any"):
            print(f"{runtime} / {rule}", file=sys.stderr, flush=True)
            out = subprocess.run([sys.executable, __file__, "--one", runtime, rule, "--questions",
                                  str(args.questions)], stdout=subprocess.PIPE, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(table(rows, ["runtime", "rule", "questions", "flips", "tool_flips", "s_per_first_turn"]))
    print("saved", save("llm_determinism", {"rows": rows}))


if __name__ == "__main__":
    main()
