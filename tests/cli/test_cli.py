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
    return subprocess.run([sys.executable, "-m", "litmol.cli", *args], capture_output=True, text=True,
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
    base = [sys.executable, "-m", "litmol.cli", "-q", "index", "build", "--corpus", str(SLICE)]
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
    from litmol.cli.main import build_parser

    args = build_parser().parse_args(argv)
    assert (args.quiet, args.verbose, args.index) == (True, False, "alt")
    plain = build_parser().parse_args(["links", "build"])
    assert (plain.quiet, plain.verbose, plain.index) == (False, False, None)


# -- issue 15, item 8: damaged corpus files, bounds, empty queries, pipes, share without auth ----
@pytest.fixture()
def lexical_home(tmp_path, model_cache):
    """A private LITMOL_HOME with a lexical-only index of the slice (built in about a second)."""
    from litmol.retrieval import RetrievalSettings, build_index
    from tests.conftest import make_home

    home = make_home(tmp_path / "lexhome", model_cache)
    build_index([str(SLICE)], RetrievalSettings(home=home), stage="lexical", progress=False)
    return home


def _current_build(home) -> str:
    return (home / "indexes" / "default" / "current").resolve().name


def test_corpus_add_refuses_a_truncated_gzip_and_publishes_nothing(lexical_home, tmp_path):
    data = SLICE.read_bytes()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(data[: len(data) // 2])
    before = _current_build(lexical_home)
    out = litmol(lexical_home, "corpus", "add", str(cut))
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert f"{cut}: after 230 records" in out.stderr and "end-of-stream" in out.stderr
    assert "nothing was published" in out.stderr and "--allow-damaged" in out.stderr
    assert _current_build(lexical_home) == before
    assert [p.name for p in (lexical_home / "indexes" / "default" / "builds").iterdir()] == [before]


def test_corpus_add_allow_damaged_keeps_the_records_before_the_damage(lexical_home, tmp_path):
    data = SLICE.read_bytes()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(data[: len(data) // 2])
    before = _current_build(lexical_home)
    out = litmol(lexical_home, "corpus", "add", str(cut), "--allow-damaged", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["ingest"]["read"] == 230 and summary["unchanged"] == 210
    assert summary["ingest"]["damaged"] == [{"path": str(cut), "records_read": 230, "line": None,
                                             "reason": summary["ingest"]["damaged"][0]["reason"]}]
    assert f"warning: damaged: {cut}: after 230 records" in out.stderr
    assert _current_build(lexical_home) != before
    human = litmol(lexical_home, "corpus", "add", str(cut), "--allow-damaged")
    assert human.returncode == 0 and "damaged: 1 file" in human.stderr


def test_corpus_add_binary_jsonl_names_file_and_line(lexical_home, tmp_path):
    path = tmp_path / "bin.jsonl"
    path.write_bytes(json.dumps({"pmid": "90000001", "title": "T", "abstract": "A"}).encode() + b"\n"
                     + SLICE.read_bytes()[:4000])
    out = litmol(lexical_home, "corpus", "add", str(path))
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert f"{path}: after 1 records at line 2: not UTF-8" in out.stderr


def test_corpus_add_reports_bad_pmids_with_file_and_line(lexical_home, tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"pmid": "abc-not-numeric", "title": "Planted", "abstract": "A bogus record."},
            {"pmid": "90000002", "title": "Semaglutide in adolescents", "abstract": "Weight fell."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = litmol(lexical_home, "corpus", "add", str(path), "-q")
    assert out.returncode == 0, out.stderr
    assert "added 1" in out.stderr and "1 bad PMID (not 1-9 digits)" in out.stderr
    assert "mine.jsonl:1: 'abc-not-numeric'" in out.stderr
    assert litmol(lexical_home, "article", "abc-not-numeric").returncode == 2
    assert json.loads(litmol(lexical_home, "article", "90000002", "--json").stdout)["title"] == rows[1]["title"]


def test_corpus_inspect_of_a_damaged_file_exits_2(tmp_path):
    fake = tmp_path / "fake.xml.gz"
    fake.write_bytes(b"PK\x03\x04 not a gzip stream")
    out = litmol(tmp_path, "corpus", "inspect", str(fake))
    assert out.returncode == 2
    assert "damaged: 1 file" in out.stdout and f"{fake}: after 0 records" in out.stderr


@pytest.mark.parametrize("args, message", [
    (("search", "cancer", "-k", "100000", "--mode", "lexical"), "at most 100"),
    (("search", "", "--mode", "lexical"), "empty query"),
    (("search", "   ", "--json"), "empty query"),
])
def test_search_bounds_and_empty_query_from_a_pipe(lexical_home, args, message):
    out = litmol(lexical_home, *args, stdin="")
    assert out.returncode == 2, out.stdout
    assert out.stdout == "" and message in out.stderr.splitlines()[-1]  # argparse adds its usage above
    assert "Traceback" not in out.stderr


def test_piped_queries_skip_empty_lines_and_an_empty_pipe_is_bad_input(lexical_home):
    out = litmol(lexical_home, "search", "--mode", "lexical", stdin="\n  \ncancer\n\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("query: ") == 1 and "query: cancer" in out.stdout
    empty = litmol(lexical_home, "search", "--mode", "lexical", stdin="\n\n")
    assert empty.returncode == 2 and "no query" in empty.stderr and empty.stdout == ""


def test_search_into_a_closed_pipe_exits_quietly(lexical_home):
    env = dict(os.environ, LITMOL_HOME=str(lexical_home))
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "search", "--mode", "lexical"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"cancer\n" * 200)  # ~4 kB of results each: far more than a pipe buffer holds
    proc.stdin.close()
    assert proc.stdout.readline() == b"query: cancer\n"
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=120) == 141
    assert proc.stderr.read() == b""


def test_ui_share_without_auth_warns(lexical_home, monkeypatch, capsys):
    """`--share true` publishes the app on a public gradio.live link: without --auth, say so."""
    import types

    import litmol.cli.main as cli

    launched = {}
    fake_app = types.ModuleType("litmol.ui.app")  # stands in for Gradio's launcher only; nothing is served
    fake_app.launch = lambda **kw: launched.update(kw)
    monkeypatch.setitem(sys.modules, "litmol.ui.app", fake_app)
    monkeypatch.setenv("LITMOL_HOME", str(lexical_home))
    assert cli.main(["ui", "--share", "true", "--no-preload"]) == 0
    assert launched["share"] is True and launched["auth"] is None
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "--share" in warning[0] and "--auth" in warning[0]
    assert cli.main(["ui", "--share", "true", "--no-preload", "--auth", "alice:s3cret"]) == 0
    assert "warning:" not in capsys.readouterr().err
