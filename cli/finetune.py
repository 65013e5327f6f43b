"""`litmol agent traces` and `litmol agent finetune`: verified training conversations from the train
split, and the LoRA adapter trained on them (agent/training)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, bounded, positive, print_json

EPILOG = """examples:
  litmol agent traces --out corpora/training/traces.jsonl        # ~10 min: every train question run for real
  litmol agent finetune --traces corpora/training/traces.jsonl --out agent/adapters/litmol-0.5b
  litmol agent finetune --traces t.jsonl --out /tmp/a --max-steps 2 --limit 8   # a smoke run
  litmol ask "When was imatinib first approved?" --adapter agent/adapters/litmol-0.5b
An interrupted finetune resumes from its newest checkpoint ($LITMOL_HOME/finetune/<out name>) when run again.
"""


def cmd_traces(args: argparse.Namespace) -> int:
    from litmol.agent.training.traces import generate

    counts = generate(Path(args.out), args.limit_per_kind, progress=not args.quiet)
    if args.json:
        print_json(counts)
    else:
        print(f"{counts['traces']} verified traces from {counts['train_questions']} train questions -> {args.out}")
        print("kept:    " + ", ".join(f"{k} {v}" for k, v in sorted(counts["kept_by_kind"].items())))
        print("tags:    " + (", ".join(f"{k} {v}" for k, v in sorted(counts["tags"].items())) or "none"))
        print("dropped: " + (", ".join(f"{k} {v}" for k, v in sorted(counts["dropped"].items())) or "none"))
    return EXIT_OK


def cmd_finetune(args: argparse.Namespace) -> int:
    from litmol.agent.training.sft import FinetuneConfig, finetune

    traces = Path(args.traces)
    if not traces.is_file():
        raise UsageError(f"no traces file {traces} (make one with `litmol agent traces --out {traces}`)")
    config = FinetuneConfig(model=args.model, epochs=args.epochs, learning_rate=args.lr, lora_r=args.rank,
                            lora_alpha=2 * args.rank, grad_accum=args.grad_accum, max_steps=args.max_steps or -1,
                            save_steps=args.save_steps, limit=args.limit, bf16=args.bf16, lora_layers=args.layers,
                            max_per_kind=args.max_per_kind, seed=args.seed, init_adapter=args.init_adapter)
    if args.init_adapter and not (Path(args.init_adapter) / "training.json").is_file():
        raise UsageError(f"--init-adapter {args.init_adapter}: not an adapter made by `litmol agent finetune` (no training.json)")
    summary = finetune(traces, Path(args.out), config, Path(args.checkpoints) if args.checkpoints else None,
                       progress=not args.quiet)
    if args.json:
        print_json(summary)
    else:
        print(json.dumps({k: summary[k] for k in ("trained_on", "steps", "train_loss", "tokens_per_s", "seconds")}))
        print(f"adapter written to {args.out}", file=sys.stderr)
    return EXIT_OK


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    agent = sub.add_parser("agent", parents=[shared], help="training data and fine-tuning of the agent's model",
                           description="Make verified training traces from the train split, and train a LoRA "
                           "adapter on them (CPU or CUDA).", epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    asub = agent.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = asub.add_parser("traces", parents=[shared], help="run the train-split questions for real; keep verified traces")
    p.add_argument("--out", required=True, metavar="FILE", help="JSONL of traces to write")
    p.add_argument("--limit-per-kind", type=positive, metavar="N", help="at most N traces per question kind")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=cmd_traces)
    p = asub.add_parser("finetune", parents=[shared], help="train a LoRA adapter on traces (resumes when interrupted)")
    p.add_argument("--traces", required=True, metavar="FILE", help="JSONL from `litmol agent traces`")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the adapter (safetensors) and its card")
    p.add_argument("--model", default="0.5b", help="base model (default 0.5b)")
    p.add_argument("--epochs", type=bounded(float, "a number", 0.01, 20, "epochs must be 0.01-20"), default=1.0, help="passes over the traces (default 1)")
    p.add_argument("--lr", type=bounded(float, "a number", 1e-6, 1e-2, "learning rate must be 1e-6-1e-2"), default=2e-4, help="default 2e-4")
    p.add_argument("--rank", type=bounded(int, "an integer", 1, 256, "LoRA rank must be 1-256"), default=16, help="LoRA rank (alpha = 2 x rank)")
    p.add_argument("--grad-accum", type=positive, default=8, metavar="N", help="traces per optimizer step (default 8)")
    p.add_argument("--max-steps", type=positive, metavar="N", help="stop after N optimizer steps")
    p.add_argument("--save-steps", type=positive, default=25, metavar="N", help="checkpoint every N steps (default 25)")
    p.add_argument("--limit", type=positive, metavar="N", help="train on the first N traces only")
    p.add_argument("--max-per-kind", type=positive, metavar="N", help="at most N traces per question kind (balanced)")
    p.add_argument("--layers", type=positive, metavar="N", help="LoRA on the top N decoder layers only (faster on CPU)")
    p.add_argument("--bf16", choices=["auto", "yes", "no"], default="auto", help="bf16 autocast (auto: if the CPU/GPU has it)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the trace sample and the run (default 2026)")
    p.add_argument("--init-adapter", metavar="DIR", help="continue this adapter (a second stage) on traces none of its "
                   "earlier stages used; the card lists every stage")
    p.add_argument("--checkpoints", metavar="DIR", help="checkpoint folder (default $LITMOL_HOME/finetune/<out name>)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    p.set_defaults(func=cmd_finetune)
