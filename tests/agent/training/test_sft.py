"""LoRA fine-tuning: the loss computed on the labelled positions only equals the full-logits loss,
a tiny run end to end writes an adapter and its card that the runtime loads, and a second run
resumes from the first one's checkpoint."""

from __future__ import annotations

import json

import pytest

from litmol.agent.training.sft import (
    FinetuneConfig,
    balanced,
    finetune,
    latest_checkpoint,
    stage_sample,
    trace_key,
)
from litmol.paths import CORPORA

TRACES = CORPORA / "training" / "traces.jsonl"


def test_a_balanced_sample_caps_each_kind_and_keeps_half_for_untagged_traces():
    rows = [json.loads(line) for line in TRACES.read_text().splitlines()]
    picked = balanced(rows, 10, seed=1)
    kinds = {r["kind"] for r in rows}
    assert all(sum(r["kind"] == k for r in picked) == min(10, sum(r["kind"] == k for r in rows)) for k in kinds)
    bbb = [r for r in picked if r["kind"] == "bbb"]
    assert sum(bool(r["tags"]) for r in bbb) <= 5
    assert balanced(rows, 10, seed=1) == picked and balanced(rows, None, seed=1)[:3] != rows[:3]


def test_a_second_stage_samples_only_traces_no_earlier_stage_used():
    rows = [json.loads(line) for line in TRACES.read_text().splitlines()]
    stages = [{"config": {"max_per_kind": 10, "seed": 1, "limit": None}},
              {"config": {"max_per_kind": 10, "seed": 2, "limit": None}}]
    used = stage_sample(rows, stages)
    first = {trace_key(r) for r in balanced(rows, 10, seed=1)}
    assert first < {trace_key(r) for r in used} and len({trace_key(r) for r in used}) == len(used)
    fresh = balanced(rows, 10, seed=3, exclude={trace_key(r) for r in used})
    assert fresh and not {trace_key(r) for r in fresh} & {trace_key(r) for r in used}


@pytest.mark.slow
def test_the_loss_on_labelled_positions_only_equals_the_full_logits_loss():
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from litmol.agent.training.sft import _trainer_class, render_trace
    from litmol.agent.weights import resolve_model_path

    path = resolve_model_path("0.5b", progress=False)
    config = AutoConfig.from_pretrained(path)
    if getattr(config, "quantization_config", None) is not None:
        del config.quantization_config
    model = AutoModelForCausalLM.from_pretrained(path, config=config, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(path)
    trace = json.loads(TRACES.read_text().splitlines()[0])
    r = render_trace(trace["messages"], tokenizer, "compact")
    ids = torch.tensor([r["input_ids"]])
    labels = ids.clone()
    labels[0, torch.tensor(r["assistant_masks"]) == 0] = -100
    with torch.no_grad():
        full = model(input_ids=ids, labels=labels).loss
        sparse = _trainer_class().compute_loss(None, model, {"input_ids": ids, "labels": labels.clone()})
    assert abs(float(full) - float(sparse)) < 1e-4 and 0 < float(sparse) < 10


@pytest.mark.slow
def test_a_tiny_run_writes_an_adapter_the_runtime_loads_and_resumes(tmp_path):
    out, checkpoints = tmp_path / "adapter", tmp_path / "checkpoints"
    config = FinetuneConfig(limit=4, grad_accum=2, max_steps=1, save_steps=1, lora_layers=2, lora_r=4, lora_alpha=8)
    summary = finetune(TRACES, out, config, checkpoints, progress=False)
    assert summary["steps"] == 1 and summary["tokens_per_s"] and (out / "adapter_model.safetensors").is_file()
    card = (out / "README.md").read_text()
    assert "litmol agent finetune" in card and "LoRA r 4" in card
    assert latest_checkpoint(checkpoints).endswith("checkpoint-1")
    again = finetune(TRACES, out, FinetuneConfig(limit=4, grad_accum=2, max_steps=2, save_steps=1, lora_layers=2,
                                                 lora_r=4, lora_alpha=8), checkpoints, progress=False)
    assert again["resumed_from"].endswith("checkpoint-1") and again["steps"] == 2
    staged = tmp_path / "staged"
    second = finetune(TRACES, staged, FinetuneConfig(limit=2, grad_accum=2, max_steps=1, init_adapter=str(out), seed=7,
                                                     lora_r=64), tmp_path / "checkpoints2", progress=False)
    assert second["config"]["lora_r"] == 4 and second["resumed_from"] is None  # the first stage's shape, a fresh run
    assert len(second["earlier_stages"]) == 1 and "--init-adapter" in (staged / "README.md").read_text()
    from litmol.agent.local_lm import load_local_lm

    lm = load_local_lm("0.5b", "transformers", adapter=str(out))
    assert "LoRA" in lm.engine.quantization
