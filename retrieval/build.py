"""Build and extend indexes: lexical part first (minutes), dense part resumable in chunks."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from litmol.settings import RetrievalSettings

from . import dense
from .corpus import resolve_corpus
from .embed import Embedder, describe, embedder_from_settings
from .errors import (
    CorpusError,
    CorruptIndexError,
    DamagedCorpusError,
    EmptyIndexError,
    RetrievalError,
)
from .index import (
    FORMAT_VERSION,
    chunk_path,
    embedder_key,
    file_entry,
    new_build_id,
    publish,
    read_manifest,
)
from .ingest import IngestReport, collect_records
from .records import Record
from .store import MetadataStore

logger = logging.getLogger(__name__)


class BuildLockedError(RetrievalError, RuntimeError):
    """Another build of the same index is running."""


@contextlib.contextmanager
def exclusive_lock(lock_file: Path, refuse: Callable[[str], Exception]) -> Iterator[None]:
    """Hold `lock_file` (flock, our pid written in it) for one writer at a time; a second writer fails at
    once with `refuse(pid of the holder)`. The index build and the link-table build both use it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            raise refuse(fh.read().strip() or "?") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_lock(root: Path) -> contextlib.AbstractContextManager[None]:
    """One writer per index at a time (a second one fails at once with a clear message)."""
    return exclusive_lock(root / ".build.lock",
                          lambda pid: BuildLockedError(f"another build of {root.name} is running (pid {pid})"))


