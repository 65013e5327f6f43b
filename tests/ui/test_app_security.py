"""The app as an attacker calls it: raw HTTP to its API on loopback, bypassing the browser and
gradio_client (which would upload a local file instead of naming a server path).

- the Molecules endpoint must read only files the app received as uploads;
- the chat endpoint must not let a caller choose the backend, model or server URL (the operator's
  API key would go there): only the operator's allow-list is offered.
"""

from __future__ import annotations

import http.server
import json
import threading

import httpx
import pytest

from tests.ui.test_app import serving

pytestmark = pytest.mark.integration


def call_api(url: str, api: str, data: list) -> tuple[str, object]:
    """POST to /gradio_api/call/API and read the event stream: ("complete" | "error", payload)."""
    base = url.rstrip("/")
    r = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, timeout=30)
    if r.status_code != 200:
        return "error", r.text
    event_id = r.json()["event_id"]
    kind, payload = "error", None
    with httpx.stream("GET", f"{base}/gradio_api/call/{api}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in {"complete", "error"}:
                payload = json.loads(line[5:].strip() or "null")
                if kind in {"complete", "error"}:
                    break
    return kind, payload


def server_file(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}, "orig_name": "x.csv"}


@pytest.fixture(scope="module")
def app_url(links_home):
    from tests.ui.test_app import factory, scripted_endpoints

    with serving(links_home, factory, endpoints=scripted_endpoints()) as app:
        yield app.local_url


def test_molecules_endpoint_refuses_a_server_path_it_did_not_receive(app_url, tmp_path):
    secret = tmp_path / "private.csv"
    secret.write_text("smiles,owner\nCCO,secret-owner-4711\nc1ccccc1,secret-owner-4712\n")
    kind, payload = call_api(app_url, "predict", ["", server_file(secret)])
    assert kind == "error"
    assert "secret-owner" not in json.dumps(payload)
    notes = tmp_path / "notes.txt"
    notes.write_text("TOP-SECRET-FIRST-LINE\nCCO\n")
    kind, payload = call_api(app_url, "predict", ["", server_file(notes)])
    assert kind == "error" and "TOP-SECRET" not in json.dumps(payload)


def test_molecules_endpoint_refuses_a_symlink_in_the_upload_folder(app_url, tmp_path):
    """A link planted in Gradio's upload folder that points elsewhere is not an upload either."""
    import gradio.utils

    secret = tmp_path / "private.csv"
    secret.write_text("smiles,owner\nCCO,secret-owner-4711\n")
    folder = tmp_path.__class__(gradio.utils.get_upload_folder()) / "litmol-test-link"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "upload.csv"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    try:
        kind, payload = call_api(app_url, "predict", ["", server_file(link)])
    finally:
        link.unlink()
    assert kind == "error" and "secret-owner" not in json.dumps(payload)


class Recorder(http.server.BaseHTTPRequestHandler):
    """An 'OpenAI-compatible server' on loopback that records every request it gets."""

    seen: list[dict] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        Recorder.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"object": "list", "data": []}')

    do_GET = do_POST = _record  # noqa: N815

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def recorder():
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_chat_caller_cannot_send_the_operators_key_to_its_own_url(links_home, recorder, monkeypatch):
    """With OPENAI_API_KEY set for the operator's server, a caller naming backend openai and its own
    URL gets a refusal, and nothing (no key, no system prompt) reaches that URL."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator-secret")
    with serving(links_home, None) as app:  # the real backend factory
        for data in (["Is aspirin an NSAID?", [], "openai", "gpt-4o", recorder],  # the old signature
                     ["Is aspirin an NSAID?", [], f"openai {recorder}"],
                     ["Is aspirin an NSAID?", [], "openai"]):
            kind, payload = call_api(app.local_url, "chat", data)
            assert "Aspirin" not in json.dumps(payload)  # no answer came from anywhere
    assert Recorder.seen == []


def test_only_operator_configured_endpoints_are_offered(links_home, recorder, monkeypatch):
    """The operator's own server (configured at launch) gets the key; the browser picks it by name."""
    from litmol.ui.settings import ChatEndpoint

    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator-secret")
    mine = ChatEndpoint(name="team-server", backend="openai", model="qwen", base_url=recorder)
    with serving(links_home, None, endpoints=[mine]) as app:
        kind, payload = call_api(app.local_url, "chat", ["hello", [], "team-server"])
        offered = httpx.get(app.local_url.rstrip("/") + "/config", timeout=30).json()
    assert kind == "complete"
    calls = [r for r in Recorder.seen if r["path"].endswith("/chat/completions")]
    assert calls and all(r["auth"] == "Bearer sk-operator-secret" for r in calls)
    choices = [c for comp in offered["components"] for c in (comp.get("props", {}).get("choices") or [])]
    assert ["team-server", "team-server"] in choices or "team-server" in json.dumps(choices)


def test_a_huge_body_is_refused_and_a_long_name_does_not_stall_other_requests(app_url):
    """A request body over 1 MB gets 413 before Gradio reads it; a 140 KB link name (under the cap) is refused
    by the name limit at once, and a search running beside it stays fast."""
    import time

    base = app_url.rstrip("/")
    huge = httpx.post(f"{base}/gradio_api/call/links", json={"data": ["x" * 2_000_000, "disease", "all", 1]},
                      timeout=30)
    assert huge.status_code == 413 and "request body over" in huge.text
    long_name = "angina" * 23_000  # 138 KB: matching it took seconds per kind before names were capped

    started = time.monotonic()
    kind, payload = call_api(app_url, "links", [long_name, "disease", "all", 1])
    named = time.monotonic() - started
    assert kind == "error" and "angina" * 12 not in json.dumps(payload)  # refused, the name not echoed whole

    found: dict = {}

    def search() -> None:
        begun = time.monotonic()
        found["result"] = call_api(app_url, "search", ["angina", "lexical", None, None, 3])
        found["seconds"] = time.monotonic() - begun

    beside = threading.Thread(target=search)
    beside.start()
    call_api(app_url, "links", [long_name, "disease", "all", 1])
    beside.join(60)
    assert found["result"][0] == "complete"
    assert named < 5 and found["seconds"] < 5, (named, found["seconds"])
