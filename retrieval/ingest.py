"""Read corpus files (PubMed/MEDLINE XML(.gz), JSONL, CSV) into deduplicated `Record`s, counting
what was skipped. The format readers are in `readers`, the counts in `ingest_report`."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import CorpusError
from .ingest_report import FileDamage, IngestReport
from .readers import Item, detect_format, iter_file
from .records import MeshHeading, Record

logger = logging.getLogger(__name__)


def read_whole_file(path: Path) -> tuple[list[Item], IngestReport]:
    report = IngestReport()
    return list(iter_file(path, report)), report


def _read_files(paths: list[Path], workers: int, ray: str | None = None) -> Iterator[tuple[list[Item], IngestReport]]:
    """Parsed files in input order; several files are parsed in parallel processes, or as Ray tasks."""
    if ray and len(paths) > 1:
        from .distributed import read_files_on_ray

        yield from read_files_on_ray(paths, ray)
        return
    if workers <= 1 or len(paths) <= 1:
        yield from map(read_whole_file, paths)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(paths))) as pool:
        yield from pool.map(read_whole_file, paths)


def collect_records(
    paths: Iterable[Path],
    keep_title_only: bool = False,
    report: IngestReport | None = None,
    workers: int | None = None,
    ray: str | None = None,
) -> tuple[list[Record], IngestReport]:
    """Read files in order and deduplicate by PMID: a later version of a citation replaces an
    earlier one, a DeleteCitation removes it. Records without PMID or title, or without an
    abstract (unless keep_title_only), are skipped and counted. Files are parsed in up to
    `workers` processes (default: one per core), or as tasks on the Ray cluster at `ray`."""
    report = report or IngestReport()
    by_pmid: dict[str, Record] = {}
    paths = [Path(p) for p in paths]
    for path in paths:
        detect_format(path)  # fail fast on an unknown format before reading anything
        if not path.is_file():
            raise CorpusError(f"{path}: no such file")
    from tqdm import tqdm

    parsed = _read_files(paths, workers or os.cpu_count() or 1, ray)
    for items, sub in tqdm(parsed, total=len(paths), desc="reading corpus files", unit="file",
                           disable=len(paths) < 2 or None):
        report.merge(sub)
        for item in items:
            if isinstance(item, tuple):
                if by_pmid.pop(item[1], None) is not None:
                    report.deleted += 1
                continue
            if not item.pmid:
                report.skip("no PMID")
            elif not item.title and not item.abstract:
                report.skip("no title or abstract")
            elif not item.abstract and not keep_title_only:
                report.skip("no abstract")
            else:
                if item.pmid in by_pmid:
                    report.replaced += 1
                    del by_pmid[item.pmid]  # re-insert so order follows the newest version
                by_pmid[item.pmid] = item
    records = list(by_pmid.values())
    report.kept = len(records)
    logger.info(report.summary())
    return records, report


__all__ = ["FileDamage", "IngestReport", "MeshHeading", "collect_records", "detect_format", "iter_file"]
