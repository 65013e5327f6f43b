"""The local model's engines: selection and fallbacks, the two engines agreeing on the real 0.5B,
prefix reuse across questions, and LoRA adapters on both engines."""

from __future__ import annotations

import sys

import pytest


def test_auto_picks_llama_cpp_when_installed_and_transformers_otherwise(monkeypatch):
    import importlib.util

    from litmol.agent.backends import resolve_engine

    assert resolve_engine("transformers") == "transformers" and resolve_engine("llama-cpp") == "llama-cpp"
    installed = importlib.util.find_spec("llama_cpp") is not None
    assert resolve_engine("auto") == ("llama-cpp" if installed else "transformers")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert resolve_engine("auto") == "transformers"


def test_a_missing_engine_names_what_to_install(monkeypatch, tmp_path):
    from litmol.agent.engines import EngineNotAvailableError, LlamaCppEngine

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were not installed
    with pytest.raises(EngineNotAvailableError, match=r"llama-cpp-python.*--engine transformers"):
        LlamaCppEngine(str(tmp_path / "model.gguf"))


def test_the_llama_cpp_engine_refuses_what_it_cannot_read(tmp_path):
    from litmol.agent.weights import ModelNotAvailableError, resolve_model

    with pytest.raises(ModelNotAvailableError, match="no .gguf file"):
        resolve_model(str(tmp_path), "llama-cpp")
    with pytest.raises(ModelNotAvailableError, match="--engine transformers"):
        resolve_model("Qwen/Qwen2.5-0.5B-Instruct", "llama-cpp")


def test_engine_and_adapter_come_from_the_settings_and_the_options(monkeypatch):
    from litmol.cli.common import agent_settings
    from litmol.cli.main import build_parser

    monkeypatch.setenv("LITMOL_AGENT_ENGINE", "transformers")
    args = build_parser().parse_args(["ask", "q"])
    assert agent_settings(args).agent.engine == "transformers"
    args = build_parser().parse_args(["ask", "q", "--engine", "llama-cpp", "--adapter", "/x/lora"])
    agent = agent_settings(args).agent
    assert (agent.engine, agent.adapter) == ("llama-cpp", "/x/lora")


def test_an_openai_server_is_described_by_its_url():
    from langchain_openai import ChatOpenAI

    from litmol.agent.backends import describe_chat_model

    model = ChatOpenAI(model="qwen", base_url="http://127.0.0.1:9/v1", api_key="x")
    assert describe_chat_model(model) == {"backend": "openai", "model": "qwen", "engine": "server",
                                          "base_url": "http://127.0.0.1:9/v1"}


def test_every_quantization_name_has_a_recipe_and_the_cli_offers_each():
    from typing import get_args

    from litmol.agent.weights import QUANTIZATIONS
    from litmol.cli.main import build_parser
    from litmol.settings import QuantizationName

    assert set(get_args(QuantizationName)) == set(QUANTIZATIONS)
    for name in QUANTIZATIONS:
        assert build_parser().parse_args(["ask", "q", "--quantization", name]).quantization == name
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ask", "q", "--quantization", "q3_k"])


@pytest.fixture(scope="module")
def llm_home(tmp_path_factory):
    import os

    home = os.environ.get("LITMOL_HOME") or str(tmp_path_factory.mktemp("llm-home"))
    os.environ["LITMOL_HOME"] = home  # the joined GGUF / dequantized weights are cached here once
    return home


def _prompt_ids(lm, question: str) -> list[int]:
    from bench.llm_runtime import prompt_messages, tool_specs

    ids = lm.tokenizer.apply_chat_template(prompt_messages(question), tools=tool_specs(), add_generation_prompt=True,
                                           tokenize=True)
    return list(ids["input_ids"] if hasattr(ids, "input_ids") else ids)


def _greedy(lm, ids: list[int], n: int) -> list[int]:
    import torch

    logits, _ = lm.engine.prefill(ids)
    out = []
    for _ in range(n):
        out.append(int(torch.argmax(logits)))
        logits = lm.engine.step(out[-1])
    return out


