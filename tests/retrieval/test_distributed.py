"""`litmol index build --ray`: the dense stage on a local Ray cluster started by the test on this machine —
the same index as the in-process build, and a job killed mid-way resumes from the chunks it wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SLICE, make_home

pytestmark = pytest.mark.slow


def _vectors(home: Path) -> tuple[list[str], np.ndarray, dict]:
    import faiss

    from litmol.retrieval import RetrievalSettings
    from litmol.retrieval.index import read_manifest
    from litmol.retrieval.store import MetadataStore

    build, manifest = read_manifest(RetrievalSettings(home=home).index_root)
    index = faiss.read_index(str(build / "dense.faiss"))
    store = MetadataStore(build / "meta.sqlite", readonly=True)
    pmids = [r[0] for r in store.conn.execute("SELECT pmid FROM docs ORDER BY row")]
    store.close()
    return pmids, index.reconstruct_n(0, index.ntotal), manifest


def _stop_ray() -> None:  # a killed driver can leave its local cluster behind
    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True, timeout=120)


def test_ray_build_matches_the_in_process_build(built_home, tmp_path, model_cache):
    from litmol.retrieval import RetrievalSettings, build_index

    home = make_home(tmp_path / "ray-home", model_cache)
    settings = RetrievalSettings(home=home, checkpoint_rows=64)
    build_index([str(SLICE)], settings, stage="lexical", progress=False)
    manifest = build_index(None, settings, stage="dense", progress=False, ray="local", ray_workers=2)
    assert manifest["status"] == "complete" and manifest["ray"]["workers"] == 2
    assert manifest["ray"]["chunks"] == 5 and manifest["ray"]["reused"] == 0  # 320 abstracts in chunks of 64
    pmids, vectors, _ = _vectors(home)
    ref_pmids, ref_vectors, ref = _vectors(built_home)  # the session's in-process build of the same slice
    assert pmids == ref_pmids and manifest["content_sha256"] == ref["content_sha256"]
    assert vectors.shape == ref_vectors.shape
    np.testing.assert_allclose(vectors, ref_vectors, atol=1e-4)  # same model, texts and order; threads differ
    assert manifest["dense"]["kind"] == ref["dense"]["kind"]


def test_a_killed_ray_build_resumes_from_its_chunks(tmp_path, model_cache):
    from litmol.retrieval import RetrievalSettings, build_index

    home = make_home(tmp_path / "kill-home", model_cache)
    build_index([str(SLICE)], RetrievalSettings(home=home, checkpoint_rows=64), stage="lexical", progress=False)
    env = {**os.environ, "LITMOL_HOME": str(home), "LITMOL_CHECKPOINT_ROWS": "64"}
    command = [sys.executable, "-m", "litmol.cli", "index", "build", "--stage", "dense", "--ray", "--ray-workers", "1",
               "-q"]
    work = home / "indexes" / "default" / "work"
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not list(work.glob("*/emb_*.npy")):  # the first chunk is written: kill the whole job now
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no chunk was written"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        _stop_ray()
    written = list(work.glob("*/emb_*.npy"))
    assert 1 <= len(written) < 5 and not (home / "indexes" / "default" / "current" / "dense.faiss").exists()
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    _, vectors, manifest = _vectors(home)
    assert manifest["status"] == "complete" and vectors.shape[0] == 320
    assert manifest["ray"]["reused"] >= 1 and manifest["ray"]["chunks"] + manifest["ray"]["reused"] == 5


def test_corpus_files_parsed_on_ray_give_the_same_records_in_the_same_order(slice_records, tmp_path):
    """The lexical stage's parsing as Ray tasks: the slice split over four files (one of them repeating a
    PMID with a newer version, one a MEDLINE file), read in order, deduplicated as in process."""
    import json
    import shutil

    from litmol.retrieval import collect_records

    records, _ = slice_records
    paths = [tmp_path / "a.xml.gz"]
    shutil.copy(SLICE, paths[0])
    for i, part in enumerate((records[:100], records[100:200])):
        path = tmp_path / f"part{i}.jsonl"
        path.write_text("".join(json.dumps({"pmid": r.pmid, "title": r.title + f" (v{i})", "abstract": r.abstract,
                                            "year": r.year}) + "\n" for r in part))
        paths.append(path)
    paths.append(tmp_path / "empty.jsonl")
    paths[-1].write_text("")
    local, local_report = collect_records(paths)
    on_ray, ray_report = collect_records(paths, ray="local")
    assert [(r.pmid, r.title, r.abstract) for r in on_ray] == [(r.pmid, r.title, r.abstract) for r in local]
    assert ray_report.to_dict() == local_report.to_dict() and ray_report.replaced == 200
