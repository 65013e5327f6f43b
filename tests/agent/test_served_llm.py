"""`litmol serve llm` and the openai backend against it: a real llama.cpp server (llama-cpp-python's, on the
shipped 0.5B GGUF) started on loopback by the command, and the agent's constrained tool calls through it."""

from __future__ import annotations

import json
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


def _records(path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.mark.slow
def test_eval_on_ray_shares_the_server_resumes_after_a_kill_and_keeps_each_question_once(llm_server, links_home,
                                                                                        tmp_path):
    """`eval run --ray` with 2 actors against the served model: killed after its first record, then resumed;
    every question once, and the same tool calls as the in-process run of the same batch."""
    import signal

    from litmol.paths import SOURCE_ROOT

    lines = (SOURCE_ROOT / "corpora/eval/batch_dev_subset16.jsonl").read_text().splitlines()[:4]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "LITMOL_HOME": str(links_home)}
    base = [sys.executable, "-m", "litmol.cli", "eval", "run", str(batch), "--backend", "openai", "--base-url",
            llm_server, "--model", "litmol-0.5b", "--quiet"]
    ray_out = tmp_path / "ray"
    command = [*base, "--out", str(ray_out), "--ray", "--ray-workers", "2"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not _records(ray_out / "results.jsonl"):
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "no record within 10 min"
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the cluster it started, mid-batch
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True,
                       timeout=120)
    first = _records(ray_out / "results.jsonl")
    assert 1 <= len(first) < 4
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    records = _records(ray_out / "results.jsonl")
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(json.loads(line)["id"] for line in lines) and len(set(ids)) == 4
    assert records[: len(first)] == first  # what was written before the kill is kept as it was
    run = json.loads((ray_out / "run.json").read_text())
    assert run["status"] == "complete" and run["sessions"][-1]["ray"] == "local"

    local = subprocess.run([*base, "--out", str(tmp_path / "local")], env=env, capture_output=True, text=True,
                           timeout=900)
    assert local.returncode == 0, local.stderr[-2000:]
    in_process = {r["id"]: r for r in _records(tmp_path / "local" / "results.jsonl")}
    for record in records:
        assert not record["error"], record["error"]
        assert all(c["valid"] for c in record["tool_calls"])
        assert [c["name"] for c in record["tool_calls"]] == [c["name"] for c in in_process[record["id"]]["tool_calls"]]
