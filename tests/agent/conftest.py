"""Fixtures shared by the agent tests."""

from __future__ import annotations

import pytest


@pytest.fixture()
def index_home(built_home, monkeypatch):
    from agent import tools

    monkeypatch.setenv("LITMOL_HOME", str(built_home))
    tools._index.cache_clear()
    yield built_home
    tools._index.cache_clear()
