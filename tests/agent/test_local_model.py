"""The real local model (Qwen2.5-Coder-0.5B from the PyPI parts) on each engine: tool calls valid by
construction, the KV prefix reused, the answer streamed."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

pytestmark = pytest.mark.slow

PROMPTS = ["Find studies on metformin and breast cancer risk.",
           "Does caffeine cross the blood-brain barrier? Predict it.",
           "What is the SMILES of ibuprofen?"]


@pytest.fixture(scope="module", params=["llama-cpp", "transformers"])
def chat_model(request, tmp_path_factory):
    import os

    from litmol.agent.local_chat import LocalChatModel

    home = os.environ.get("LITMOL_HOME") or str(tmp_path_factory.mktemp("llm-home"))
    os.environ["LITMOL_HOME"] = home  # the dequantized weights are cached here once
    return LocalChatModel(model_name="0.5b", engine=request.param, max_new_tokens=64)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_forced_tool_call_parses_and_matches_its_schema(chat_model, prompt):
    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.tools import TOOLS

    by_name = {t.name: t for t in TOOLS}
    reply = chat_model.bind_tools(TOOLS, tool_choice="any").invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(prompt)])
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert call["name"] in by_name
    by_name[call["name"]].tool_call_schema.model_validate(call["args"])  # raises if the arguments do not fit
    assert reply.usage_metadata["input_tokens"] > 100


def test_kv_cache_is_reused_across_calls(chat_model):
    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.tools import TOOLS

    bound = chat_model.bind_tools(TOOLS, tool_choice="any")
    bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(PROMPTS[0])])
    reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(PROMPTS[1])])
    meta = reply.response_metadata
    assert meta["prefilled_tokens"] < meta["prompt_tokens"] / 4  # the system prompt + tools were cached


def test_after_a_tool_result_the_answer_streams_as_text(chat_model):
    from langchain_core.messages import AIMessage, ToolMessage

    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.tools import ANSWER_TOOL, TOOLS

    call = {"name": "predict_properties", "args": {"molecule": "caffeine"}, "id": "c1", "type": "tool_call"}
    messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage("Does caffeine cross the blood-brain barrier?"),
                AIMessage("", tool_calls=[call]),
                ToolMessage("Caffeine (SMILES Cn1c(=O)c2c(ncn2C)n(C)c1=O): blood-brain barrier: likely crosses "
                            "(probability 0.98 ± 0.01)", tool_call_id="c1", name="predict_properties")]
    chunks = list(chat_model.bind_tools([*TOOLS, ANSWER_TOOL]).stream(messages))
    text = "".join(c.content for c in chunks if isinstance(c.content, str))
    assert not any(c.tool_call_chunks for c in chunks)  # one tool round by default: it answers
    assert len([c for c in chunks if c.content]) > 3 and text.strip()  # streamed in pieces
    assert not text.lstrip().startswith(("{", "<", "`"))


def test_named_tool_choice_constrains_the_call(chat_model):
    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.tools import TOOLS

    bound = chat_model.bind_tools(TOOLS, tool_choice={"type": "function", "function": {"name": "resolve_molecule"}})
    reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage("Find studies on aspirin and stroke.")])
    assert [c["name"] for c in reply.tool_calls] == ["resolve_molecule"]
