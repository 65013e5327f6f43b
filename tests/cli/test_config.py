"""`litmol config show`: every setting, its value and where it came from."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import litmol

pytestmark = pytest.mark.integration


def _rows(out) -> dict[str, dict]:
    assert out.returncode == 0, out.stderr
    return {f"{r['section']}.{r['key']}": r for r in json.loads(out.stdout)}


def test_sources_are_named_defaults_file_environment_and_index_option(tmp_path, monkeypatch):
    config = tmp_path / "litmol.toml"
    config.write_text('[agent]\nmodel = "1.5b"\n[service]\nport = 9100\n[retrieval]\nrrf_k = 9\n')
    monkeypatch.setenv("LITMOL_CONFIG", str(config))
    monkeypatch.setenv("LITMOL_SERVICE_PORT", "9200")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    rows = _rows(litmol(tmp_path, "config", "show", "--json", "--index", "small"))
    assert rows["agent.model"] == {"section": "agent", "key": "model", "value": "1.5b", "source": f"{config} [agent]"}
    assert rows["service.port"]["value"] == 9200 and rows["service.port"]["source"] == "env LITMOL_SERVICE_PORT"
    assert rows["retrieval.rrf_k"]["value"] == 9
    assert rows["retrieval.index_name"]["value"] == "small" and rows["retrieval.index_name"]["source"] == "explicit"
    assert rows["retrieval.home"]["value"] == str(tmp_path) and rows["retrieval.home"]["source"].startswith("env")
    assert rows["predictors.timeout"]["source"] == "default"
    assert rows["agent.openai_api_key"]["value"] == "(set)"  # secrets are never printed


def test_human_table_and_one_section(tmp_path):
    out = litmol(tmp_path, "config", "show", "--section", "ui")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines and all(line.startswith("ui.") for line in lines)
    assert any(line.split()[:2] == ["ui.port", "7860"] and line.endswith("default") for line in lines)
    assert "config file: none" in out.stderr


def test_section_names_match_the_settings_module():
    from litmol.cli.config import SECTION_NAMES
    from litmol.settings import SECTIONS

    assert tuple(SECTIONS) == SECTION_NAMES


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("LITMOL_SERVICE_PORT", "80", "service.port"),
    ("LITMOL_AGENT_MAX_MODEL_CALLS", "lots", "agent.max_model_calls"),
    ("LITMOL_PREDICTOR_URL", "file:///etc/passwd", "predictors.url"),
])
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path, monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    for args in (["config", "show"], ["search", "x"]):  # every command reads the settings first
        out = litmol(tmp_path, *args)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1, out.stderr
        assert words in lines[0] and variable in lines[0] and "Traceback" not in out.stderr
