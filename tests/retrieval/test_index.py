"""Build -> load -> search on real abstracts; manifest checks; atomic publish; index add."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from litmol.retrieval import (
    BadQueryError,
    CorruptIndexError,
    EmptyIndexError,
    IndexMismatchError,
    RetrievalSettings,
    build_index,
    open_index,
)
from litmol.retrieval.search import reciprocal_rank_fusion
from tests.conftest import SLICE, make_home


def settings(home, **kw) -> RetrievalSettings:
    return RetrievalSettings(home=home, checkpoint_rows=64, **kw)


@pytest.fixture(scope="module")
def index(built_home):
    idx = open_index(settings(built_home))
    yield idx
    idx.close()


def test_manifest_records_build(index, slice_records):
    records, _ = slice_records
    stats = index.stats()
    assert stats["status"] == "complete" and stats["articles"] == len(records) == 320
    assert stats["dense"]["kind"] == "flat" and stats["dense"]["count"] == 320
    assert stats["embedder"] == {"id": "all-MiniLM-L6-v2", "backend": "onnx-int8", "max_seq_length": 128,
                                 "dim": 384, "normalized": True}
    assert stats["dense_coverage"] == 1.0 and index.notice is None
    assert stats["sources"][0]["name"] == SLICE.name and stats["sources"][0]["records_read"] == 360


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_own_title_finds_the_article(index, slice_records, mode):
    records, _ = slice_records
    sample = records[::40]
    hits_at_1 = 0
    for rec in sample:
        results = index.search(rec.title, k=5, mode=mode)
        assert len(results) == 5
        assert rec.pmid in [p.pmid for p in results], (mode, rec.title)
        hits_at_1 += results[0].pmid == rec.pmid
    assert hits_at_1 >= len(sample) - 1


def test_passage_fields_and_scores(index):
    results = index.search("metformin", k=3, mode="hybrid")
    first = results[0].to_dict()
    assert set(first) == {"pmid", "title", "year", "score", "text"}
    assert first["pmid"].isdigit() and first["text"]
    assert [p.score for p in results] == sorted((p.score for p in results), reverse=True)
    dense = index.search("metformin", k=3, mode="dense")
    assert all(-1.0 <= p.score <= 1.0 for p in dense)


def test_year_filter(index):
    for mode in ("hybrid", "dense", "lexical"):
        results = index.search("cancer treatment", k=10, mode=mode, since=2020)
        assert results and all(p.year >= 2020 for p in results)
        old = index.search("cancer treatment", k=10, mode=mode, until=1985)
        assert old and all(p.year <= 1985 for p in old)


def test_bad_queries(index):
    with pytest.raises(BadQueryError):
        index.search("   ")
    with pytest.raises(BadQueryError):
        index.search("x", mode="fuzzy")
    with pytest.raises(BadQueryError):
        index.search("cancer", since=2020, until=2000)
    assert index.search("the of and", mode="lexical") == []  # only stopwords: nothing lexical


def test_get_article(index, slice_records):
    records, _ = slice_records
    rec = next(r for r in records if r.mesh)
    art = index.get_article(rec.pmid)
    assert art["title"] == rec.title and art["abstract"] == rec.abstract
    assert art["mesh"][0]["name"] == rec.mesh[0].name
    with pytest.raises(LookupError):
        index.get_article("1")


def test_rrf_fusion_values():
    fused = reciprocal_rank_fusion([[10, 20, 30], [30, 40]], k=60)
    scores = dict(fused)
    assert scores[30] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[10] == pytest.approx(1 / 61)
    assert [i for i, _ in fused][:2] == [30, 10]


def test_hybrid_beats_or_matches_single_modes_on_paraphrase(index, slice_records):
    """A query sharing no title words still finds its article through the dense half of hybrid."""
    records, _ = slice_records
    ranks = {"hybrid": [], "lexical": []}
    for rec in records[:60]:
        words = rec.abstract.split()
        query = " ".join(words[len(words) // 2 : len(words) // 2 + 25])
        for mode in ranks:
            got = [p.pmid for p in index.search(query, k=10, mode=mode)]
            ranks[mode].append(rec.pmid in got)
    assert sum(ranks["hybrid"]) >= sum(ranks["lexical"]) - 1
    assert sum(ranks["hybrid"]) >= 55


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(EmptyIndexError, match="litmol index build"):
        open_index(settings(tmp_path))


def test_mismatched_embedder_refused(built_home):
    with pytest.raises(IndexMismatchError, match="rebuild"):
        open_index(settings(built_home, embed_backend="sentence-transformers", max_seq_length=256))


def test_truncated_dense_file_refused(home_copy):
    current = (home_copy / "indexes" / "default" / "current").resolve()
    faiss_file = current / "dense.faiss"
    data = faiss_file.read_bytes()
    faiss_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptIndexError, match="truncated"):
        open_index(settings(home_copy))


def test_changed_metadata_fails_checksum(home_copy):
    current = (home_copy / "indexes" / "default" / "current").resolve()
    db = current / "meta.sqlite"
    raw = bytearray(db.read_bytes())
    raw[-100] ^= 0xFF
    db.write_bytes(bytes(raw))
    with pytest.raises(CorruptIndexError, match="checksum"):
        open_index(settings(home_copy))


def test_crash_before_publish_keeps_old_index(home_copy, monkeypatch, tmp_path):
    import litmol.retrieval.build as build_mod

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated crash before the swap)")

    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"pmid": "99", "title": "Other", "abstract": "Text"}) + "\n")
    monkeypatch.setattr(build_mod, "publish", crash)
    with pytest.raises(OSError):
        build_index([str(other)], settings(home_copy), stage="lexical")
    idx = open_index(settings(home_copy))
    assert idx.stats()["articles"] == 320 and idx.stats()["status"] == "complete"
    assert list((home_copy / "indexes" / "default").glob("staging-*"))  # the half-built one
    monkeypatch.undo()
    build_index([str(other)], settings(home_copy), stage="lexical")
    assert not list((home_copy / "indexes" / "default").glob("staging-*"))
    assert open_index(settings(home_copy)).stats()["articles"] == 1


def test_index_add_embeds_only_new_and_changed(home_copy, index, slice_records, tmp_path):
    import faiss

    records, _ = slice_records
    old_vectors = faiss.read_index(str(home_copy / "indexes/default/current/dense.faiss")).reconstruct_n(0, 320)
    changed = records[5]
    path = tmp_path / "new.jsonl"
    rows = [
        {"pmid": "90000001", "title": "Semaglutide lowers body weight in adolescents with obesity",
         "abstract": "In a randomized trial, weekly semaglutide reduced BMI in adolescents with obesity.",
         "year": 2022, "journal": "Test J"},
        {"pmid": changed.pmid, "title": changed.title, "abstract": changed.abstract + " Erratum added.",
         "year": changed.year},
        {"pmid": records[6].pmid, "title": records[6].title, "abstract": records[6].abstract, "year": records[6].year},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    from litmol.retrieval import add_to_index

    manifest, summary = add_to_index([str(path)], settings(home_copy), progress=False)
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (1, 1, 1)
    assert manifest["count"] == 321
    idx = open_index(settings(home_copy))
    assert idx.search("semaglutide adolescents obesity weight", k=1)[0].pmid == "90000001"
    assert idx.get_article(changed.pmid)["abstract"].endswith("Erratum added.")
    new_vectors = idx.vectors.reconstruct_n(0, 321)
    row5 = idx.get_article(changed.pmid)["row"]
    untouched = [i for i in range(320) if i != row5]
    assert np.array_equal(new_vectors[untouched], old_vectors[untouched])
    assert not np.array_equal(new_vectors[row5], old_vectors[row5])


def test_partial_dense_is_searchable_while_building(tmp_path, model_cache):
    """Chunks embedded so far serve dense/hybrid queries before the dense build finishes."""
    from litmol.retrieval.build import embed_rows
    from litmol.retrieval.embed import describe, embedder_from_settings
    from litmol.retrieval.index import embedder_key
    from litmol.retrieval.store import MetadataStore

    home = make_home(tmp_path / "home", model_cache)
    s = settings(home)
    build_index([str(SLICE)], s, stage="lexical")
    idx = open_index(s)
    assert idx.vectors is None and "0%" in idx.notice
    current = (home / "indexes/default/current").resolve()
    store = MetadataStore(current / "meta.sqlite", readonly=True)
    emb = embedder_from_settings(s)
    work = home / "indexes/default/work" / embedder_key(describe(emb))
    embed_rows(store, emb, work, s.checkpoint_rows, progress=False)
    for extra in sorted(work.glob("emb_*.npy"))[2:]:
        os.remove(extra)  # as if the build had been stopped after two chunks
    idx = open_index(s)
    assert idx.dense_coverage == pytest.approx(128 / 320)
    assert "40%" in idx.notice
    first = store.texts(0, 1).__next__()[1]
    assert idx.search(first[:200], k=3, mode="dense")[0].pmid == store.fetch([0])[0]["pmid"]
    shutil.rmtree(home / "indexes")


def test_k_is_capped_and_damaged_files_are_not_published(tmp_path):
    """-k 100000 would return the whole corpus; a truncated .xml.gz must not become a new build."""
    from litmol.retrieval import MAX_RESULTS, DamagedCorpusError, add_to_index

    home_settings = settings(tmp_path)
    build_index([str(SLICE)], home_settings, stage="lexical", progress=False)
    idx = open_index(home_settings)
    assert MAX_RESULTS == 100 and len(idx.search("cancer", k=MAX_RESULTS, mode="lexical")) == 29
    with pytest.raises(BadQueryError, match="between 1 and 100"):
        idx.search("cancer", k=100_000, mode="lexical")
    idx.close()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(SLICE.read_bytes()[:200_000])
    current = (tmp_path / "indexes" / "default" / "current").resolve()
    with pytest.raises(DamagedCorpusError, match=f"{cut}: after .* records: .*end-of-stream"):
        add_to_index([str(cut)], home_settings, progress=False)
    with pytest.raises(DamagedCorpusError, match="nothing was published"):
        build_index([str(SLICE), str(cut)], home_settings, stage="lexical", progress=False)
    assert (tmp_path / "indexes" / "default" / "current").resolve() == current
    manifest, summary = add_to_index([str(cut)], home_settings, progress=False, allow_damaged=True)
    assert summary["ingest"]["damaged"][0]["path"] == str(cut) and manifest["count"] == 320
    assert (tmp_path / "indexes" / "default" / "current").resolve() != current


def test_ivfpq_keeps_codes_in_ram_and_vectors_on_disk_and_finds_what_exact_search_finds(home_copy, index,
                                                                                       slice_records, tmp_path):
    """The large-corpus kind on the real slice: the dense stage rebuilt as IVF-PQ (every list probed) with
    its float16 vectors memory-mapped; top-10 as exact search; filters and `index add` still work."""
    from litmol.retrieval import add_to_index
    from litmol.retrieval.build import build_dense
    from litmol.retrieval.dense import RERANK_FILE, Reranked

    records, _ = slice_records
    config = settings(home_copy, exact_max_vectors=0, large_index="ivfpq", ivf_nprobe=512, ivfpq_m=48)
    manifest = json.loads((home_copy / "indexes/default/current/manifest.json").read_text())
    manifest.pop("dense")  # back to the lexical build: the dense stage is embedded and indexed again
    (home_copy / "indexes/default/current/manifest.json").write_text(json.dumps(manifest))
    built = build_dense(config, progress=False)
    assert built["dense"]["kind"] == "ivfpq" and built["dense"]["params"]["pq_m"] == 48
    assert built["dense"]["rerank_vectors"]["file"] == RERANK_FILE
    pq = open_index(config)
    assert isinstance(pq.vectors, Reranked) and isinstance(pq.vectors.vectors, np.memmap)
    assert pq.vectors.vectors.dtype == np.float16 and pq.vectors.ntotal == 320
    same = 0
    queries = [r.title for r in records[:40]]
    for q in queries:
        exact = [p.pmid for p in index.search(q, k=10, mode="dense")]
        same += len(set(exact) & {p.pmid for p in pq.search(q, k=10, mode="dense")})
        assert pq.search(q, k=1, mode="dense")[0].pmid == exact[0]
    assert same / (10 * len(queries)) >= 0.95
    year = records[3].year
    assert all(p.year >= year for p in pq.search(records[3].title, k=5, mode="dense", since=year))

    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps({"pmid": "90000002", "title": "Tirzepatide and weight loss in type 2 diabetes",
                                "abstract": "Weekly tirzepatide reduced body weight more than placebo.",
                                "year": 2023}) + "\n")
    manifest, _ = add_to_index([str(path)], config, progress=False)
    assert manifest["dense"]["kind"] == "ivfpq" and manifest["dense"]["count"] == 321
    assert open_index(config).search("tirzepatide weight loss", k=1, mode="dense")[0].pmid == "90000002"
    (home_copy / "indexes/default/current" / RERANK_FILE).write_bytes(b"short")
    with pytest.raises(CorruptIndexError):
        open_index(config)


def test_the_index_kind_follows_the_corpus_size():
    from litmol.retrieval.dense import choose_kind

    assert choose_kind(320, 200_000, "auto") == "flat"
    assert choose_kind(1_000_000, 200_000, "auto") == "hnsw"
    assert choose_kind(36_000_000, 200_000, "auto") == "ivfpq"  # all of PubMed: codes in RAM, vectors on disk
    assert choose_kind(36_000_000, 200_000, "hnsw") == "hnsw"  # an explicit choice is kept