def _staging(root: Path) -> Path:
    for stale in root.glob("staging-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)
    path = root / f"staging-{new_build_id()}"
    path.mkdir(parents=True)
    return path


def _content_sha(store: MetadataStore) -> str:
    digest = hashlib.sha256()
    for _, text in store.texts():
        digest.update(text.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def _sources(paths: list[Path], report: IngestReport) -> list[dict[str, Any]]:
    return [{"path": str(p), "name": p.name, "size": p.stat().st_size,
             "records_read": report.files.get(p.name, 0)} for p in paths]


def check_damage(report: IngestReport, allow_damaged: bool) -> None:
    """Refuse to publish from damaged files unless `allow_damaged` (then they keep the records
    read before the damage, and the report says so)."""
    if report.damaged and not allow_damaged:
        files = "; ".join(d.describe() for d in report.damaged)
        raise DamagedCorpusError(
            f"damaged corpus file{'s' if len(report.damaged) > 1 else ''}: {files}; nothing was published "
            "(fix or remove the file, or pass --allow-damaged to keep the records read before the damage)")


def build_lexical(paths: list[Path], settings: RetrievalSettings, allow_damaged: bool = False,
                  ray: str | None = None) -> dict[str, Any]:
    """Ingest `paths` (parsed as Ray tasks with `ray`) and publish a lexical-only build (BM25 search works
    right after).

    A damaged file raises DamagedCorpusError before anything is published, unless `allow_damaged`.
    """
    t0 = time.perf_counter()
    records, report = collect_records(paths, keep_title_only=settings.keep_title_only, ray=ray)
    check_damage(report, allow_damaged)
    if not records:
        raise CorpusError(f"no usable records in {', '.join(map(str, paths))}: {report.summary()}")
    t_ingest = time.perf_counter() - t0
    staging = _staging(settings.index_root)
    store = MetadataStore(staging / "meta.sqlite")
    store.add_records(records)
    store.optimize()
    content = _content_sha(store)
    store.close()
    manifest = {
        "format": FORMAT_VERSION, "name": settings.index_name, "build_id": new_build_id(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "status": "lexical", "count": len(records),
        "content_sha256": content, "sources": _sources(paths, report), "ingest": report.to_dict(),
        "metadata": file_entry(staging / "meta.sqlite"), "embedder": None, "dense": None,
        "timings_s": {"ingest": round(t_ingest, 2), "lexical": round(time.perf_counter() - t0 - t_ingest, 2)},
    }
    publish(settings.index_root, staging, manifest)
    return manifest


def embed_rows(store: MetadataStore, emb: Embedder, work: Path, rows_per_chunk: int,
               progress: bool = True, keep: bool = True) -> tuple[np.ndarray, float]:
    """Embed every row in checkpointed chunks under `work`; existing chunks are reused.

    Returns the (n, dim) matrix (empty unless `keep`: the chunks stay on disk) and the seconds spent
    encoding (what the throughput figure is).
    """
    work.mkdir(parents=True, exist_ok=True)
    total, step = len(store), rows_per_chunk
    parts: list[np.ndarray] = []
    encode_s = 0.0
    reused = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="embedding abstracts", unit="abstract", smoothing=0.05)
    for start in range(0, total, step):
        texts = [t for _, t in store.texts(start, min(start + step, total))]
        path = chunk_path(work, start, texts)
        if path.is_file():
            try:
                loaded = np.load(path)
                if keep:
                    parts.append(loaded)
                reused += 1
                if bar:
                    bar.update(len(texts))
                continue
            except (OSError, ValueError):
                logger.warning("checkpoint %s unreadable; re-embedding it", path.name)
        t = time.perf_counter()
        vectors = emb.encode(texts)
        encode_s += time.perf_counter() - t
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
        if keep:
            parts.append(vectors)
        if bar:
            bar.update(len(texts))
    if bar:
        bar.close()
    if reused:
        logger.info("reused %d checkpoint chunk(s) of %d from an earlier run", reused, -(-total // step))
    return np.concatenate(parts) if parts else np.zeros((0, emb.dim), np.float32), encode_s


def _chunks_to_disk(store: MetadataStore, work: Path, step: int, target: Path, dim: int) -> np.ndarray:
    """The embedded chunks copied in row order into a float16 matrix on disk (memory-mapped)."""
    total = len(store)
    out = np.lib.format.open_memmap(target, mode="w+", dtype=np.float16, shape=(total, dim))
    for start in range(0, total, step):
        texts = [t for _, t in store.texts(start, min(start + step, total))]
        out[start:start + len(texts)] = np.load(chunk_path(work, start, texts))
    out.flush()
    return out


def _dense_entry(staging: Path, kind: str, params: dict[str, Any], index: Any) -> dict[str, Any]:
    entry = {"kind": kind, "params": params, "count": int(index.ntotal), **file_entry(staging / "dense.faiss")}
    if kind == "ivfpq":
        entry["rerank_vectors"] = file_entry(staging / dense.RERANK_FILE)
    return entry


def build_dense(settings: RetrievalSettings, progress: bool = True, ray: str | None = None,
                ray_workers: int = 0) -> dict[str, Any]:
    """Embed the current build's articles (resumable) and publish it with its FAISS index; with `ray` (an
    address, or "local"), the chunks are embedded on a Ray cluster first (retrieval/distributed.py)."""
    t0 = time.perf_counter()
    root = settings.index_root
    build, old = read_manifest(root)
    emb = embedder_from_settings(settings)
    desc = describe(emb)
    if old.get("dense") and old.get("embedder") == desc:
        logger.info("dense index already built with %s", desc["id"])
        return old
    store = MetadataStore(build / "meta.sqlite", readonly=True)
    work = root / "work" / embedder_key(desc)
    distributed = None
    if ray:
        from .distributed import embed_chunks_on_ray

        distributed = embed_chunks_on_ray(build / "meta.sqlite", len(store), settings.checkpoint_rows, work,
                                          settings, ray, ray_workers, progress)
    kind = dense.choose_kind(len(store), settings.exact_max_vectors, settings.large_index)
    on_disk = kind == "ivfpq"  # the vectors go to disk chunk by chunk, never all in RAM
    vectors, encode_s = embed_rows(store, emb, work, settings.checkpoint_rows, progress and not ray, keep=not on_disk)
    if distributed:
        encode_s = distributed["wall_s"]  # the cluster's wall time is what the build waited for
    staging = _staging(root)
    if on_disk:
        vectors = _chunks_to_disk(store, work, settings.checkpoint_rows, staging / dense.RERANK_FILE, desc["dim"])
    store.close()
    t_faiss = time.perf_counter()
    index, params = dense.make_index(kind, desc["dim"], vectors, settings.model_dump())
    dense.write_dense(staging, index, kind, vectors)
    try:
        os.link(build / "meta.sqlite", staging / "meta.sqlite")  # unchanged: share, don't copy
    except OSError:
        shutil.copy2(build / "meta.sqlite", staging / "meta.sqlite")
    faiss_s = time.perf_counter() - t_faiss
    timings = dict(old.get("timings_s") or {})
    timings.update({"encode": round(encode_s, 2), "faiss": round(faiss_s, 2),
                    "dense_total": round(time.perf_counter() - t0, 2)})
    manifest = dict(old)
    manifest.update({
        "build_id": new_build_id(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "status": "complete",
        "embedder": desc, "timings_s": timings,
        "dense": _dense_entry(staging, kind, params, index),
    })
    if distributed:
        manifest["ray"] = {k: distributed[k] for k in ("workers", "chunks", "reused", "encode_s", "wall_s")}
    publish(root, staging, manifest)
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def build_index(corpus: list[str] | None, settings: RetrievalSettings | None = None,
                stage: str = "all", if_missing: bool = False, progress: bool = True,
                allow_damaged: bool = False, ray: str | None = None, ray_workers: int = 0) -> dict[str, Any]:
    """Build the index named in `settings` from `corpus` (paths, or None for the default).

    stage: `lexical` (ingest + BM25, publish), `dense` (embed + FAISS on the current build),
    or `all` (both, lexical published first). `if_missing`: do nothing if a build exists.
    A damaged corpus file raises DamagedCorpusError and publishes nothing, unless `allow_damaged`.
    """
    settings = settings or RetrievalSettings()
    root = settings.index_root
    ray = ray or settings.ray
    with build_lock(root), _ray_cluster(ray):
        if stage in ("lexical", "all"):
            if not (if_missing and (root / "current").exists()):
                build_lexical(resolve_corpus(corpus), settings, allow_damaged, ray)
            elif stage == "lexical":
                return read_manifest(root)[1]
        if stage in ("dense", "all"):
            if not (root / "current").exists():
                raise EmptyIndexError(f"no index at {root} to embed; run `litmol index build` first")
            return build_dense(settings, progress, ray, ray_workers or settings.ray_workers)
        return read_manifest(root)[1]


@contextlib.contextmanager
def _ray_cluster(address: str | None) -> Iterator[None]:
    """One Ray connection (or local cluster) for both stages of a `--ray` build; nothing without one."""
    if not address:
        yield
        return
    import ray

    from litmol.cluster import ray_init

    started = ray_init(address)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def add_to_index(paths: list[str], settings: RetrievalSettings | None = None,
                 progress: bool = True, allow_damaged: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Append new articles (and newer versions of existing PMIDs) to the current build.

    Only new or changed articles are embedded; the rest keep their vectors. Returns the new
    manifest and a summary {added, updated, unchanged, ingest}. A damaged file (truncated, not
    gzip, binary) raises DamagedCorpusError and publishes nothing, unless `allow_damaged`.
    """
    settings = settings or RetrievalSettings()
    root = settings.index_root
    files = resolve_corpus(paths)
    with build_lock(root):
        build, old = read_manifest(root)
        records, report = collect_records(files, keep_title_only=settings.keep_title_only)
        check_damage(report, allow_damaged)
        staging = _staging(root)
        shutil.copy2(build / "meta.sqlite", staging / "meta.sqlite")
        store = MetadataStore(staging / "meta.sqlite")
        existing = store.rows_by_pmid(r.pmid for r in records)
        new: list[Record] = []
        changed: list[tuple[int, Record]] = []
        unchanged = 0
        for rec in records:
            row = existing.get(rec.pmid)
            if row is None:
                new.append(rec)
                continue
            cur = store.article(rec.pmid)
            if (cur["title"], cur["abstract"], cur["year"]) == (rec.title, rec.abstract, rec.year):
                unchanged += 1
            else:
                store.replace_record(row, rec)
                changed.append((row, rec))
        store.add_records(new)
        store.optimize()
        count = len(store)
        content = _content_sha(store)
        store.close()
        manifest = dict(old)
        manifest.update({
            "build_id": new_build_id(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "count": count,
            "content_sha256": content, "sources": old["sources"] + _sources(files, report),
            "metadata": file_entry(staging / "meta.sqlite"),
        })
        if old.get("dense") and (new or changed):
            import faiss

            emb = embedder_from_settings(settings)
            index = faiss.read_index(str(build / "dense.faiss"))
            if old["dense"].get("rerank_vectors"):
                index = dense.Reranked(index, np.load(build / dense.RERANK_FILE, mmap_mode="r"))
            vectors = dense.all_vectors(index)
            texts = [r.text for _, r in changed] + [r.text for r in new]
            fresh = emb.encode(texts, show_progress=progress)
            for i, (row, _) in enumerate(changed):
                vectors[row] = fresh[i]
            vectors = np.concatenate([vectors, fresh[len(changed):]])
            if len(vectors) != count:
                raise CorruptIndexError(f"{build}: {len(vectors)} vectors for {count} articles; rebuild the index")
            kind = dense.choose_kind(count, settings.exact_max_vectors, settings.large_index)
            index, params = dense.make_index(kind, vectors.shape[1], vectors, settings.model_dump())
            dense.write_dense(staging, index, kind, vectors)
            manifest["dense"] = _dense_entry(staging, kind, params, index)
        elif old.get("dense"):
            shutil.copy2(build / "dense.faiss", staging / "dense.faiss")
            if old["dense"].get("rerank_vectors"):  # unchanged: share the GBs, don't copy them
                os.link(build / dense.RERANK_FILE, staging / dense.RERANK_FILE)
        publish(root, staging, manifest)
    summary = {"added": len(new), "updated": len(changed), "unchanged": unchanged, "ingest": report.to_dict()}
    return manifest, summary


__all__ = ["add_to_index", "build_dense", "build_index", "build_lexical", "embed_rows"]
