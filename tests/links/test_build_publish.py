"""The link table is published whole: a `links build` killed with SIGKILL leaves readers the old table (or
a clear "not built" error), and the next build resumes it to the rows of a clean build; a table an older
build left half-written in place is refused, then rebuilt; an incremental build that fails midway leaves
the published table untouched and resumes to what an uninterrupted one gives."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from litmol.retrieval import RetrievalSettings
from tests.cli.test_cli import litmol

CHECKPOINT = 64  # articles per commit in these builds (the smallest the setting allows): 5 on the slice


def table_path(home: Path) -> Path:
    from litmol.links.store import links_path

    return links_path(RetrievalSettings(home=home))


@pytest.fixture(scope="module")
def clean_digest(links_home) -> str:
    """The content of a clean build of the test slice (the session's, in this process)."""
    from litmol.links.store import content_digest

    return content_digest(table_path(links_home))


@pytest.fixture()
def bare_home(built_home, tmp_path) -> Path:
    """A private copy of the built index with no link table."""
    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True, ignore=shutil.ignore_patterns("links"))
    return home


def kill_build(home: Path, *args: str, at_least: int) -> int:
    """Start `litmol links build ARGS` and SIGKILL it once its building file holds `at_least` committed
    articles (0: as soon as the file appears); returns the articles committed when it was killed."""
    from litmol.links.store import committed_articles, staging_path

    staging = staging_path(table_path(home))
    env = dict(os.environ, LITMOL_HOME=str(home), LITMOL_CHECKPOINT_ROWS=str(CHECKPOINT))
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "links", "build", "--quiet", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the build ended before it could be killed: {proc.stderr.read()[-300:]}")
            n = committed_articles(staging)
            if n >= at_least:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return n
            time.sleep(0.002)
        pytest.fail("the build never reached the kill point")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def resume(home: Path) -> tuple[int, int | None]:
    """A plain `litmol links build`; (new articles it mined, where it resumed)."""
    out = litmol(home, "links", "build", "--quiet")
    assert out.returncode == 0, out.stderr
    new = int(re.search(r"\(([\d,]+) new", out.stderr).group(1).replace(",", ""))
    at = re.search(r"resumed an interrupted build at ([\d,]+) articles", out.stderr)
    return new, int(at.group(1).replace(",", "")) if at else None


