"""`--index NAME` as a user gives it to ask, chat, eval and ui: every answer comes from that index.

The built test home holds two real indexes: "default" (the whole slice) and "small" (six of its
abstracts). The chat model is a loopback OpenAI-compatible server (tests/cli/test_ask_cli.py) that
searches for the question and cites the first PMID the search returned, so the PMIDs it cites are
the ones the named index gave it.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.cli.test_ask_cli import openai_server  # noqa: F401 - the loopback chat-model server (fixture)
from tests.cli.test_cli import litmol

pytestmark = pytest.mark.integration

QUESTION = "cells protein patients treatment"  # matches articles in both indexes


def _cited(text: str) -> set[str]:
    import re

    return set(re.findall(r"PMID:(\d+)", text))


def test_ask_answers_from_the_named_index(small_index, openai_server):  # noqa: F811
    home, small_pmids = small_index
    answers = {}
    for name in ("small", "default"):
        out = litmol(home, "ask", QUESTION, "--index", name, "--backend", "openai", "--base-url", openai_server,
                     "--model", "m", "--json")
        assert out.returncode == 0, out.stderr
        answers[name] = json.loads(out.stdout)
    small = {c["pmid"] for c in answers["small"]["citations"]}
    assert small and small <= small_pmids
    assert {c["pmid"] for c in answers["default"]["citations"]} - small_pmids  # the full slice ranks another first


def test_chat_answers_from_the_named_index(small_index, openai_server):  # noqa: F811
    home, small_pmids = small_index
    out = litmol(home, "chat", "--index", "small", "--backend", "openai", "--base-url", openai_server,
                 stdin=f"{QUESTION}\nblood pressure\n")
    assert out.returncode == 0, out.stderr
    sources = [line for line in out.stdout.splitlines() if line.startswith("  [PMID:")]  # each answer's list
    cited = _cited("\n".join(sources))
    assert cited and cited <= small_pmids
    assert "removed citations not retrieved in this run: 99999999" in out.stdout  # the server's fabricated one


def test_eval_runs_on_the_named_index(small_index, openai_server, tmp_path):  # noqa: F811
    home, small_pmids = small_index
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({"id": "q1", "question": QUESTION, "gold_pmids": sorted(small_pmids)[:1]}) + "\n")
    out = litmol(home, "-q", "eval", "run", str(batch), "--out", str(tmp_path / "run"), "--index", "small",
                 "--backend", "openai", "--base-url", openai_server)
    assert out.returncode == 0, out.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert record["retrieved_pmids"] and set(record["retrieved_pmids"]) <= small_pmids
    assert record["cited_in_index"] is True
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["index_manifest"]["name"] == "small" and run["index_manifest"]["count"] == len(small_pmids)


def test_ui_serves_the_named_index(small_index, monkeypatch):
    """`litmol ui --index small`: the session the app is launched with reads the small index (Gradio's
    launcher is replaced so nothing is served; the session is the real one)."""
    import types

    import litmol.cli.main as cli
    from litmol.agent.tools import PMID_RE

    home, small_pmids = small_index
    launched = {}
    fake_app = types.ModuleType("litmol.ui.app")
    fake_app.launch = lambda **kw: launched.update(kw)
    monkeypatch.setitem(sys.modules, "litmol.ui.app", fake_app)
    monkeypatch.setenv("LITMOL_HOME", str(home))
    assert cli.main(["ui", "--index", "small", "--no-preload"]) == 0
    session = launched["session"]
    assert session.settings.retrieval.index_name == "small"
    found = set(PMID_RE.findall(session.call_tool("search_literature", query=QUESTION, max_results=10)))
    assert found and found <= small_pmids


def test_an_index_that_does_not_exist_is_one_line_before_any_model_loads(built_home):
    for args in (["ask", "anything", "--index", "nope"], ["chat", "--index", "nope"], ["ui", "--index", "nope"]):
        out = litmol(built_home, *args, "--model", "/no/such/model", stdin="")
        assert out.returncode == 2, (args, out.stderr)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "no index" in lines[0] and "indexes/nope" in lines[0], out.stderr


SEARCH, BUILD, LINKS = ("search", "aspirin"), ("index", "build", "--stage", "lexical"), ("links", "--drug", "aspirin")


@pytest.mark.parametrize("command, name", [(SEARCH, "../../x"), (SEARCH, "/etc"), (SEARCH, "a" * 300), (SEARCH, ""),
                                           (SEARCH, "small/../default"), (SEARCH, "café"), (BUILD, "a" * 300),
                                           (BUILD, "../../x"), (LINKS, "/tmp")])
def test_an_index_name_that_is_not_a_name_is_a_usage_error(tmp_path, name, command):
    """--index is a name under LITMOL_HOME/indexes, never a path: a path or a 300-character name (which
    `index build` used to hit as OSError, exit 1) is one line and exit status 2, before anything is read
    or written."""
    out = litmol(tmp_path, *command, "--index", name)
    assert out.returncode == 2, (name, command, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("litmol: error: invalid index name"), out.stderr
    assert not (tmp_path / "indexes").exists() and not (tmp_path / "links").exists()


def test_an_index_name_from_the_environment_is_checked_too(tmp_path):
    import os
    import subprocess

    out = subprocess.run([sys.executable, "-m", "litmol.cli", "search", "aspirin"], capture_output=True, text=True,
                         env={**os.environ, "LITMOL_HOME": str(tmp_path), "LITMOL_INDEX_NAME": "../../etc"},
                         timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "retrieval.index_name = '../../etc': invalid index name" in out.stderr
    good = litmol(tmp_path, "search", "aspirin", "--index", "cardio-2_x")  # a name: looked up under the home
    assert good.returncode == 2 and f"no index at {tmp_path / 'indexes' / 'cardio-2_x'}" in good.stderr
