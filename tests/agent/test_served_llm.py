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
    # llama-cpp-python rejects the json_schema form (400 from the guard; 500 before); the backend fell back to
    # json_object + schema
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
    from litmol.agent.tools import TOOLS

    answer = session.ask("Is caffeine likely to cross the blood-brain barrier?")
    # the served path guarantees well-formed calls (structured outputs): a known tool, arguments its schema
    # accepts. Whether the tool could use them is the model's choice and is logged as it is: the 0.5B model
    # once asked for "cyclohexanone", which predict_properties refuses (ok False; it was logged ok before)
    schemas = {t.name: t.tool_call_schema for t in TOOLS}
    assert answer.tool_calls
    for call in answer.tool_calls:
        schemas[call["name"]].model_validate(call["args"])
        assert isinstance(call["ok"], bool)
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


# -- issue 32: one request must not take the server down -------------------------------------------------
NORMAL = {"model": "litmol-0.5b", "messages": [{"role": "user", "content": "Is water wet? Answer yes or no."}],
          "max_tokens": 8, "temperature": 0}
MALFORMED = [  # (what the request adds, the field the 400 names); each one killed the server (SIGSEGV/abort)
    ({"grammar": "root ::= ("}, "grammar"),
    ({"grammar": "root ::= foo"}, "grammar"),
    ({"grammar": "root ::= " + "(" * 20000 + '"a"' + ")" * 20000}, "grammar"),  # llama.cpp's parser: stack
    ({"grammar": 'root ::= "ok" <|im_end|>'}, "grammar"),  # parses, but no token can continue it
    ({"response_format": {"type": "json_object", "schema": {"type": "string", "maxLength": 100000}}},
     "response_format"),  # the schema converter nests 100,000 groups
]


def _post(url: str, body: bytes | dict, stream: bool = False) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps({**NORMAL, **body, **({"stream": True} if stream else {})}).encode()
    return httpx.post(url + "/chat/completions", content=raw, headers={"content-type": "application/json"},
                      timeout=300)


def _served(url: str) -> str:
    reply = _post(url, {})
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]


@pytest.mark.slow
def test_a_malformed_request_gets_400_and_the_server_keeps_serving(llm_server):
    """The real server (agent/llama_server.py under `litmol serve llm`): bad grammars, given or built from a
    JSON schema, get 400 with an OpenAI-style error naming the field, and the next request is answered."""
    assert _served(llm_server).strip()
    for extra, field in MALFORMED:
        for stream in (False, True) if "grammar" in extra and "<|" not in extra["grammar"] else (False,):
            reply = _post(llm_server, extra, stream=stream)
            assert reply.status_code == 400, (extra, reply.text[:300])
            error = reply.json()["error"]
            assert error["param"] == field and error["type"] == "invalid_request_error" and error["message"]
            assert httpx.get(llm_server + "/models", timeout=30).status_code == 200  # still up
    for raw, status, field in [
        (json.dumps({**NORMAL, "logit_bias": {"99999999": 5}}).encode(), 400, "logit_bias"),
        (json.dumps({**NORMAL, "temperature": float("nan")}).encode(), 400, "body"),  # NaN is not JSON
        (b"{not json", 400, "body"),
        (json.dumps({**NORMAL, "top_k": -1}).encode(), 400, "top_k"),  # the server's own check: was a 500
        (json.dumps({**NORMAL, "messages": [{"role": "user", "content": "x" * 5_000_000}]}).encode(), 413, "body"),
    ]:
        reply = _post(llm_server, raw)
        assert (reply.status_code, reply.json()["error"]["param"]) == (status, field), reply.text[:300]
    # grammars still work, and so do plain requests
    constrained = _post(llm_server, {"grammar": 'root ::= "yes" | "no"'})
    assert constrained.status_code == 200 and constrained.json()["choices"][0]["message"]["content"] in ("yes", "no")
    assert _served(llm_server).strip()


def test_grammar_checks_run_before_llama_cpp_sees_a_grammar():
    """What the guard refuses without a model: llama.cpp's own parser (run in this process: it returns NULL
    for a bad grammar) and the limits that keep its recursive parser on the stack."""
    from litmol.agent.llama_server import (
        MAX_GRAMMAR_DEPTH,
        grammar_problem,
        grammar_shape,
        request_grammars,
    )

    assert grammar_problem('root ::= "yes" | "no"') is None
    assert grammar_problem('root ::= "a" # a comment ((((') is None and grammar_shape('root ::= [(] "((("')[0] == 0
    for bad in ("root ::= (", "root ::= foo", 'start ::= "a"', 'root ::= root "a" | "a"'):
        assert "GBNF parser refused it" in grammar_problem(bad), bad
    deep = "root ::= " + "(" * (MAX_GRAMMAR_DEPTH + 1) + '"a"' + ")" * (MAX_GRAMMAR_DEPTH + 1)
    assert grammar_problem(deep, native=False).startswith(f"groups nested {MAX_GRAMMAR_DEPTH + 1:,} deep")
    assert grammar_problem('root ::= "a"{0,100000}').startswith("repetition bounds add up to 100,000")
    assert grammar_problem("root ::= <|im_end|>") is None  # token references wait for the model's vocabulary
    # the grammars llama-cpp-python would build: from response_format, and from a tool forced by tool_choice
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {
        "q": {"type": "string", "maxLength": 3}}}}}
    found = request_grammars({"grammar": 'root ::= "x"', "response_format": {"type": "json_object", "schema": {
        "type": "integer"}}, "tools": [tool], "tool_choice": {"type": "function", "function": {"name": "f"}}})
    assert [field for field, _ in found] == ["grammar", "response_format", "tools"]
    assert grammar_shape(found[2][1])[0] == 3  # maxLength 3: three nested optional groups


def test_the_guard_answers_bad_bodies_itself_and_leaves_the_rest_to_the_server():
    """RequestGuard in front of a stand-in route: a good body reaches the route byte for byte, a bad one
    gets 400/413 without reaching it, and with an API key a request without it goes to the server (whose
    own check answers 401) untouched."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from litmol.agent.llama_server import RequestGuard

    seen: list[bytes] = []

    async def route(request):
        seen.append(await request.body())
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/v1/chat/completions", route, methods=["POST"])])
    client = TestClient(RequestGuard(app, api_key="k", max_body=2000))
    key = {"authorization": "Bearer k", "content-type": "application/json"}
    good = json.dumps({**NORMAL, "grammar": 'root ::= "yes" | "no"'}).encode()
    assert client.post("/v1/chat/completions", content=good, headers=key).status_code == 200 and seen == [good]
    bad = json.dumps({**NORMAL, "grammar": "root ::= ("}).encode()
    reply = client.post("/v1/chat/completions", content=bad, headers=key)
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "grammar" and len(seen) == 1
    assert client.post("/v1/chat/completions", content=bad).status_code == 200 and seen[-1] == bad  # no key
    big = json.dumps({**NORMAL, "messages": [{"role": "user", "content": "x" * 3000}]}).encode()
    assert client.post("/v1/chat/completions", content=big, headers=key).status_code == 413 and len(seen) == 2