@pytest.mark.integration
def test_a_killed_rebuild_leaves_the_old_table_and_resumes_to_a_clean_build(bare_home, clean_digest):
    from litmol.links.store import content_digest, staging_path
    from litmol.links.table import LinkTable, build_links

    settings = RetrievalSettings(home=bare_home)
    build_links(settings, progress=False, indexing=False)  # the old table: text mining only
    path = table_path(bare_home)
    old = content_digest(path)
    assert old != clean_digest
    before = [lk.to_dict() for lk in LinkTable.open(settings).links(disease="COVID-19", limit=25)]
    assert before

    n = kill_build(bare_home, "--rebuild", at_least=CHECKPOINT)  # killed midway through mining
    assert CHECKPOINT <= n <= 320 and staging_path(path).is_file()  # mined partly (or wholly), not published
    assert content_digest(path) == old  # readers see the old table exactly, not 64 articles of a new one
    table = LinkTable.open(settings)
    assert table.n_articles == 320 and table.n_indexed == 0
    assert [lk.to_dict() for lk in table.links(disease="COVID-19", limit=25)] == before
    out = litmol(bare_home, "links", "--disease", "COVID-19", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == json.loads(json.dumps(before))

    new, at = resume(bare_home)
    assert at is not None and at >= n and new == 320 - at  # resumed, not started over
    assert not staging_path(path).exists()
    assert content_digest(path) == clean_digest  # the rows of a clean build, indexing links included
    assert LinkTable.open(settings).n_indexed > 0


@pytest.mark.integration
def test_a_killed_first_build_serves_nothing_and_resumes_to_a_clean_build(bare_home, clean_digest):
    from litmol.links.store import content_digest
    from litmol.links.table import LinksNotBuiltError, LinkTable

    kill_build(bare_home, at_least=0)  # as soon as the building file appears
    with pytest.raises(LinksNotBuiltError, match="litmol links build"):
        LinkTable.open(RetrievalSettings(home=bare_home))
    out = litmol(bare_home, "links", "--disease", "angina")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "litmol links build" in out.stderr
    resume(bare_home)
    assert content_digest(table_path(bare_home)) == clean_digest


def test_a_table_an_older_build_left_half_written_is_refused_then_rebuilt_whole(links_home, tmp_path, clean_digest):
    """What the old in-place build left when killed: 40 % of the articles, no indexing links, no MeSH names,
    and no complete mark. Readers refuse it; the next plain build gives the clean table."""
    from litmol.links.errors import IncompleteLinksError
    from litmol.links.store import COMPLETE, content_digest
    from litmol.links.table import LinkTable, build_links

    home = tmp_path / "home"
    shutil.copytree(links_home, home, symlinks=True)
    path = table_path(home)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM articles WHERE rowid > 128")
    conn.execute("DELETE FROM pairs WHERE pmid NOT IN (SELECT pmid FROM articles)")
    conn.execute("DELETE FROM mentions WHERE pmid NOT IN (SELECT pmid FROM articles)")
    conn.executescript(f"DELETE FROM indexed; DELETE FROM names; DELETE FROM trees; "
                       f"DELETE FROM meta WHERE key = '{COMPLETE}';")
    conn.close()
    settings = RetrievalSettings(home=home)
    with pytest.raises(IncompleteLinksError, match="run `litmol links build`"):
        LinkTable.open(settings)
    out = litmol(home, "links", "--disease", "angina")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "incomplete" in out.stderr
    report = build_links(settings, progress=False)
    assert report["new_articles"] == 320 and report["resumed_at"] is None
    assert content_digest(path) == clean_digest


def test_an_incremental_build_that_fails_midway_keeps_the_published_table(built_home, slice_records, tmp_path,
                                                                          monkeypatch):
    """Articles added to the index are mined into a copy of the table: a build that dies midway leaves the
    published table as it was, and the next build ends where an uninterrupted incremental build does."""
    from litmol.links import build as build_module
    from litmol.links.store import content_digest, staging_path
    from litmol.links.table import LinkTable, build_links
    from litmol.retrieval import build_index
    from litmol.retrieval.build import add_to_index

    records = [r for r in slice_records[0] if r.abstract]
    files = []
    for i, part in enumerate((records[:160], records[160:])):
        files.append(tmp_path / f"part{i}.jsonl")
        files[-1].write_text("".join(json.dumps({"pmid": r.pmid, "title": r.title, "abstract": r.abstract,
                                                 "year": r.year, "journal": r.journal, "mesh": [
                                                     {"ui": h.ui, "name": h.name, "qualifiers": list(h.qualifiers)}
                                                     for h in r.mesh]}) + "\n" for r in part))
    crashed, steady = tmp_path / "crashed", tmp_path / "steady"
    build_index([str(files[0])], RetrievalSettings(home=crashed, checkpoint_rows=64), stage="lexical",
                progress=False)
    build_links(RetrievalSettings(home=crashed), progress=False)
    shutil.copytree(crashed, steady, symlinks=True)
    for home in (crashed, steady):
        add_to_index([str(files[1])], RetrievalSettings(home=home), progress=False)
    settings = RetrievalSettings(home=crashed, checkpoint_rows=64)
    old = content_digest(table_path(crashed))
    before = LinkTable.open(settings)
    assert before.n_articles == 160

    calls = {"n": 0}
    real_tag = build_module.Tagger.tag

    def dies_after_100(self, text):
        calls["n"] += 1
        if calls["n"] > 100:
            raise MemoryError("simulated: the build dies after 100 of the 160 new articles")
        return real_tag(self, text)

    monkeypatch.setattr(build_module.Tagger, "tag", dies_after_100)
    with pytest.raises(MemoryError):
        build_links(settings, progress=False)
    monkeypatch.setattr(build_module.Tagger, "tag", real_tag)
    assert content_digest(table_path(crashed)) == old and staging_path(table_path(crashed)).is_file()
    assert LinkTable.open(settings).n_articles == 160

    report = build_links(settings, progress=False)
    assert report["resumed_at"] == 160 + 64 and report["new_articles"] == 320 - 224
    uninterrupted = build_links(RetrievalSettings(home=steady), progress=False)
    assert uninterrupted["new_articles"] == 160 and uninterrupted["resumed_at"] is None
    assert content_digest(table_path(crashed)) == content_digest(table_path(steady))
    assert LinkTable.open(settings).n_articles == 320