@pytest.mark.slow
def test_both_engines_read_the_same_prompt_and_agree_on_the_first_tokens(llm_home):
    from litmol.agent.local_lm import load_local_lm

    fast, reference = load_local_lm("0.5b", "llama-cpp"), load_local_lm("0.5b", "transformers")
    assert fast.describe() == {"model": "0.5b", "engine": "llama-cpp", "quantization": "Q4_K_M"}
    ids = _prompt_ids(fast, "Does caffeine cross the blood-brain barrier?")
    assert ids == _prompt_ids(reference, "Does caffeine cross the blood-brain barrier?")
    # the shipped Q4_K_M weights are the same numbers both ways (dequantized for transformers)
    assert _greedy(fast, ids, 12) == _greedy(reference, ids, 12)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["llama-cpp", "transformers"])
def test_a_second_question_prefills_only_its_own_tokens(llm_home, engine):
    from litmol.agent.local_lm import load_local_lm

    lm = load_local_lm("0.5b", engine)
    first = _prompt_ids(lm, "Is metformin associated with a lower risk of breast cancer?")
    second = _prompt_ids(lm, "Does caffeine cross the blood-brain barrier?")
    lm.engine.reset()
    assert lm.engine.prefill(first)[1] == len(first)
    _, prefilled = lm.engine.prefill(second)
    assert prefilled < 0.1 * len(second)  # the system prompt and tool schemas stayed cached


def test_only_whole_chunks_of_the_common_prefix_are_reused():
    from litmol.agent.engines import reusable

    cached, ids = list(range(200)), list(range(150)) + [-1] * 60
    assert reusable(cached, ids, whole=192, chunk=64) == 128  # common 150, cut to a chunk boundary
    assert reusable(cached, ids, whole=100, chunk=64) == 64  # only what was computed as whole chunks
    assert reusable(cached, cached, whole=192, chunk=64) == 192  # a repeat recomputes its last partial chunk
    assert reusable(cached[:128], cached[:128], whole=128, chunk=64) == 64  # ... and keeps one token to feed
    assert reusable([], ids, whole=0) == 0 and reusable(cached, [-1] + ids, whole=192) == 0


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["llama-cpp", "transformers"])
def test_a_prompt_gets_the_same_logits_whatever_the_cache_held(llm_home, engine):
    """Greedy picks at a near tie follow the last bits of the logits: reusing any matching prefix moved
    them on llama.cpp and, on llama-cpp-python's server, changed the first tool of 2 of
    8 dev questions."""
    import torch

    from litmol.agent.local_lm import load_local_lm

    lm = load_local_lm("0.5b", engine)
    a = _prompt_ids(lm, "Is tobramycin effective in pseudomonas infections?")
    b = _prompt_ids(lm, "Is tobramycin effective in urinary tract infections?")
    lm.engine.reset()
    fresh, prefilled = lm.engine.prefill(b)
    assert prefilled == len(b)
    lm.engine.prefill(a)
    after_a, prefilled = lm.engine.prefill(b)
    assert prefilled < 0.1 * len(b)  # still reused: the system prompt and tools
    assert torch.equal(after_a, fresh)
    lm.engine.step(int(fresh.argmax()))
    lm.engine.step(int(fresh.argmax()))
    assert torch.equal(lm.engine.prefill(b)[0], fresh)  # after decoding past it
    assert torch.equal(lm.engine.prefill(b)[0], fresh)  # straight after itself


