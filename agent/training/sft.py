"""LoRA fine-tuning of the local model on verified traces (traces.py): TRL's SFTTrainer with PEFT.

Built for a 2-core CPU and used unchanged on CUDA:
- a trace is rendered with the same chat template, tools and system prompt the agent uses at run time
  (`prompt_style`: the compact prompt is what the tuned model gets), and the loss is on the assistant
  turns only (the tool calls and the answers; `assistant_masks`);
- logits only where the loss is: the LM head (151,936 x 896 for the 0.5B, a quarter of the model's
  compute per token) runs on the assistant positions, not on every token of the prompt;
- bf16 autocast where the CPU has it (AVX512_BF16/AMX) or on CUDA; fp32 otherwise;
- checkpoints every `save_steps` that a new run resumes from (an interrupted run loses at most that
  much), a progress bar with ETA, and the training tokens/s measured and written to the card.

    litmol agent finetune --traces corpora/training/traces.jsonl --out agent/adapters/litmol-0.5b
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass(slots=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tuning run (written to the adapter card)."""

    model: str = "0.5b"
    epochs: float = 1.0
    learning_rate: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_layers: int | None = None  # LoRA on the top N decoder layers only (backward stops below them); None: all
    max_per_kind: int | None = None  # at most N traces of each kind (a seeded, balanced sample)
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int = 1536
    max_steps: int = -1
    save_steps: int = 25
    seed: int = 2026
    bf16: str = "auto"  # auto: on CUDA or a CPU with bf16 instructions; yes; no
    prompt_style: str = "compact"
    limit: int | None = None  # use only the first N traces (tests, smoke runs)
    init_adapter: str | None = None  # continue training this adapter on traces its own run did not use


def agent_tools() -> list[Any]:
    """The tools a local model is bound to at run time: the agent's tools and final_answer."""
    from ..tools import ANSWER_TOOL, TOOLS

    return [*TOOLS, ANSWER_TOOL]


