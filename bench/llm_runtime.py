"""Local LLM engines on this machine: prefill and decode speed, shared-prefix reuse, load time and
peak memory, per engine x model, with the agent's real prompt (system prompt + tool schemas + a
question, about 2,700 tokens).

Each engine x model runs in its own process (so peak RSS is its own), one after the other:
1. cold prefill of question 1's full prompt (tokens/s);
2. decode: 128 greedy tokens after it (tokens/s; the agent's loop, without a grammar);
3. question 2 after question 1: tokens actually prefilled vs its prompt (the shared system prompt
   and tool schemas stay in the KV cache), and the prefill seconds it took;
4. peak RSS of the process (load + all of the above);
5. with --cold: the first load on an empty LITMOL_HOME (join the GGUF parts / dequantize, then load);
6. `litmol ask QUESTION --json` in a fresh process on that runtime: wall seconds and peak RSS (the
   index, embedder and predictors included), with the shared-prefix state cold and then saved.

    python bench/llm_runtime.py                     # 0.5b: transformers fp32, llama-cpp Q4_K_M / Q4_0 / Q8_0 / IQ4_NL
    python bench/llm_runtime.py --models 0.5b,1.5b --engines llama-cpp:q4_0
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

QUESTIONS = ["Is metformin associated with a lower risk of breast cancer?",
             "Does caffeine cross the blood-brain barrier?"]
DECODE_TOKENS = 128


def prompt_messages(question: str) -> list[dict]:
    from litmol.agent.loop import SYSTEM_PROMPT

    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]


def tool_specs() -> list[dict]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from litmol.agent.tools import ANSWER_TOOL, TOOLS

    return [convert_to_openai_tool(t) for t in [*TOOLS, ANSWER_TOOL]]


def measure(variant: str, model: str) -> dict:
    """One engine[:quantization] x model, in this process."""
    import torch

    from litmol.agent.local_lm import load_local_lm

    engine, _, quantization = variant.partition(":")
    t = time.perf_counter()
    lm = load_local_lm(model, engine, quantization=quantization or "shipped")
    load_s = time.perf_counter() - t
    tools = tool_specs()

    def ids_of(question: str) -> list[int]:
        ids = lm.tokenizer.apply_chat_template(prompt_messages(question), tools=tools, add_generation_prompt=True,
                                               tokenize=True)
        return list(ids["input_ids"] if hasattr(ids, "input_ids") else ids)

    first, second = ids_of(QUESTIONS[0]), ids_of(QUESTIONS[1])
    lm.engine.reset()
    t = time.perf_counter()
    logits, prefilled = lm.engine.prefill(first)
    prefill_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(DECODE_TOKENS):
        logits = lm.engine.step(int(torch.argmax(logits)))
    decode_s = time.perf_counter() - t
    t = time.perf_counter()
    _, second_prefilled = lm.engine.prefill(second)
    second_s = time.perf_counter() - t
    return {"engine": engine, "model": model, "quantization": lm.engine.quantization, "load_s": round(load_s, 2),
            "prompt_tokens": len(first), "prefill_tok_s": round(prefilled / prefill_s, 1),
            "decode_tok_s": round(DECODE_TOKENS / decode_s, 2), "q2_prompt_tokens": len(second),
            "q2_prefilled": second_prefilled, "q2_prefilled_share": round(second_prefilled / len(second), 3),
            "q2_prefill_s": round(second_s, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def cold_load(variant: str, model: str) -> dict:
    """Seconds to the first loaded model on an empty LITMOL_HOME (this process only)."""
    import os
    import tempfile

    os.environ["LITMOL_HOME"] = tempfile.mkdtemp(prefix="litmol-cold-")
    from litmol.agent.local_lm import load_local_lm

    engine, _, quantization = variant.partition(":")
    t = time.perf_counter()
    load_local_lm(model, engine, quantization=quantization or "shipped")
    return {"cold_load_s": round(time.perf_counter() - t, 1)}


ASK = "Does caffeine cross the blood-brain barrier?"


def ask_run(engine: str, quantization: str, model: str) -> dict:
    """`litmol ask` in a child process: (wall seconds, peak RSS MB of the child, prefix source)."""
    code = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "out = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': out.returncode, 's': time.perf_counter() - t, "
            "'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 'err': out.stderr[-300:]}))")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "litmol.cli", "-q", "ask", ASK, "--json", "--engine", engine,
           "--quantization", quantization, "--model", model]
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"litmol ask failed: {result['err']}")
    return {"ask_s": round(result["s"], 1), "ask_peak_rss_mb": round(result["rss"])}


MEDIAN_OF = ("prefill_tok_s", "decode_tok_s", "prefill_x", "decode_x", "q2_prefill_s", "load_s")


def median_row(runs: list[dict]) -> dict:
    """The first round's row with the medians over all rounds of the speed figures."""
    import statistics

    out = dict(runs[0])
    for key in MEDIAN_OF:
        values = [r[key] for r in runs if r.get(key) is not None]
        if values:
            out[key] = round(statistics.median(values), 2)
    return out


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--models", default="0.5b", help="comma-separated (default 0.5b)")
    ap.add_argument("--engines", default="transformers,llama-cpp,llama-cpp:q4_0,llama-cpp:q8_0,llama-cpp:iq4_nl",
                    help="comma-separated ENGINE[:QUANTIZATION]")
    ap.add_argument("--name", default="llm_runtime", help="bench/results/NAME.json (default llm_runtime)")
    ap.add_argument("--ask", action="store_true", help="also time `litmol ask` (needs the default index)")
    ap.add_argument("--cold", action="store_true", help="also time the first load on an empty LITMOL_HOME")
    ap.add_argument("--repeat", type=int, default=1, help="rounds over all runtimes; the table shows medians (default 1)")
    ap.add_argument("--one-cold", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--one", nargs=2, metavar=("ENGINE", "MODEL"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:  # the child process
        print(json.dumps(measure(*args.one)))
        return
    if args.one_cold:
        print(json.dumps(cold_load(*args.one_cold)))
        return
    rounds: list[list[dict]] = []
    for i in range(args.repeat):  # rounds interleave the runtimes, so a slow spell of the machine hits them all
        rows = []
        for model in args.models.split(","):
            for engine in args.engines.split(","):
                out = subprocess.run([sys.executable, __file__, "--one", engine, model], capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"{engine} {model}: failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    continue
                row = json.loads(out.stdout.strip().splitlines()[-1]) | {"variant": engine}
                if args.cold and i == 0:
                    cold = subprocess.run([sys.executable, __file__, "--one-cold", engine, model], capture_output=True,
                                          text=True, check=True)
                    row |= json.loads(cold.stdout.strip().splitlines()[-1])
                if args.ask and i == 0:
                    name, _, quantization = engine.partition(":")
                    row |= ask_run(name, quantization or "shipped", model)
                    row |= {f"warm_{k}": v for k, v in ask_run(name, quantization or "shipped", model).items()}
                rows.append(row)
                print(f"round {i + 1}/{args.repeat}: {engine} {model}: done", file=sys.stderr)
        by = {(r["engine"], r["model"]): r for r in rows}
        for r in rows:  # ratios to the fp32 reference of the same round
            ref = by.get(("transformers", r["model"]))
            if ref:
                r["decode_x"] = round(r["decode_tok_s"] / ref["decode_tok_s"], 2)
                r["prefill_x"] = round(r["prefill_tok_s"] / ref["prefill_tok_s"], 2)
        rounds.append(rows)
    rows = [median_row([r for rs in rounds for r in rs if (r["variant"], r["model"]) == (first["variant"], first["model"])])
            for first in rounds[0]]
    print(table(rows, ["engine", "model", "quantization", "load_s", "prompt_tokens", "prefill_tok_s", "prefill_x",
                       "decode_tok_s", "decode_x", "q2_prefilled", "q2_prompt_tokens", "q2_prefill_s", "peak_rss_mb", "ask_s",
                       "warm_ask_s", "ask_peak_rss_mb", "cold_load_s"]))
    if args.repeat > 1:
        print(f"medians of {args.repeat} rounds; ratios are to the fp32 run of the same round, then the median")
    print(f"-> {save(args.name, {'rows': rows, 'rounds': rounds, 'decode_tokens': DECODE_TOKENS, 'questions': QUESTIONS})}")


if __name__ == "__main__":
    main()