@pytest.mark.slow
def test_the_served_llama_gets_the_same_logits_whatever_came_before(llm_home):
    """`litmol serve llm`'s model class (agent/llama_server.py) under llama-cpp-python's own completion path."""
    import llama_cpp
    import numpy as np

    from litmol.agent.engines import CHUNK
    from litmol.agent.llama_server import ChunkedLlama
    from litmol.agent.local_lm import load_local_lm
    from litmol.agent.weights import resolve_model

    lm = load_local_lm("0.5b", "llama-cpp")
    a = _prompt_ids(lm, "Is tobramycin effective in pseudomonas infections?")
    b = _prompt_ids(lm, "Is tobramycin effective in urinary tract infections?")
    llama = ChunkedLlama(model_path=resolve_model("0.5b", "llama-cpp").weights, n_ctx=8192, n_batch=CHUNK,
                         verbose=False)

    def last_logits(ids: list[int]) -> np.ndarray:
        llama.create_completion(ids, max_tokens=1, temperature=0)
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),)).copy()

    fresh = last_logits(b)
    last_logits(a)
    assert np.array_equal(last_logits(b), fresh)  # after another question
    assert np.array_equal(last_logits(b), fresh)  # straight after itself
    llama.create_completion(a, max_tokens=8, temperature=0)
    assert np.array_equal(last_logits(b), fresh)  # after a longer completion


@pytest.mark.slow
def test_a_lora_adapter_loads_on_both_engines_and_they_agree(llm_home, tmp_path):
    """A tiny real PEFT adapter (rank 4 on q/v projections, seeded non-zero B so it changes the
    output): transformers merges it, llama.cpp reads its GGUF conversion; both move the logits alike."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from litmol.agent.local_lm import load_local_lm
    from litmol.agent.weights import resolve_model

    base = AutoModelForCausalLM.from_pretrained(resolve_model("0.5b", "transformers").weights, dtype=torch.float32)
    torch.manual_seed(0)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                           init_lora_weights=False))
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                # strong enough to move the logits by ~12, not so strong that the Q4 base's rounding is
                # amplified into a different top token (at 0.5 the logits move by ~24 and the two engines'
                # argmax parted on some CPUs, correlation 0.82-0.91; at 0.2 it is 0.999)
                p.normal_(0, 0.2)
    adapter = tmp_path / "tiny-lora"
    peft.save_pretrained(str(adapter))

    plain = load_local_lm("0.5b", "llama-cpp")
    fast = load_local_lm("0.5b", "llama-cpp", str(adapter))
    reference = load_local_lm("0.5b", "transformers", str(adapter))
    assert fast.describe()["quantization"] == "Q4_K_M + LoRA"
    ids = _prompt_ids(fast, "Name a drug that lowers blood pressure.")
    plain_logits, _ = plain.engine.prefill(ids)
    fast_logits, _ = fast.engine.prefill(ids)
    reference_logits, _ = reference.engine.prefill(ids)
    assert (fast_logits - plain_logits).abs().max() > 1.0  # the adapter is live on llama.cpp
    # and it is the same adapter: llama.cpp's logits move the way transformers' merged ones do
    assert torch.corrcoef(torch.stack([fast_logits - plain_logits, reference_logits - plain_logits]))[0, 1] > 0.75  # unrelated changes: about 0
    assert int(fast_logits.argmax()) == int(reference_logits.argmax())


@pytest.mark.slow
def test_the_shared_prefix_state_is_saved_once_and_a_fresh_engine_starts_from_it(llm_home, tmp_path):
    import torch

    from litmol.agent.engines import CHUNK, LlamaCppEngine
    from litmol.agent.local_lm import load_local_lm
    from litmol.agent.weights import resolve_model

    lm = load_local_lm("0.5b", "llama-cpp")
    ids = _prompt_ids(lm, "Does caffeine cross the blood-brain barrier?")
    from bench.llm_runtime import prompt_messages, tool_specs

    prefix = lm.tokenizer.apply_chat_template(prompt_messages("x")[:1], tools=tool_specs(), tokenize=True)
    prefix = list(prefix["input_ids"] if hasattr(prefix, "input_ids") else prefix)  # system prompt + tools
    assert ids[: len(prefix)] == prefix
    weights = resolve_model("0.5b", "llama-cpp").weights
    first = LlamaCppEngine(weights)
    assert first.warm_prefix(prefix, tmp_path) == "computed" and len(list(tmp_path.glob("*.state"))) == 1
    second = LlamaCppEngine(weights)
    assert second.warm_prefix(prefix, tmp_path) == "disk" and second.cached_ids == prefix
    _, prefilled = second.prefill(ids)
    assert prefilled == len(ids) - (len(prefix) - len(prefix) % CHUNK)  # whole chunks of the prefix kept
    cold = LlamaCppEngine(weights)

    class Wrap:  # _greedy reads .engine
        def __init__(self, engine):
            self.engine = engine

    assert _greedy(Wrap(second), ids, 8) == _greedy(Wrap(cold), ids, 8)
    assert torch.equal(second.prefill(ids)[0], cold.prefill(ids)[0])  # the same bits, loaded or computed
    # a damaged state file is not trusted: computed again
    state = next(tmp_path.glob("*.state"))
    state.write_bytes(state.read_bytes()[:-100])
    assert LlamaCppEngine(weights).warm_prefix(prefix, tmp_path) == "computed"


def test_the_call_grammar_bounds_every_free_string_and_list():
    """A small model can repeat inside a string argument until its budget ends (7 of 108 dev
    questions did): the grammar bounds strings and lists, so every call closes and parses."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from litmol.agent.local_lm import MAX_ARG_CHARS, tool_call_schema
    from litmol.agent.tools import ANSWER_TOOL, TOOLS

    schema = tool_call_schema([convert_to_openai_tool(t) for t in [*TOOLS, ANSWER_TOOL]])

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "string":
                assert "enum" in node or "const" in node or node.get("maxLength") == MAX_ARG_CHARS, node
            if node.get("type") == "array":
                assert node.get("maxItems"), node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    search = next(o for o in schema["anyOf"] if o["properties"]["name"]["const"] == "search_literature")
    assert search["properties"]["arguments"]["properties"]["query"]["maxLength"] == MAX_ARG_CHARS


