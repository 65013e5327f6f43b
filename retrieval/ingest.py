"""Read PubMed/MEDLINE XML(.gz), JSONL and CSV into deduplicated `Record`s, counting what was skipped."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import CorpusError
from .records import MeshHeading, Record, mesh_from_json, parse_mesh_string

logger = logging.getLogger(__name__)

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_PMID = re.compile(r"\d{1,9}")
_FORMATS = {".xml": "pubmed", ".gz": "pubmed", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MAX_LINE_BYTES = 1 << 20  # one JSONL record / CSV line; real abstracts are far below (PubMed: < 10 kB)
MAX_EXAMPLES = 5  # file:line examples kept per skip reason
DAMAGED = "file damaged (records after the damage lost)"
BAD_PMID = "bad PMID (not 1-9 digits)"


@dataclass(slots=True)
class FileDamage:
    """A file that could not be read to its end: where it broke and how many records came before."""

    path: str
    records_read: int
    reason: str
    line: int | None = None

    def describe(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return f"{self.path}: after {self.records_read:,} records{where}: {self.reason}"


class _DamageAt(Exception):
    """Raised inside a reader: the file cannot be read past this line."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


@dataclass(slots=True)
class IngestReport:
    """Counts of what was read, kept and skipped (with reasons and file:line examples) across all
    files, and the files that were damaged (every record before the damage is kept)."""

    read: int = 0
    kept: int = 0
    replaced: int = 0
    deleted: int = 0
    skipped: Counter = field(default_factory=Counter)
    files: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    damaged: list[FileDamage] = field(default_factory=list)

    def skip(self, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        if detail:
            logger.debug("skipped (%s): %s", reason, detail)
            kept = self.examples.setdefault(reason, [])
            if len(kept) < MAX_EXAMPLES:
                kept.append(detail)

    def damage(self, path: Path, records_read: int, reason: str, line: int | None = None) -> None:
        self.damaged.append(FileDamage(str(path), records_read, reason, line))
        self.skip(DAMAGED)
        logger.info("damaged: %s", self.damaged[-1].describe())  # callers decide: refuse or report

    def merge(self, other: IngestReport) -> None:
        """Add another file's counts, examples and damage to this report."""
        self.read += other.read
        self.skipped.update(other.skipped)
        self.files.update(other.files)
        self.damaged.extend(other.damaged)
        for reason, details in other.examples.items():
            kept = self.examples.setdefault(reason, [])
            kept.extend(details[: MAX_EXAMPLES - len(kept)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "kept": self.kept,
            "replaced_by_newer_version": self.replaced,
            "deleted_by_update": self.deleted,
            "skipped": dict(self.skipped),
            "examples": self.examples,
            "damaged": [asdict(d) for d in self.damaged],
            "files": self.files,
        }

    def summary(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common()) or "none"
        damaged = (f"; damaged: {len(self.damaged)} file{'s' if len(self.damaged) > 1 else ''} ("
                   + "; ".join(d.describe() for d in self.damaged) + ")") if self.damaged else ""
        return (
            f"read {self.read:,} records from {len(self.files)} file(s); kept {self.kept:,}; "
            f"replaced by newer version {self.replaced:,}; deleted by update {self.deleted:,}; "
            f"skipped: {skipped}{damaged}"
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


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes, int]]:
    """(line number, bytes, size) per line, never holding more than MAX_LINE_BYTES of one line:
    a longer line comes back as b"" with its full size."""
    for lineno in itertools.count(1):
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        size = len(line)
        if size <= MAX_LINE_BYTES:
            yield lineno, line, size
            continue
        while not line.endswith(b"\n"):
            line = fh.readline(MAX_LINE_BYTES)
            if not line:
                break
            size += len(line)
        yield lineno, b"", size


def _decode(line: bytes, lineno: int) -> str:
    try:
        return line.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise _DamageAt(lineno, f"not UTF-8 text (byte {line[exc.start]:#04x}; a binary file?)") from None


def _checked_pmid(record: Record, report: IngestReport, where: str) -> Record | None:
    """The record, or None (counted, with file:line) when its PMID is not 1-9 digits."""
    if record.pmid and not _PMID.fullmatch(record.pmid):
        report.skip(BAD_PMID, f"{where}: {record.pmid[:40]!r}")
        return None
    return record


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
    truncated or corrupt file (XML or gzip stream) still gives every record before the damage;
    the damage goes into `report.damaged` with the file and the records read before it.
    """
    from lxml import etree
    from pubmed_parser.medline_parser import parse_article_info

    before = report.read
    try:
        with _open_binary(path) as fh:
            for _, elem in etree.iterparse(fh, events=("end",), tag=("PubmedArticle", "DeleteCitation")):
                where = f"{path.name}:{elem.sourceline}"
                if elem.tag == "DeleteCitation":
                    for pmid in elem.iterfind("PMID"):
                        text = (pmid.text or "").strip()
                        if _PMID.fullmatch(text):
                            yield ("delete", text)
                        else:
                            report.skip(BAD_PMID, f"{where}: {text[:40]!r}")
                    elem.clear()
                    continue
                report.read += 1
                try:
                    art = parse_article_info(elem, False, False, False, False, parse_subs=True)
                    record = _checked_pmid(_record_from_parsed(art, path.name), report, where)
                except Exception as exc:  # one bad article must not lose the file
                    report.skip("unparsable article", f"{where}: {exc}")
                    record = None
                finally:
                    elem.clear()
                if record is not None:
                    yield record
    except etree.XMLSyntaxError as exc:
        report.damage(path, report.read - before, str(exc), exc.lineno or None)
    except (OSError, EOFError) as exc:  # not gzip, truncated gzip stream, unreadable
        report.damage(path, report.read - before, str(exc) or type(exc).__name__)


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
    """Yield records of a JSONL file (`{pmid, title, abstract, year, journal, mesh?, ...}` per line).

    A malformed, oversized or bad-PMID line is a counted skip (file:line kept as an example);
    bytes that are not UTF-8 (a binary file) or a broken gzip stream end the file as damage.
    """
    before = report.read
    try:
        with _open_binary(path) as fh:
            for lineno, raw, size in _lines(fh):
                where = f"{path.name}:{lineno}"
                if size > MAX_LINE_BYTES:
                    report.read += 1
                    report.skip("oversized line", f"{where}: {size:,} bytes (at most {MAX_LINE_BYTES:,})")
                    continue
                line = _decode(raw, lineno)
                if not line.strip():
                    continue
                report.read += 1
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("line is not a JSON object")
                    record = _checked_pmid(_record_from_mapping(row, path.name), report, where)
                except (ValueError, TypeError) as exc:
                    report.skip("malformed JSON line", f"{where}: {exc}")
                    continue
                if record is not None:
                    yield record
    except _DamageAt as exc:
        report.damage(path, report.read - before, exc.reason, exc.line)
    except (OSError, EOFError) as exc:
        report.damage(path, report.read - before, str(exc) or type(exc).__name__)


def _text_lines(fh: IO[bytes]) -> Iterator[str]:
    for lineno, raw, size in _lines(fh):
        if size > MAX_LINE_BYTES:
            raise _DamageAt(lineno, f"line of {size:,} bytes (at most {MAX_LINE_BYTES:,}; an unclosed quote?)")
        yield _decode(raw, lineno)


def read_csv(path: Path, report: IngestReport) -> Iterator[Record]:
    """Yield records of a CSV file with a header row containing at least `pmid` and `title`.

    A bad row or PMID is a counted skip (file:line kept); bytes that are not UTF-8, a field over
    the csv module's limit (usually an unclosed quote) or a broken gzip stream end the file as damage.
    """
    before = report.read
    try:
        with _open_binary(path) as fh:
            reader = csv.DictReader(_text_lines(fh))
            try:
                names = reader.fieldnames or []
            except csv.Error as exc:
                raise _DamageAt(1, str(exc)) from None
            header = {h.strip().lower() for h in names}
            if not {"pmid", "title"} <= header:
                raise CorpusError(f"{path}: CSV needs columns pmid and title (found: {sorted(header)})")
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise _DamageAt(start, str(exc)) from None
                report.read += 1
                where = f"{path.name}:{start}"
                try:
                    mapping = {k.strip().lower(): v for k, v in row.items() if k}
                    record = _checked_pmid(_record_from_mapping(mapping, path.name), report, where)
                except (ValueError, TypeError, AttributeError) as exc:
                    report.skip("malformed CSV row", f"{where}: {exc}")
                    continue
                if record is not None:
                    yield record
    except _DamageAt as exc:
        report.damage(path, report.read - before, exc.reason, exc.line)
    except (OSError, EOFError) as exc:
        report.damage(path, report.read - before, str(exc) or type(exc).__name__)


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
