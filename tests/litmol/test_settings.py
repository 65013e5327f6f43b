"""The one settings object: defaults < litmol.toml table < LITMOL_* variables < explicit values, for
every section, and `describe()` says where each value came from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from litmol.settings import SECTIONS, Settings


@pytest.fixture()
def config(tmp_path, monkeypatch):
    """A litmol.toml with one value per section, in effect through LITMOL_CONFIG."""
    path = tmp_path / "litmol.toml"
    path.write_text('[retrieval]\nindex_name = "small"\nrrf_k = 9\n[predictors]\ntimeout = 30\n'
                    '[service]\nport = 8200\n[agent]\nmax_model_calls = 4\n[ui]\nport = 7999\n')
    monkeypatch.setenv("LITMOL_CONFIG", str(path))
    monkeypatch.setenv("LITMOL_HOME", str(tmp_path / "home"))
    for name in ("LITMOL_RRF_K", "LITMOL_PREDICTOR_TIMEOUT", "LITMOL_AGENT_MAX_MODEL_CALLS", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def _source(settings: Settings, section: str, key: str) -> tuple:
    row = next(r for r in settings.describe() if (r["section"], r["key"]) == (section, key))
    return row["value"], row["source"]


def test_file_then_environment_then_explicit_values_win(config, monkeypatch):
    s = Settings.load()
    assert (s.retrieval.index_name, s.retrieval.rrf_k, s.predictors.timeout, s.service.port,
            s.agent.max_model_calls, s.ui.port) == ("small", 9, 30.0, 8200, 4, 7999)
    monkeypatch.setenv("LITMOL_RRF_K", "11")
    monkeypatch.setenv("LITMOL_PREDICTOR_TIMEOUT", "12")
    monkeypatch.setenv("LITMOL_AGENT_MAX_MODEL_CALLS", "5")
    s = Settings.load(agent={"max_model_calls": 3})
    assert (s.retrieval.rrf_k, s.predictors.timeout, s.agent.max_model_calls) == (11, 12.0, 3)
    assert _source(s, "retrieval", "rrf_k") == (11, "env LITMOL_RRF_K")
    assert _source(s, "retrieval", "index_name") == ("small", f"{config} [retrieval]")
    assert _source(s, "agent", "max_model_calls") == (3, "explicit")
    assert _source(s, "retrieval", "embedder") == ("all-MiniLM-L6-v2", "default")
    assert s.home == config.parent / "home"


def test_long_standing_variable_names_still_work(config, monkeypatch):
    monkeypatch.setenv("LITMOL_PREDICT_WORKERS", "3")
    monkeypatch.setenv("LITMOL_PREDICTOR_URL", "http://127.0.0.1:8100")
    monkeypatch.setenv("LITMOL_OPENAI_BASE_URL", "http://10.0.0.5:8000/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator")
    monkeypatch.setenv("LITMOL_UI_ENDPOINTS", '[{"name": "team", "backend": "openai", "base_url": "http://h:1/v1"}]')
    s = Settings.load()
    assert s.predictors.workers == 3 and s.predictors.url == "http://127.0.0.1:8100"
    assert s.agent.openai_base_url == "http://10.0.0.5:8000/v1"
    assert s.agent.openai_api_key.get_secret_value() == "sk-operator"
    assert [e.name for e in s.ui.endpoints] == ["team"]
    rows = {(r["section"], r["key"]): r for r in s.describe()}
    assert rows[("agent", "openai_api_key")]["value"] == "(set)"  # never printed
    assert "sk-operator" not in repr(s.describe())
    assert rows[("predictors", "workers")]["source"] == "env LITMOL_PREDICT_WORKERS"


def test_with_index_changes_only_the_index(config):
    s = Settings.load()
    other = s.with_index("second")
    assert other.retrieval.index_name == "second" and s.retrieval.index_name == "small"
    assert other.retrieval.index_root == s.home / "indexes" / "second"
    assert other.agent is s.agent and s.with_index(None) is s


@pytest.mark.parametrize(("variable", "value"), [("LITMOL_PREDICTOR_TIMEOUT", "-1"), ("LITMOL_SERVICE_PORT", "80"),
                                                 ("LITMOL_PREDICTOR_URL", "file:///etc/passwd"),
                                                 ("LITMOL_AGENT_BACKEND", "shell")])
def test_a_bad_value_is_refused_with_its_name(config, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as err:
        Settings.load()
    assert variable.removeprefix("LITMOL_").split("_", 1)[-1].lower() in str(err.value).lower()


def test_every_section_has_a_table_and_unknown_sections_are_refused(config):
    assert {kind.TABLE for kind in SECTIONS.values()} == set(SECTIONS)
    with pytest.raises(ValueError, match="unknown settings section"):
        Settings.load(retrivel={"index_name": "x"})


def test_the_readme_documents_every_setting_and_its_variable():
    from litmol.paths import SOURCE_ROOT
    from litmol.settings import SECTIONS

    readme = (SOURCE_ROOT / "README.md").read_text(encoding="utf-8")
    for name, kind in SECTIONS.items():
        for field in kind.model_fields:
            assert f"`{name}.{field}`" in readme, f"{name}.{field} is not in the README's settings table"
            for variable in (v for v in kind.env_names(field) if v.isupper()):
                assert f"`{variable}`" in readme, variable
