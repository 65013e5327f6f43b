"""A published passage index: manifest checks, atomic publishing, and search over it.

Layout under `LITMOL_HOME/indexes/<name>/`:
    current -> builds/<build_id>      symlink swapped atomically on publish
    builds/<build_id>/manifest.json   embedder, counts, sources, checksums, timings
    builds/<build_id>/meta.sqlite     articles + FTS5 (BM25)
    builds/<build_id>/dense.faiss     vectors (absent while only the lexical part exists)
    work/<embedder-key>/              resumable embedding checkpoints of a dense build
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from litmol.settings import RetrievalSettings

from . import dense
from .embed import Embedder, embedder_from_settings
from .errors import (
    ArticleNotFoundError,
    BadQueryError,
    CorruptIndexError,
    EmptyIndexError,
    IndexMismatchError,
)
from .search import MAX_RESULTS, MODES, Passage, reciprocal_rank_fusion
from .store import MetadataStore

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MAX_QUERY_CHARS = 2_000  # a question or keywords; longer text is refused before tokenizing or matching
FORMAT_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    return {"file": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)}


def embedder_key(desc: dict[str, Any]) -> str:
    """Folder name of the embedding checkpoints for one embedder configuration."""
    raw = json.dumps({k: desc[k] for k in ("id", "backend", "max_seq_length")}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def chunk_path(work: Path, start: int, texts: list[str]) -> Path:
    """Checkpoint file for rows [start, start+len(texts)), named by a hash of their text."""
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    return work / f"emb_{start:09d}_{len(texts)}_{digest}.npy"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(root: Path, staging: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest, fsync everything, move `staging` into builds/ and swap `current`.

    Readers either see the old build or the new one, never a half-written one; a build killed
    before the swap leaves the old index in place (the staging folder is cleaned later).
    """
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    for item in staging.iterdir():
        with item.open("rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(staging)
    builds = root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    final = builds / manifest["build_id"]
    staging.rename(final)
    _fsync_dir(builds)
    link_tmp = root / "current.tmp"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(Path("builds") / final.name, link_tmp)
    os.replace(link_tmp, root / "current")
    _fsync_dir(root)
    for old in builds.iterdir():  # open readers keep their file handles on Linux
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    logger.info("published %s (%s, %d articles)", final.name, manifest["status"], manifest["count"])
    return final


def new_build_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 100000:05d}"


def read_manifest(root: Path) -> tuple[Path, dict[str, Any]]:
    current = root / "current"
    if not current.exists():
        raise EmptyIndexError(f"no index at {root}; build one with `litmol index build`")
    build = current.resolve()
    try:
        manifest = json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptIndexError(f"{build}: manifest unreadable ({exc}); rebuild with `litmol index build`") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise CorruptIndexError(f"{build}: index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild")
    return build, manifest


def verify_file(build: Path, entry: dict[str, Any], checksum: bool = True) -> Path:
    path = build / entry["file"]
    if not path.is_file():
        raise CorruptIndexError(f"{path} is missing; rebuild with `litmol index build`")
    size = path.stat().st_size
    if size != entry["size"]:
        raise CorruptIndexError(f"{path} is truncated or changed ({size} bytes, manifest says {entry['size']}); rebuild")
    if checksum and sha256_file(path) != entry["sha256"]:
        raise CorruptIndexError(f"{path} fails its checksum; rebuild with `litmol index build`")
    return path


