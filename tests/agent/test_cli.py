"""The litmol CLI as a user runs it: JSON contracts, human output, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import SLICE

pytestmark = pytest.mark.integration


def litmol(home, *args, stdin: str | None = None):
    env = dict(os.environ, LITMOL_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], capture_output=True, text=True,
                          env=env, input=stdin, timeout=300)


def test_help_is_instant_and_teaches(tmp_path):
    start = time.perf_counter()
    out = litmol(tmp_path, "--help")
    assert out.returncode == 0
    assert time.perf_counter() - start < 5
    for word in ("index build", "search", "article", "corpus add"):
        assert word in out.stdout


def test_search_json_contract(built_home, slice_records):
    records, _ = slice_records
    rec = records[3]
    out = litmol(built_home, "search", rec.title, "-k", "4", "--json")
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert len(hits) == 4
    assert all(set(h) == {"pmid", "title", "year", "score", "text"} for h in hits)
    assert hits[0]["pmid"] == rec.pmid and hits[0]["title"] == rec.title


def test_search_human_output_and_since(built_home):
    out = litmol(built_home, "search", "blood pressure", "-k", "3", "--since", "2000", "--mode", "lexical")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[PMID:") == 3 and "pubmed.ncbi.nlm.nih.gov" in out.stdout


def test_interactive_loop_reads_until_empty_line(built_home, slice_records):
    records, _ = slice_records
    out = litmol(built_home, "search", stdin=f"{records[0].title}\n\n")
    assert out.returncode == 0, out.stderr
    assert f"[PMID:{records[0].pmid}]" in out.stdout


def test_article_json(built_home, slice_records):
    records, _ = slice_records
    out = litmol(built_home, "article", records[1].pmid, "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["abstract"] == records[1].abstract


@pytest.mark.parametrize("args, status, message", [
    (("search", "x", "--since", "nineteen"), 2, "not a year"),
    (("search", "x", "-k", "0"), 2, "at least 1"),
    (("search", "--json"), 2, "QUERY"),
    (("article", "123"), 2, "not in the index"),
    (("search", "x", "--mode", "fuzzy"), 2, "invalid choice"),
])
def test_bad_input_exit_2_one_line(built_home, args, status, message):
    out = litmol(built_home, *args)
    assert out.returncode == status
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_no_index_is_usage_error(tmp_path):
    out = litmol(tmp_path, "search", "aspirin")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "litmol index build" in out.stderr


def test_corrupt_index_is_failure(home_copy):
    current = (home_copy / "indexes" / "default" / "current").resolve()
    (current / "dense.faiss").write_bytes(b"garbage")
    out = litmol(home_copy, "index", "stats")
    assert out.returncode == 1 and "truncated" in out.stderr and "Traceback" not in out.stderr


def test_corpus_add_unknown_format(home_copy, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    out = litmol(home_copy, "corpus", "add", str(bad))
    assert out.returncode == 2 and "unknown corpus format" in out.stderr


def test_index_stats_json(built_home):
    out = litmol(built_home, "index", "stats", "--json")
    assert out.returncode == 0
    stats = json.loads(out.stdout)
    assert stats["articles"] == 320 and stats["dense"]["kind"] == "flat"


@pytest.mark.slow
def test_killed_dense_build_leaves_index_usable_and_resumes(tmp_path, model_cache):
    """kill -9 during embedding: the lexical build stays published; a rerun reuses checkpoints."""
    from tests.conftest import make_home

    home = make_home(tmp_path / "home", model_cache)
    env = dict(os.environ, LITMOL_HOME=str(home), LITMOL_CHECKPOINT_ROWS="64", LITMOL_EMBED_BATCH_SIZE="8")
    base = [sys.executable, "-m", "agent.cli", "-q", "index", "build", "--corpus", str(SLICE)]
    subprocess.run([*base, "--stage", "lexical"], env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen([*base, "--stage", "dense"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = home / "indexes" / "default" / "work"
    deadline = time.time() + 240
    while time.time() < deadline and len(list(work.glob("*/emb_*.npy"))) < 2:
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    done_before = len(list(work.glob("*/emb_*.npy")))
    assert 2 <= done_before < 5
    out = litmol(home, "search", "cancer", "--json", "-k", "3")
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 3
    rerun = subprocess.run([*base, "--stage", "dense", "-v"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    stats = json.loads(litmol(home, "index", "stats", "--json").stdout)
    assert stats["status"] == "complete" and stats["dense"]["count"] == 320
    assert f"reused {done_before} checkpoint chunk" in rerun.stderr


@pytest.mark.parametrize("argv", [["-q", "--index", "alt", "links", "build"], ["links", "build", "-q", "--index", "alt"],
                                  ["--index", "alt", "links", "-q", "build"]])
def test_common_options_work_before_or_after_the_subcommand(argv):
    from agent.cli import build_parser

    args = build_parser().parse_args(argv)
    assert (args.quiet, args.verbose, args.index) == (True, False, "alt")
    plain = build_parser().parse_args(["links", "build"])
    assert (plain.quiet, plain.verbose, plain.index) == (False, False, None)
