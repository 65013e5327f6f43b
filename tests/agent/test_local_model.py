"""The real local model (Qwen2.5-Coder-0.5B from the PyPI parts): tool calls valid by construction."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

pytestmark = pytest.mark.slow

PROMPTS = ["Find studies on metformin and breast cancer risk.",
           "Does caffeine cross the blood-brain barrier? Predict it.",
           "What is the SMILES of ibuprofen?"]


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    import os

    from agent.local_chat import LocalChatModel

    home = os.environ.get("LITMOL_HOME") or str(tmp_path_factory.mktemp("llm-home"))
    os.environ["LITMOL_HOME"] = home  # the dequantized weights are cached here once
    return LocalChatModel(model_name="0.5b", max_new_tokens=64)


@pytest.mark.parametrize("prompt", PROMPTS)
def test_forced_tool_call_parses_and_matches_its_schema(chat_model, prompt):
    from agent.loop import SYSTEM_PROMPT
    from agent.tools import TOOLS

    by_name = {t.name: t for t in TOOLS}
    reply = chat_model.bind_tools(TOOLS, tool_choice="any").invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(prompt)])
    assert len(reply.tool_calls) == 1
    call = reply.tool_calls[0]
    assert call["name"] in by_name
    by_name[call["name"]].args_schema.model_validate(call["args"])  # raises if the arguments do not fit
    assert reply.usage_metadata["input_tokens"] > 100


def test_kv_cache_is_reused_across_calls(chat_model):
    from agent.loop import SYSTEM_PROMPT
    from agent.tools import TOOLS

    bound = chat_model.bind_tools(TOOLS, tool_choice="any")
    bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(PROMPTS[0])])
    reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(PROMPTS[1])])
    meta = reply.response_metadata
    assert meta["prefilled_tokens"] < meta["prompt_tokens"] / 4  # the system prompt + tools were cached
