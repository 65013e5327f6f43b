"""Read PubMed/MEDLINE XML(.gz), JSONL and CSV into deduplicated `Record`s, counting what was skipped."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CorpusError
from .records import MeshHeading, Record, mesh_from_json, parse_mesh_string

logger = logging.getLogger(__name__)

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_FORMATS = {".xml": "pubmed", ".gz": "pubmed", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass(slots=True)
class IngestReport:
    """Counts of what was read, kept and skipped (with reasons) across all files."""

    read: int = 0
    kept: int = 0
    replaced: int = 0
    deleted: int = 0
    skipped: Counter = field(default_factory=Counter)
    files: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        if detail:
            logger.debug("skipped (%s): %s", reason, detail)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "kept": self.kept,
            "replaced_by_newer_version": self.replaced,
            "deleted_by_update": self.deleted,
            "skipped": dict(self.skipped),
            "files": self.files,
        }

    def summary(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        return (
            f"read {self.read:,} records from {len(self.files)} file(s); kept {self.kept:,}; "
            f"replaced by newer version {self.replaced:,}; deleted by update {self.deleted:,}; "
            f"skipped: {skipped}"
        )


def detect_format(path: Path) -> str:
    """`pubmed`, `jsonl` or `csv` from the file name; raises CorpusError otherwise."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-2:] in ([".jsonl", ".gz"], [".ndjson", ".gz"]):
        return "jsonl"
    if suffixes[-2:] == [".csv", ".gz"]:
        return "csv"
    fmt = _FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise CorpusError(f"{path}: unknown corpus format (expected .xml, .xml.gz, .jsonl or .csv)")
    return fmt


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def _to_year(value: Any) -> int | None:
    if value is None:
        return None
    match = _YEAR.search(str(value))
    return int(match.group(1)) if match else None


def _split_list(value: str) -> list[str]:
    return [item.partition(":")[2] or item for item in (v.strip() for v in value.split(";")) if item]


def _record_from_parsed(art: dict[str, Any], source: str) -> Record:
    return Record(
        pmid=str(art.get("pmid") or "").strip(),
        title=(art.get("title") or "").strip(),
        abstract=(art.get("abstract") or "").strip(),
        year=_to_year(art.get("pubdate")),
        journal=(art.get("journal") or "").strip(),
        mesh=parse_mesh_string(art.get("mesh_terms") or ""),
        publication_types=_split_list(art.get("publication_types") or ""),
        source=source,
    )


def read_pubmed_xml(path: Path, report: IngestReport) -> Iterator[Record | tuple[str, str]]:
    """Yield records of a MEDLINE/PubMed XML(.gz) file, and ("delete", pmid) for DeleteCitation.

    Parsing is incremental (pubmed_parser's per-article parser over lxml iterparse), so a
    truncated or corrupt file still gives every record before the damage; the damage is
    counted as a skip reason and logged.
    """
    from lxml import etree
    from pubmed_parser.medline_parser import parse_article_info

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            for _, elem in etree.iterparse(fh, events=("end",), tag=("PubmedArticle", "DeleteCitation")):
                if elem.tag == "DeleteCitation":
                    for pmid in elem.iterfind("PMID"):
                        yield ("delete", (pmid.text or "").strip())
                    elem.clear()
                    continue
                report.read += 1
                try:
                    art = parse_article_info(elem, False, False, False, False, parse_subs=True)
                    yield _record_from_parsed(art, path.name)
                except Exception as exc:  # one bad article must not lose the file
                    report.skip("unparsable article", f"{path.name}: {exc}")
                finally:
                    elem.clear()
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        report.skip("file damaged (records after the damage lost)", f"{path}: {exc}")
        logger.warning("%s is damaged after %d records: %s", path.name, report.files.get(path.name, 0), exc)


def _record_from_mapping(row: dict[str, Any], source: str) -> Record:
    mesh = row.get("mesh") if "mesh" in row else row.get("mesh_terms")
    pubtypes = row.get("publication_types") or []
    if isinstance(pubtypes, str):
        pubtypes = _split_list(pubtypes)
    return Record(
        pmid=str(row.get("pmid") or "").strip(),
        title=str(row.get("title") or "").strip(),
        abstract=str(row.get("abstract") or "").strip(),
        year=_to_year(row.get("year") or row.get("pubdate")),
        journal=str(row.get("journal") or "").strip(),
        mesh=mesh_from_json(mesh),
        publication_types=[str(p) for p in pubtypes],
        source=source,
    )


def read_jsonl(path: Path, report: IngestReport) -> Iterator[Record]:
    """Yield records of a JSONL file (`{pmid, title, abstract, year, journal, mesh?, ...}` per line)."""
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            report.read += 1
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("line is not a JSON object")
                yield _record_from_mapping(row, path.name)
            except (ValueError, TypeError) as exc:
                report.skip("malformed JSON line", f"{path.name}:{lineno}: {exc}")


def read_csv(path: Path, report: IngestReport) -> Iterator[Record]:
    """Yield records of a CSV file with a header row containing at least `pmid` and `title`."""
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        header = {h.strip().lower() for h in reader.fieldnames or []}
        if not {"pmid", "title"} <= header:
            raise CorpusError(f"{path}: CSV needs columns pmid and title (found: {sorted(header)})")
        for row in reader:
            report.read += 1
            try:
                yield _record_from_mapping({k.strip().lower(): v for k, v in row.items() if k}, path.name)
            except (ValueError, TypeError, AttributeError) as exc:
                report.skip("malformed CSV row", f"{path.name}:{reader.line_num}: {exc}")


_READERS = {"pubmed": read_pubmed_xml, "jsonl": read_jsonl, "csv": read_csv}


def iter_file(path: Path, report: IngestReport) -> Iterator[Record | tuple[str, str]]:
    """Records of one corpus file, whatever its format."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    before = report.read
    yield from _READERS[detect_format(path)](path, report)
    report.files[path.name] = report.read - before


def _read_whole_file(path: Path) -> tuple[list[Record | tuple[str, str]], IngestReport]:
    report = IngestReport()
    return list(iter_file(path, report)), report


def _read_files(paths: list[Path], workers: int) -> Iterator[tuple[list, IngestReport]]:
    """Parsed files in input order; several files are parsed in parallel processes."""
    if workers <= 1 or len(paths) <= 1:
        yield from map(_read_whole_file, paths)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(paths))) as pool:
        yield from pool.map(_read_whole_file, paths)


def collect_records(
    paths: Iterable[Path],
    keep_title_only: bool = False,
    report: IngestReport | None = None,
    workers: int | None = None,
) -> tuple[list[Record], IngestReport]:
    """Read files in order and deduplicate by PMID: a later version of a citation replaces an
    earlier one, a DeleteCitation removes it. Records without PMID or title, or without an
    abstract (unless keep_title_only), are skipped and counted. Files are parsed in up to
    `workers` processes (default: one per core)."""
    report = report or IngestReport()
    by_pmid: dict[str, Record] = {}
    paths = [Path(p) for p in paths]
    for path in paths:
        detect_format(path)  # fail fast on an unknown format before reading anything
        if not path.is_file():
            raise CorpusError(f"{path}: no such file")
    from tqdm import tqdm

    parsed = _read_files(paths, workers or os.cpu_count() or 1)
    for items, sub in tqdm(parsed, total=len(paths), desc="reading corpus files", unit="file",
                           disable=len(paths) < 2 or None):
        report.read += sub.read
        report.skipped.update(sub.skipped)
        report.files.update(sub.files)
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


__all__ = ["IngestReport", "MeshHeading", "collect_records", "detect_format", "iter_file"]
