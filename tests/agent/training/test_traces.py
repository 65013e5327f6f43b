"""Training traces: the right calls per question kind, train-split subjects only, verification that
drops a trace whose answer the key rejects, and the rendering the trainer masks."""

from __future__ import annotations

import json
import random
import re

import pytest

from litmol.agent.training.oracle import plan, templated_answer
from litmol.agent.training.traces import TraceBuilder, direct_turn, tool_turn, train_questions, typo
from litmol.paths import CORPORA


def _batch(split: str) -> list[dict]:
    return [json.loads(line) for line in (CORPORA / "eval" / f"batch_{split}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def session():
    from litmol.agent.session import AgentSession

    return AgentSession()


def test_train_questions_never_share_a_subject_with_dev_or_test(slice_records):
    records, _ = slice_records
    train = train_questions(records, {"mesh-treats": 30, "mesh-causes": 10, "open": 2, "b3db": 120, "atc": 60,
                                      "atc-class": 20, "approval": 60})
    held = {q["meta"]["subject"] for split in ("dev", "test") for q in _batch(split)}
    assert len(train) > 100 and not {q["meta"]["subject"] for q in train} & held
    assert {q["meta"]["template"].rsplit("-", 1)[0] for q in train} >= {"bbb", "atc", "approval", "atc-class"}


def _train_question(kind: str) -> dict:
    from litmol.agent.evaluation.questions import parse_questions
    from litmol.agent.training.oracle import template_kind

    row = next(r for r in _batch("train") if template_kind(r) == kind)
    return parse_questions([json.dumps(row)])[0][0].model_dump()


@pytest.mark.parametrize("kind", ["atc", "approval", "atc-class", "bbb"])
def test_the_right_call_and_its_faithful_reading_answer_train_questions(session, kind):
    from litmol.agent.evaluation.metrics import score_record

    q = _train_question(kind)
    p = plan(q)
    answer = templated_answer(p, TraceBuilder(session).execute(p))
    if kind == "bbb":  # right or wrong by the predictor; the reading states its verdict and probability
        assert re.match(r"(Yes|No)\. \w+ is predicted (not )?to cross .* \(BBB probability [01]\.\d\d\)", answer)
    else:
        assert score_record(q, {"answer": answer})["correct"] is True


def test_a_trace_whose_answer_the_key_rejects_is_dropped(session):
    q = _train_question("approval")
    builder = TraceBuilder(session)
    steps = builder.execute(plan(q))
    assert builder.verified(q, steps, templated_answer(plan(q), steps))
    assert not builder.verified(q, steps, "It was first approved in 1066.")
    assert not builder.verified(q, steps, f"First approved in {q['gold']} [PMID:12345].")  # cites nothing retrieved
    assert builder.dropped == {"wrong by the key": 1, "cites unretrieved": 1}


def test_traces_have_the_shape_the_local_model_is_run_with():
    turn = tool_turn("q?", [], "a.")
    assert [m["role"] for m in turn] == ["user", "user", "assistant"] and "My question: q?" in turn[1]["content"]
    direct = direct_turn("What is logP?", "A measure.")
    assert direct[1]["tool_calls"][0]["function"] == {"name": "final_answer", "arguments": {"answer": "A measure."}}
    rng = random.Random(0)
    assert all(typo("imatinib", rng) != "imatinib" for _ in range(5)) and typo("ace", rng) == "ace"


@pytest.mark.slow
def test_the_trainer_sees_only_the_assistant_turns(session):
    from transformers import AutoTokenizer

    from litmol.agent.training.sft import render_trace
    from litmol.agent.weights import SHIPPED, shipped_gguf

    folder = shipped_gguf(SHIPPED["0.5b"], progress=False)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file="model.gguf")
    steps = TraceBuilder(session).execute(plan({"meta": {"template": "approval-1", "inchikey": _imatinib_key()}}))
    messages = tool_turn("When was imatinib approved?", steps, "Imatinib was first approved in 2001.")
    r = render_trace(messages, tokenizer, "compact")
    trained = tokenizer.decode([t for t, m in zip(r["input_ids"], r["assistant_masks"], strict=True) if m])
    assert trained == ('<tool_call>\n{"name": "drug_facts", "arguments": {"name": "imatinib"}}\n</tool_call><|im_end|>'
                       "Imatinib was first approved in 2001.<|im_end|>")
    assert len(r["input_ids"]) < 700  # the compact prompt: a line per tool, no schemas


def _imatinib_key() -> str:
    from litmol.predictors import default_lexicon

    return default_lexicon().lookup("imatinib").entry.inchikey