def tool_specs(style: str) -> list[dict[str, Any]] | None:
    """The tool schemas rendered into the prompt: all of them (full), none (compact: the system prompt
    lists the tools a line each)."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    return None if style == "compact" else [convert_to_openai_tool(t) for t in agent_tools()]


def system_prompt(style: str) -> str:
    from ..loop import SYSTEM_PROMPT, compact_system_prompt

    return compact_system_prompt(agent_tools()) if style == "compact" else SYSTEM_PROMPT


def _ids(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
         generation: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tools=tools, tokenize=True, add_generation_prompt=generation)
    return list(out["input_ids"] if hasattr(out, "input_ids") or isinstance(out, dict) else out)


def render_trace(messages: list[dict[str, Any]], tokenizer: Any, style: str = "compact") -> dict[str, list[int]]:
    """Token ids of the conversation (system prompt and tools first) and a mask that is 1 on the tokens
    the assistant wrote: each assistant turn from after its `<|im_start|>assistant\\n` header to its
    `<|im_end|>`. Raises ValueError when the template does not render turns as prefixes of the whole."""
    tools = tool_specs(style)
    convo = [{"role": "system", "content": system_prompt(style)}, *messages]
    ids = _ids(tokenizer, convo, tools, generation=False)
    mask = [0] * len(ids)
    for i, m in enumerate(convo):
        if m["role"] != "assistant":
            continue
        start = len(_ids(tokenizer, convo[:i], tools, generation=True))
        end = len(_ids(tokenizer, convo[:i + 1], tools, generation=False))
        if ids[:end] != _ids(tokenizer, convo[:i + 1], tools, generation=False):
            raise ValueError("the chat template does not render this conversation turn by turn")
        end -= 1  # the "\n" after <|im_end|> is not the model's to write
        mask[start:end] = [1] * (end - start)
    return {"input_ids": ids, "assistant_masks": mask}


def read_traces(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def trace_key(row: dict[str, Any]) -> str:
    return json.dumps(row["messages"], sort_keys=True)


def balanced(rows: list[dict[str, Any]], max_per_kind: int | None, seed: int,
             exclude: set[str] | None = None) -> list[dict[str, Any]]:
    """At most `max_per_kind` traces of each kind, in a seeded shuffled order (the file groups kinds); of
    each kind's quota up to half goes to tagged traces (typos, follow-ups, topic changes, injections).
    Traces whose key is in `exclude` (an earlier stage's sample) are left out."""
    import random

    rng = random.Random(seed)
    rows = [r for r in rows if not exclude or trace_key(r) not in exclude]
    rng.shuffle(rows)
    if not max_per_kind:
        return rows
    taken: Counter = Counter()
    kept = []
    for tagged_pass in (True, False):
        for r in rows:
            if bool(r.get("tags")) != tagged_pass or taken[r["kind"]] >= max_per_kind:
                continue
            if tagged_pass and taken[r["kind"]] >= max_per_kind // 2:
                continue
            taken[r["kind"]] += 1
            kept.append(r)
    rng.shuffle(kept)
    return kept


def use_bf16(setting: str) -> bool:
    """bf16 autocast: yes, no, or auto = on a CUDA device that supports it. On CPUs it is off by default:
    measured on a 2-core AVX512_BF16 Xeon it was no faster than fp32 (68 vs 65 tokens/s, all layers) and
    slower with LoRA on the top layers only (85 vs 95)."""
    import torch

    if setting in ("yes", "no"):
        return setting == "yes"
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def _trainer_class():
    """SFTTrainer whose loss computes logits on the labelled positions only."""
    import torch
    from trl import SFTTrainer

    class SparseLogitsSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            base = model.get_base_model() if hasattr(model, "get_base_model") else model
            hidden = base.model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask")).last_hidden_state
            shift_labels = labels[:, 1:]
            keep = shift_labels != -100
            logits = base.lm_head(hidden[:, :-1][keep])  # only where the loss is
            target = shift_labels[keep]
            total = torch.nn.functional.cross_entropy(logits.float(), target, reduction="sum")
            denom = num_items_in_batch if num_items_in_batch is not None else max(1, int(keep.sum()))
            loss = total / (denom.to(total.device) if torch.is_tensor(denom) else denom)
            return (loss, {"logits": logits}) if return_outputs else loss

    return SparseLogitsSFTTrainer


def _speed_callback(record: dict[str, Any]):
    from transformers import TrainerCallback

    class Speed(TrainerCallback):
        """Tokens trained per second (every token of every sequence, forward and backward)."""

        def on_train_begin(self, args, state, control, **kw):
            record["started"] = time.perf_counter()
            record["tokens_at_start"] = state.num_input_tokens_seen

        def on_log(self, args, state, control, logs=None, **kw):
            seconds = time.perf_counter() - record["started"]
            tokens = state.num_input_tokens_seen - record["tokens_at_start"]
            if seconds > 0 and tokens:
                record["tokens_per_s"] = round(tokens / seconds, 1)
                if logs is not None:
                    logs["tokens_per_s"] = record["tokens_per_s"]

    return Speed()


def latest_checkpoint(folder: Path) -> str | None:
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1)
    return str(found[-1]) if found else None


def earlier_stages(adapter: Path) -> list[dict[str, Any]]:
    """The training summaries of `adapter` and of the stages it continued, oldest first."""
    card = adapter / "training.json"
    if not card.is_file():
        raise ValueError(f"{adapter} has no training.json: only an adapter made by `litmol agent finetune` can be continued")
    summary = json.loads(card.read_text())
    return [*summary.pop("earlier_stages", []), summary]


