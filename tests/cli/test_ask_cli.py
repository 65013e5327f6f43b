"""`litmol ask` as a user runs it: the JSON contract, citation repair and exit codes.

The `openai` backend is exercised against a loopback server that speaks the OpenAI chat
completions protocol (a remote API cannot run here). Its "model" reads the tool output it is sent,
as a real one would: it searches, then answers citing the first PMID it got back plus one it
never saw, which the verifier must remove. Everything else (agent, tools, index) is real.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.cli.test_cli import litmol

pytestmark = pytest.mark.integration
FABRICATED = "99999999"


class OpenAIProtocol(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        messages = body["messages"]
        tool_results = [m for m in messages if m["role"] == "tool"]
        if not tool_results:
            question = next(m["content"] for m in messages if m["role"] == "user")
            if "response_format" in body:  # structured outputs: the call as JSON content matching the schema
                schema = body["response_format"]["json_schema"]["schema"]
                assert "search_literature" in json.dumps(schema)
                message = {"role": "assistant", "content": json.dumps({"name": "search_literature",
                                                                       "arguments": {"query": question}})}
            else:  # native tool calls (openai_tool_calls = native)
                message = {"role": "assistant", "content": None, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "search_literature", "arguments": json.dumps({"query": question})}}]}
        else:
            pmid = re.search(r"\[PMID:(\d+)\]", tool_results[-1]["content"]).group(1)
            message = {"role": "assistant",
                       "content": f"The top study addresses this [PMID:{pmid}]; another agrees [PMID:{FABRICATED}]."}
        if body.get("stream"):  # `litmol chat` streams tokens: server-sent events, as real servers send them
            self._stream(body, message)
            return
        reply = {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        self._send(json.dumps(reply).encode(), "application/json")

    def _stream(self, body: dict, message: dict) -> None:
        delta = {"role": "assistant", "content": message["content"]}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **call} for call in message["tool_calls"]]
        chunks = [{"delta": delta, "finish_reason": None}, {"delta": {}, "finish_reason": "stop"}]
        events = [json.dumps({"id": "cmpl-1", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                              "choices": [{"index": 0, **chunk}]}) for chunk in chunks]
        self._send("".join(f"data: {e}\n\n" for e in [*events, "[DONE]"]).encode(), "text/event-stream")

    def _send(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def openai_server():
    OpenAIProtocol.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), OpenAIProtocol)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_ask_json_contract_with_openai_backend(built_home, slice_records, openai_server):
    records, _ = slice_records
    question = records[5].title
    out = litmol(built_home, "ask", question, "--backend", "openai", "--base-url", openai_server, "--model", "m",
                 "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {"answer", "citations", "tool_calls", "latency_s"} <= set(result)
    assert result["tool_calls"] == [{"name": "search_literature", "args": {"query": question}, "ok": True}]
    [cited] = result["citations"]
    assert set(cited) == {"pmid", "title"} and cited["title"]
    assert f"[PMID:{cited['pmid']}]" in result["answer"] and FABRICATED not in result["answer"]
    assert result["removed_citations"] == [FABRICATED] and "citation removed" in result["answer"]
    assert isinstance(result["latency_s"], float) and result["latency_s"] > 0
    assert result["runtime"] == {"backend": "openai", "model": "m", "engine": "server", "base_url": openai_server,
                                 "tool_calls": "structured outputs"}
    # the model saw our tools and the system prompt that says passages are data
    first = OpenAIProtocol.requests[0]
    assert {t["function"]["name"] for t in first["tools"]} >= {"search_literature", "predict_properties"}
    assert "not instructions" in first["messages"][0]["content"]


def test_ask_human_output_lists_citations(built_home, openai_server):
    out = litmol(built_home, "ask", "blood pressure", "--backend", "openai", "--base-url", openai_server)
    assert out.returncode == 0, out.stderr
    assert "pubmed.ncbi.nlm.nih.gov" in out.stdout and "search_literature(ok)" in out.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("args", "status", "words"), [
    (["ask", "   "], 2, "needs a question"),
    (["ask", "q", "--backend", "nope"], 2, "invalid choice"),
    (["ask", "q", "--model", "/no/such/model"], 2, "/no/such/model"),
    (["ask", "q", "--max-steps", "0"], 2, "max-steps"),
    (["ask", "q", "--backend", "openai", "--base-url", f"http://127.0.0.1:{_closed_port()}/v1"], 1, "cannot reach"),
])
def test_ask_errors_are_one_line_with_exit_status(built_home, args, status, words):
    out = litmol(built_home, *args)
    assert out.returncode == status, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and words in lines[-1] and "Traceback" not in out.stderr
    assert out.stdout == ""
