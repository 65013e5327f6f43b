"""`litmol serve llm` and the openai backend against it: a real llama.cpp server (llama-cpp-python's, on the
shipped 0.5B GGUF) started on loopback by the command, and the agent's constrained tool calls through it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.predictors.service.test_service import free_port

QUESTIONS = ["Does metformin lower the risk of breast cancer?", "Is caffeine likely to cross the blood-brain barrier?",
             "What is the SMILES of ibuprofen?", "Which drugs are reported to treat hypertension?"]


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    home = os.environ.get("LITMOL_HOME") or str(tmp_path_factory.mktemp("llm-home"))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "serve", "llm", "--port", str(port), "--threads", "2"],
                            env={**os.environ, "LITMOL_HOME": home}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 600  # the GGUF parts are joined once (about 15 s), then the model loads
    try:
        while True:
            try:
                if httpx.get(url + "/models", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the LLM server did not start"
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.slow
def test_served_model_makes_valid_tool_calls_by_construction(llm_server):
    import jsonschema
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from litmol.agent.backends import describe_chat_model, make_chat_model
    from litmol.agent.loop import SYSTEM_PROMPT
    from litmol.agent.served_chat import ServedChatModel
    from litmol.agent.tools import ANSWER_TOOL, TOOLS
    from litmol.settings import AgentSettings

    assert httpx.get(llm_server + "/models", timeout=10).json()["data"][0]["id"] == "litmol-0.5b"
    chat = make_chat_model("openai", "litmol-0.5b", settings=AgentSettings(), base_url=llm_server)
    assert isinstance(chat, ServedChatModel) and describe_chat_model(chat)["tool_calls"] == "structured outputs"
    tools = [*TOOLS, ANSWER_TOOL]
    schemas = {t.name: convert_to_openai_tool(t)["function"]["parameters"] for t in tools}
    bound = chat.bind_tools(tools)
    for question in QUESTIONS:
        reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), HumanMessage(question)])
        [call] = reply.tool_calls  # the first turn is a call, always one, always to a real tool
        assert call["name"] in schemas, call
        jsonschema.validate(call["args"], schemas[call["name"]])
    # llama-cpp-python rejects the json_schema form (500); the backend fell back to json_object + schema
    assert chat._flavor == "json_object"
    # a turn that may only answer gets text, never a call
    text = chat.invoke([HumanMessage("Say hello in three words.")])
    assert not text.tool_calls and text.content.strip()


@pytest.mark.slow
def test_the_agent_answers_through_the_served_model(llm_server, links_home):
    from litmol.agent.backends import make_chat_model
    from litmol.agent.session import AgentSession
    from litmol.settings import AgentSettings, Settings

    settings = Settings.load(retrieval={"home": links_home})
    session = AgentSession(settings, make_chat_model("openai", "litmol-0.5b", settings=AgentSettings(),
                                                     base_url=llm_server))
    answer = session.ask("Is caffeine likely to cross the blood-brain barrier?")
    assert answer.tool_calls and all(c["ok"] for c in answer.tool_calls)
    assert answer.tool_calls[0]["name"] in {"predict_properties", "search_literature", "resolve_molecule"}
    assert answer.answer.strip()


def test_serve_llm_errors_are_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "litmol.cli", "serve", "llm", "--engine", "vllm"],
                         env={**os.environ, "LITMOL_HOME": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "needs vLLM" in out.stderr.strip().splitlines()[-1]
    assert "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "litmol.cli", "serve", "llm", "--model", str(tmp_path / "no.gguf")],
                         env={**os.environ, "LITMOL_HOME": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "no.gguf" in out.stderr
