"""Shared fixtures: the committed real-abstract slice and an index built from it once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SLICE = DATA / "pubmed_slice.xml.gz"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One ONNX export shared by every temporary LITMOL_HOME in the session."""
    return tmp_path_factory.mktemp("models")


def make_home(path: Path, model_cache: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "models").exists():
        os.symlink(model_cache, path / "models")
    return path


@pytest.fixture(scope="session")
def built_home(tmp_path_factory, model_cache) -> Path:
    """LITMOL_HOME holding a complete index (lexical + dense) of the test slice."""
    from litmol.retrieval import RetrievalSettings, build_index

    home = make_home(tmp_path_factory.mktemp("home"), model_cache)
    build_index([str(SLICE)], RetrievalSettings(home=home, checkpoint_rows=64), progress=False)
    return home


@pytest.fixture()
def home_copy(built_home, tmp_path, model_cache) -> Path:
    """A private copy of the built home that a test may damage."""
    dest = tmp_path / "home"
    shutil.copytree(built_home, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def slice_records():
    from litmol.retrieval import collect_records

    records, report = collect_records([SLICE])
    return records, report


@pytest.fixture()
def index_home(built_home):
    """Settings on the built test index, passed explicitly (nothing is read from the environment)."""
    from litmol.settings import Settings

    return Settings.load(retrieval={"home": built_home})


def session_for(settings, model):
    """An agent session over `settings` answering with `model`."""
    from litmol.agent.session import AgentSession

    return AgentSession(settings, model)


@pytest.fixture(scope="session")
def links_home(built_home) -> Path:
    """The built test home with its link table mined (real tagger and the packaged model)."""
    from litmol.links.table import build_links
    from litmol.retrieval import RetrievalSettings

    build_links(RetrievalSettings(home=built_home), progress=False)
    return built_home


SMALL_PMIDS = 6  # real abstracts of the slice in the second, small index


@pytest.fixture(scope="session")
def small_index(built_home, slice_records, tmp_path_factory):
    """A second index named "small" in the built home: the first few abstracts of the slice (real
    records, written as JSONL). Returns (home, the PMIDs in "small")."""
    import json

    from litmol.retrieval import RetrievalSettings, build_index

    records = [r for r in slice_records[0] if r.abstract][:SMALL_PMIDS]
    corpus = tmp_path_factory.mktemp("small-corpus") / "small.jsonl"
    corpus.write_text("".join(json.dumps({"pmid": r.pmid, "title": r.title, "abstract": r.abstract,
                                          "year": r.year, "journal": r.journal}) + "\n" for r in records))
    build_index([str(corpus)], RetrievalSettings(home=built_home, index_name="small", checkpoint_rows=64),
                progress=False)
    return built_home, {r.pmid for r in records}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Skipped tests are said loudly at the end, with the reason (a missing browser, no GPU): a green run
    that skipped a test did not check what that test checks."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    terminalreporter.write_sep("!", f"{len(skipped)} TEST(S) SKIPPED: what they check was NOT checked", red=True,
                               bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"SKIPPED {report.nodeid}: {reason}", red=True)
