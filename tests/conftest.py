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
def index_home(built_home, monkeypatch):
    """LITMOL_HOME set to the built test index for the agent tools (their index cache cleared)."""
    from litmol.agent import tools

    monkeypatch.setenv("LITMOL_HOME", str(built_home))
    tools._index.cache_clear()
    tools._links.cache_clear()
    yield built_home
    tools._index.cache_clear()
    tools._links.cache_clear()


@pytest.fixture(scope="session")
def links_home(built_home) -> Path:
    """The built test home with its link table mined (real tagger and the packaged model)."""
    from litmol.links.table import build_links
    from litmol.retrieval import RetrievalSettings

    build_links(RetrievalSettings(home=built_home), progress=False)
    return built_home