def stage_sample(rows: list[dict[str, Any]], stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The traces every earlier stage trained on (each stage's balanced sample, recomputed from its config)."""
    used: set[str] = set()
    out = []
    for stage in stages:
        c = stage["config"]
        picked = balanced(rows, c.get("max_per_kind"), c["seed"], used)[:c.get("limit") or None]
        used |= {trace_key(r) for r in picked}
        out += picked
    return out


def finetune(traces: Path, out: Path, config: FinetuneConfig | None = None, checkpoints: Path | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Train a LoRA adapter on `traces`, save it (safetensors) with its card in `out`; resumes from the
    newest checkpoint in `checkpoints` (default: LITMOL_HOME/finetune/<out name>). With
    `config.init_adapter` the run continues that adapter on traces none of its stages used."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig

    from litmol.settings import litmol_home

    from ..weights import resolve_model_path

    config = config or FinetuneConfig()
    if not torch.cuda.is_available():
        torch.set_num_threads(os.cpu_count() or 1)
    base_path = resolve_model_path(config.model, progress)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    all_rows = read_traces(traces)
    stages = earlier_stages(Path(config.init_adapter)) if config.init_adapter else []
    if stages:  # the adapter's shape is the first stage's
        first = stages[0]["config"]
        config = replace(config, **{k: first[k] for k in ("model", "lora_r", "lora_alpha", "lora_dropout", "lora_layers",
                                                           "prompt_style")})
    used = {trace_key(r) for r in stage_sample(all_rows, stages)}
    rows = balanced(all_rows, config.max_per_kind, config.seed, used)[:config.limit or None]
    rendered = [render_trace(r["messages"], tokenizer, config.prompt_style) for r in rows]
    too_long = sum(len(r["input_ids"]) > config.max_length for r in rendered)
    rendered = [r for r in rendered if len(r["input_ids"]) <= config.max_length]
    dataset = Dataset.from_list(rendered)
    bf16 = use_bf16(config.bf16)
    model_config = AutoConfig.from_pretrained(base_path)
    if getattr(model_config, "quantization_config", None) is not None:  # the dequantized GGUF still says GGUF
        del model_config.quantization_config
    model = AutoModelForCausalLM.from_pretrained(base_path, config=model_config, dtype=torch.float32)
    checkpoints = checkpoints or litmol_home() / "finetune" / (out.name + (f"-stage{len(stages) + 1}" if stages else ""))
    args = SFTConfig(
        output_dir=str(checkpoints), num_train_epochs=config.epochs, max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, lr_scheduler_type="cosine", warmup_steps=0.05, logging_steps=5,
        save_steps=config.save_steps, save_total_limit=2, seed=config.seed, bf16=bf16, report_to=[],
        max_length=config.max_length, assistant_only_loss=False, dataset_num_proc=None,
        include_num_input_tokens_seen=True, disable_tqdm=not progress, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0, remove_unused_columns=False)
    n_layers = model.config.num_hidden_layers
    layers = list(range(n_layers - config.lora_layers, n_layers)) if config.lora_layers else None
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=TARGET_MODULES, layers_to_transform=layers, task_type="CAUSAL_LM")
    if config.init_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, config.init_adapter, is_trainable=True)
        lora = None
    speed: dict[str, Any] = {}
    trainer = _trainer_class()(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                               peft_config=lora, callbacks=[_speed_callback(speed)])
    resume = latest_checkpoint(checkpoints)
    if resume:
        logger.warning("resuming from %s", resume)
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    out.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(str(out), safe_serialization=True)
    tokens = [sum(r["assistant_masks"]) for r in rendered]
    summary = {"base_model": config.model, "config": asdict(config), "traces": len(rows), "trained_on": len(rendered),
               "skipped_too_long": too_long, "sequence_tokens_mean": round(sum(len(r["input_ids"]) for r in rendered)
                                                                           / max(1, len(rendered)), 1),
               "assistant_tokens_mean": round(sum(tokens) / max(1, len(tokens)), 1),
               "train_loss": round(float(result.training_loss), 4), "steps": result.global_step,
               "seconds": round(time.perf_counter() - started, 1), "tokens_per_s": speed.get("tokens_per_s"),
               "bf16": bf16, "device": "cuda" if torch.cuda.is_available() else f"cpu x{torch.get_num_threads()}",
               "resumed_from": resume}
    summary["trained_by_kind"] = dict(sorted(Counter(r["kind"] for r in rows).items()))
    summary["trained_by_tag"] = dict(sorted(Counter(t for r in rows for t in r.get("tags", [])).items()))
    if stages:
        summary["earlier_stages"] = stages
    (out / "training.json").write_text(json.dumps(summary, indent=2))
    write_card(out, summary, traces)
    return summary


def _command(summary: dict[str, Any], traces: Path, out: Path) -> str:
    c = summary["config"]
    flags = [f"--epochs {c['epochs']}", f"--lr {c['learning_rate']}", f"--seed {c['seed']}"]
    if c.get("init_adapter"):
        flags.append(f"--init-adapter {out}")
    else:
        flags.append(f"--rank {c['lora_r']}")
        if c.get("lora_layers"):
            flags.append(f"--layers {c['lora_layers']}")
    if c.get("max_per_kind"):
        flags.append(f"--max-per-kind {c['max_per_kind']}")
    return f"litmol agent finetune --traces {traces} --out {out} " + " ".join(flags)


def write_card(out: Path, summary: dict[str, Any], traces: Path) -> Path:
    """README.md of the adapter: base model, data by kind, hyper-parameters, speed, how to reproduce it
    (every stage); the evaluation table is appended by whoever measures it (bench/README.md has the runs)."""
    stages = [*summary.get("earlier_stages", []), {k: v for k, v in summary.items() if k != "earlier_stages"}]
    c = stages[0]["config"]
    by_kind: Counter = Counter()
    for st in stages:
        by_kind.update(st.get("trained_by_kind", {}))
    kinds = "\n".join(f"| {k} | {v} |" for k, v in sorted(by_kind.items()))
    rows = "\n".join(
        f"| {i + 1} | {st['trained_on']} | {st['config']['learning_rate']} | {st['config']['epochs']} | {st['steps']} | "
        f"{st['seconds']} | {st['tokens_per_s']} | {st['train_loss']} | {st['device']} |" for i, st in enumerate(stages))
    commands = "\n".join(f"    {_command(st, traces, out)}" for st in stages)
    text = f"""# litmol agent adapter ({out.name})

LoRA adapter for Qwen2.5-Coder-{c['model'].upper()}-Instruct (the shipped GGUF, dequantized to fp32
for training), trained by `litmol agent finetune` on verified tool traces of the **train split**
(`{traces}`, made by `litmol agent traces`; dev and test subjects never appear). It expects the
compact prompt (`prompt_style = "compact"`, the default with an adapter).

| traces by kind | n |
|---|---|
{kinds}

{sum(st['trained_on'] for st in stages)} distinct traces in {len(stages)} stage(s) (a stage continues the adapter on traces no
earlier stage used); mean {summary['sequence_tokens_mean']} tokens per trace of which {summary['assistant_tokens_mean']}
carry the loss (last stage).

LoRA r {c['lora_r']}, alpha {c['lora_alpha']}, dropout {c['lora_dropout']}, on {', '.join(TARGET_MODULES)}
of {'the top ' + str(c['lora_layers']) + ' layers' if c['lora_layers'] else 'every layer'}; cosine schedule with 5 % warm-up,
batch {c['batch_size']} x {c['grad_accum']} accumulation, bf16 {summary['bf16']}.

| stage | traces | learning rate | epochs | steps | seconds | tokens/s | train loss | device |
|---|---|---|---|---|---|---|---|---|
{rows}

Reproduce:

    litmol agent traces --out {traces}
{commands}
"""
    path = out / "README.md"
    path.write_text(text)
    return path