class PassageIndex:
    """A loaded index: lexical always, dense when built (or the part embedded so far)."""

    def __init__(self, build: Path, manifest: dict[str, Any], store: MetadataStore,
                 vectors, embedder: Embedder | None, settings: RetrievalSettings,
                 dense_coverage: float) -> None:
        self.build, self.manifest, self.store = build, manifest, store
        self.vectors, self.embedder, self.settings = vectors, embedder, settings
        self.dense_coverage = dense_coverage

    @classmethod
    def open(cls, settings: RetrievalSettings | None = None, verify: bool = True) -> PassageIndex:
        """Load the current build of the configured index, checking the manifest and files.

        Raises EmptyIndexError (nothing built), CorruptIndexError (missing, truncated or
        checksum-failing files) or IndexMismatchError (configured embedder differs).
        """
        settings = settings or RetrievalSettings()
        root = settings.index_root
        build, manifest = read_manifest(root)
        meta = verify_file(build, manifest["metadata"], checksum=verify)
        store = MetadataStore(meta, readonly=True)
        if len(store) != manifest["count"]:
            raise CorruptIndexError(f"{meta}: {len(store)} articles, manifest says {manifest['count']}; rebuild")
        wanted = {"id": settings.embedder, "backend": settings.embed_backend,
                  "max_seq_length": settings.max_seq_length}
        built = manifest.get("embedder")
        if built and any(built[k] != v for k, v in wanted.items()):
            raise IndexMismatchError(
                f"index built with embedder {built['id']} ({built['backend']}, {built['max_seq_length']} tokens) "
                f"but {wanted['id']} ({wanted['backend']}, {wanted['max_seq_length']} tokens) is configured; "
                "rebuild with `litmol index build` or configure the index's embedder"
            )
        embedder = embedder_from_settings(settings)
        vectors, coverage = None, 0.0
        if manifest.get("dense"):
            import faiss

            path = verify_file(build, manifest["dense"], checksum=verify)
            try:
                vectors = faiss.read_index(str(path))
            except RuntimeError as exc:
                raise CorruptIndexError(f"{path}: unreadable FAISS index ({exc}); rebuild") from exc
            if manifest["dense"].get("rerank_vectors"):  # ivfpq: exact vectors memory-mapped, not read
                f16 = verify_file(build, manifest["dense"]["rerank_vectors"], checksum=False)  # size only: GBs
                try:
                    vectors = dense.Reranked(vectors, np.load(f16, mmap_mode="r"))
                except ValueError as exc:
                    raise CorruptIndexError(f"{f16}: {exc}; rebuild") from exc
            if vectors.ntotal != manifest["count"]:
                raise CorruptIndexError(f"{path}: {vectors.ntotal} vectors for {manifest['count']} articles; rebuild")
            dense.configure_search(vectors, manifest["dense"]["kind"], manifest["dense"]["params"])
            coverage = 1.0
        else:
            vectors, coverage = cls._partial_dense(root, store, wanted, settings.checkpoint_rows)
        return cls(build, manifest, store, vectors, embedder, settings, coverage)

    @staticmethod
    def _partial_dense(root: Path, store: MetadataStore, wanted: dict[str, Any], rows_per_chunk: int):
        """While a dense build runs, search the prefix of rows already embedded (exact index)."""
        work = root / "work" / embedder_key(wanted)
        if not work.is_dir() or not any(work.glob("emb_*.npy")):
            return None, 0.0
        total = len(store)
        parts, start = [], 0
        while start < total:
            texts = [t for _, t in store.texts(start, min(start + rows_per_chunk, total))]
            path = chunk_path(work, start, texts)
            if not path.is_file():
                break
            try:
                parts.append(np.load(path))
            except (OSError, ValueError):
                break
            start += len(texts)
        if not parts:
            return None, 0.0
        index, _ = dense.make_index("flat", parts[0].shape[1], np.concatenate(parts), {})
        return index, start / total

    # -- queries -----------------------------------------------------------------------------
    @property
    def notice(self) -> str | None:
        """A line for the user when results are incomplete (dense part still building)."""
        if self.dense_coverage >= 1.0:
            return None
        return (f"dense index {self.dense_coverage:.0%} built; hybrid results use lexical search "
                "for the rest (run or wait for `litmol index build --stage dense`)")

    def _dense_hits(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        if self.vectors is None:
            return []
        vec = self.embedder.encode([query])[0]
        return dense.search_dense(self.vectors, vec, depth, allowed)

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               since: int | None = None, until: int | None = None) -> list[Passage]:
        """Top-k passages for `query` (1 <= k <= MAX_RESULTS); `mode` is hybrid (RRF of dense + BM25),
        dense or lexical. Raises BadQueryError for an empty query, bad options or k out of range."""
        query = (query or "").strip()
        if not query:
            raise BadQueryError("empty query")
        if len(query) > MAX_QUERY_CHARS:
            raise BadQueryError(f"query of {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,} "
                                "(ask with keywords or a question)")
        if mode not in MODES:
            raise BadQueryError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        if not 1 <= k <= MAX_RESULTS:
            raise BadQueryError(f"k must be between 1 and {MAX_RESULTS} (got {k})")
        if since is not None and until is not None and since > until:
            raise BadQueryError(f"--since {since} is after --until {until}")
        if mode == "dense" and self.vectors is None:
            raise EmptyIndexError("dense index not built yet; run `litmol index build --stage dense` or use --mode lexical")
        allowed = None
        if since is not None or until is not None:
            allowed = np.asarray(self.store.rows_in_years(since, until), dtype=np.int64)
        depth = max(self.settings.fusion_depth, k)
        if mode == "lexical":
            hits = self.store.lexical(query, k, since, until)
        elif mode == "dense":
            hits = self._dense_hits(query, k, allowed)
        else:
            lexical = self.store.lexical(query, depth, since, until)
            dense_hits = self._dense_hits(query, depth, allowed)
            hits = reciprocal_rank_fusion(
                [[r for r, _ in dense_hits], [r for r, _ in lexical]], k=self.settings.rrf_k
            )[:k]
        rows = self.store.fetch(r for r, _ in hits)
        return [Passage(rows[r]["pmid"], rows[r]["title"], rows[r]["year"], round(s, 6), rows[r]["text"])
                for r, s in hits if r in rows]

    def get_article(self, pmid: str) -> dict[str, Any]:
        """Full record of one article (title, abstract, year, journal, MeSH, publication types)."""
        article = self.store.article(str(pmid))
        if article is None:
            raise ArticleNotFoundError(f"PMID {pmid} is not in the index")
        return article

    def stats(self) -> dict[str, Any]:
        lo, hi = self.store.year_range()
        m = self.manifest
        return {
            "name": m["name"], "build_id": m["build_id"], "status": m["status"], "articles": m["count"],
            "years": [lo, hi], "embedder": m.get("embedder"),
            "dense": {k: v for k, v in (m.get("dense") or {}).items() if k != "sha256"} or None,
            "dense_coverage": round(self.dense_coverage, 4), "sources": m["sources"],
            "ingest": m.get("ingest"), "timings_s": m.get("timings_s"), "created": m["created"],
            "path": str(self.build),
        }

    def close(self) -> None:
        self.store.close()