@pytest.mark.slow
def test_iq4_nl_is_written_once_with_its_lm_head_in_q4_0_and_loads(llm_home, capfd):
    import gguf

    from litmol.agent.local_lm import load_local_lm
    from litmol.agent.weights import SHIPPED, requantized, shipped_gguf

    folder = shipped_gguf(SHIPPED["0.5b"], progress=False)
    path = requantized(folder, "iq4_nl", progress=False)
    assert "falling back" not in capfd.readouterr().err  # llama.cpp's per-tensor lines are not shown
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(str(path)).tensors}
    assert types["output.weight"] == "Q4_0" and types["blk.0.ffn_up.weight"] == "IQ4_NL"
    mtime = path.stat().st_mtime
    assert requantized(folder, "iq4_nl", progress=False) == path and path.stat().st_mtime == mtime  # cached
    lm = load_local_lm("0.5b", "llama-cpp", quantization="iq4_nl")
    assert lm.engine.quantization == "IQ4_NL"


@pytest.mark.slow
def test_the_call_grammar_accepts_a_call_as_the_chat_template_renders_it(llm_home):
    """Name first, tojson's separators, and the newline that Qwen's tokenizer merges with the closing
    braces ('"}}\\n'): what a fine-tuned model learned to write; arguments first is refused."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from litmol.agent.local_lm import load_local_lm, tool_call_schema
    from litmol.agent.tools import ANSWER_TOOL, TOOLS

    lm = load_local_lm("0.5b", "llama-cpp")
    tools = [convert_to_openai_tool(t) for t in [*TOOLS, ANSWER_TOOL]]
    rendered = lm.tokenizer.apply_chat_template(
        [{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
            "name": "drug_facts", "arguments": {"name": "imatinib"}}}]}], tokenize=False)
    call = rendered.split("<tool_call>\n", 1)[1].split("</tool_call>", 1)[0]
    assert call == '{"name": "drug_facts", "arguments": {"name": "imatinib"}}\n'

    def accepts(text: str) -> bool:
        import xgrammar as xgr

        matcher = xgr.GrammarMatcher(lm.grammar(tool_call_schema(tools)))
        return all(matcher.accept_token(t) for t in lm.tokenizer.encode(text))

    assert accepts(call) and '"}}\n' in [lm.tokenizer.decode([t]) for t in lm.tokenizer.encode(call)]
    assert not accepts('{"arguments": {"name": "imatinib"}, "name": "drug_facts"}\n')
