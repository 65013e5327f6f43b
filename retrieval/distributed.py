"""An index build on a Ray cluster (`litmol index build --ray [ADDRESS]`).

The corpus files (MEDLINE XML, JSONL, CSV) are parsed as Ray tasks, a bounded window of them in flight,
their records returned in file order to the driver, which deduplicates them and writes the SQLite FTS5
table as in process (one file, one writer).

Ray Data spreads the embedding checkpoint chunks of the build over an actor pool: each actor loads the
embedder once (ONNX int8 on CPU, its threads capped to the CPUs Ray gave it; a GPU when the settings
ask for sentence-transformers and the cluster has one) and writes each chunk it embeds to the build's
work folder atomically, under the same name (`index.chunk_path`: start, length, hash of the texts) the
in-process build uses. Chunks already there are not sent again, so a killed cluster job resumes where
it stopped, and an in-process run reuses them too. The driver then assembles the chunks in order and the
existing step builds the FAISS index and publishes it atomically with its manifest — the published
index is the in-process one, produced by other hands.

On several nodes the work folder (LITMOL_HOME) must be on a filesystem every node sees.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from litmol.cluster import actor_shares, cluster_shape, ray_errors, ray_init

logger = logging.getLogger(__name__)


def read_files_on_ray(paths: list[Path], address: str | None = "local") -> Iterator[tuple[list[Any], Any]]:
    """(items, IngestReport) of each file, in input order, parsed as Ray tasks (every node must see the
    files); at most two per cluster CPU in flight, so the driver's memory holds a window, not the corpus."""
    import ray

    from .ingest import read_whole_file

    started = ray_init(address)
    try:
        task = ray.remote(num_cpus=1, max_retries=2)(read_whole_file)
        window = max(2, 2 * cluster_shape()[0])
        todo = iter(paths)
        flight = deque(task.remote(p) for p in itertools.islice(todo, window))
        while flight:
            with ray_errors():
                result = ray.get(flight.popleft())
            following = next(todo, None)
            if following is not None:
                flight.append(task.remote(following))
            yield result
    finally:
        if started:
            ray.shutdown()


class EmbedChunks:
    """A Ray Data actor: embeds the chunks it is handed and writes each one as the build's checkpoint."""

    def __init__(self, settings: dict[str, Any], meta: str, threads: int) -> None:
        from litmol.settings import RetrievalSettings

        from . import embed
        from .store import MetadataStore

        embed.set_threads(threads)  # the CPUs Ray gave this actor, not every core of the node
        self.embedder = embed.embedder_from_settings(RetrievalSettings(**settings))
        self.store = MetadataStore(Path(meta), readonly=True)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        seconds = []
        for start, end, path in zip(batch["start"], batch["end"], batch["path"], strict=True):
            texts = [t for _, t in self.store.texts(int(start), int(end))]
            t = time.perf_counter()
            vectors = self.embedder.encode(texts)
            seconds.append(time.perf_counter() - t)
            target = Path(str(path))
            tmp = target.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, vectors)
            os.replace(tmp, target)
        return {"start": batch["start"], "rows": batch["end"] - batch["start"], "seconds": np.array(seconds)}


@ray_errors()
def embed_chunks_on_ray(store_path: Path, total: int, chunk_rows: int, work: Path, settings: Any,
                        address: str | None = "local", workers: int = 0, progress: bool = True) -> dict[str, Any]:
    """Write every missing embedding chunk of the build (rows [0, total)) with Ray; returns what it did:
    {chunks, reused, workers, encode_s (summed over actors), wall_s}."""
    import ray

    from .index import chunk_path
    from .store import MetadataStore

    work.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(store_path, readonly=True)
    todo, reused = [], 0
    for start in range(0, total, chunk_rows):
        end = min(start + chunk_rows, total)
        path = chunk_path(work, start, [t for _, t in store.texts(start, end)])
        if path.is_file():
            reused += 1
        else:
            todo.append({"start": start, "end": end, "path": str(path)})
    store.close()
    report = {"chunks": len(todo), "reused": reused, "workers": 0, "encode_s": 0.0, "wall_s": 0.0}
    if not todo:
        return report
    t0 = time.perf_counter()
    started = ray_init(address)  # a local cluster gets every core; `workers` sizes the actor pool on it
    try:
        return _run(todo, report, t0, store_path, settings, workers, progress)
    finally:
        if started:
            ray.shutdown()


def _run(todo: list[dict[str, Any]], report: dict[str, Any], t0: float, store_path: Path, settings: Any,
         workers: int, progress: bool) -> dict[str, Any]:
    import ray

    workers, cpus, per_actor, per_gpu = actor_shares(workers, len(todo))
    gpus = per_gpu if settings.embed_backend == "sentence-transformers" else 0  # the ONNX int8 model is CPU-only
    report["workers"] = workers
    dataset = ray.data.from_items(todo, override_num_blocks=len(todo))
    results = dataset.map_batches(
        EmbedChunks, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus,
        num_gpus=gpus,
        fn_constructor_kwargs={"settings": settings.model_dump(mode="json"), "meta": str(store_path),
                               "threads": per_actor})
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(c["end"] - c["start"] for c in todo), desc=f"embedding on Ray ({workers} workers)",
                   unit="abstract", smoothing=0.05)
    for row in results.iter_rows():
        report["encode_s"] += float(row["seconds"])
        if bar:
            bar.update(int(row["rows"]))
    if bar:
        bar.close()
    report["wall_s"] = round(time.perf_counter() - t0, 2)
    report["encode_s"] = round(report["encode_s"], 2)
    return report
