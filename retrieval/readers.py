"""Corpus file readers: PubMed/MEDLINE XML(.gz), JSONL and CSV into `Record`s, one file at a time.

Each reader counts what it read and skipped in an `IngestReport`; a file that breaks part-way
(truncated gzip, bad XML, binary bytes) ends as damage in the report, keeping every record
read before it.
"""

from __future__ import annotations

import csv
import functools
import gzip
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .errors import CorpusError
from .ingest_report import IngestReport
from .records import Record, mesh_from_json, parse_mesh_string

_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
_PMID = re.compile(r"\d{1,9}")
_FORMATS = {".xml": "pubmed", ".gz": "pubmed", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MAX_LINE_BYTES = 1 << 20  # one JSONL record / CSV line; real abstracts are far below (PubMed: < 10 kB)
BAD_PMID = "bad PMID (not 1-9 digits)"

Item = Record | tuple[str, str]  # a record, or ("delete", pmid) from a DeleteCitation
Reader = Callable[[Path, IngestReport], Iterator[Item]]


class _DamageAt(Exception):
    """Raised inside a reader: the file cannot be read past this line."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _ends_at_damage(reader: Reader) -> Reader:
    """Wrap a reader so that damage (a `_DamageAt`, an unreadable or truncated stream) ends the
    file as an entry in `report.damaged` with the records read before it, instead of an error."""

    @functools.wraps(reader)
    def read(path: Path, report: IngestReport) -> Iterator[Item]:
        before = report.read
        try:
            yield from reader(path, report)
        except _DamageAt as exc:
            report.damage(path, report.read - before, exc.reason, exc.line)
        except (OSError, EOFError) as exc:  # not gzip, truncated gzip stream, unreadable
            report.damage(path, report.read - before, str(exc) or type(exc).__name__)

    return read


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


@_ends_at_damage
def read_pubmed_xml(path: Path, report: IngestReport) -> Iterator[Item]:
    """Yield records of a MEDLINE/PubMed XML(.gz) file, and ("delete", pmid) for DeleteCitation.

    Parsing is incremental (pubmed_parser's per-article parser over lxml iterparse), so a
    truncated or corrupt file (XML or gzip stream) still gives every record before the damage;
    the damage goes into `report.damaged` with the file and the records read before it.
    """
    from lxml import etree
    from pubmed_parser.medline_parser import parse_article_info

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
        raise _DamageAt(exc.lineno or None, str(exc)) from None


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


@_ends_at_damage
def read_jsonl(path: Path, report: IngestReport) -> Iterator[Record]:
    """Yield records of a JSONL file (`{pmid, title, abstract, year, journal, mesh?, ...}` per line).

    A malformed, oversized or bad-PMID line is a counted skip (file:line kept as an example);
    bytes that are not UTF-8 (a binary file) or a broken gzip stream end the file as damage.
    """
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


def _text_lines(fh: IO[bytes]) -> Iterator[str]:
    for lineno, raw, size in _lines(fh):
        if size > MAX_LINE_BYTES:
            raise _DamageAt(lineno, f"line of {size:,} bytes (at most {MAX_LINE_BYTES:,}; an unclosed quote?)")
        yield _decode(raw, lineno)


@_ends_at_damage
def read_csv(path: Path, report: IngestReport) -> Iterator[Record]:
    """Yield records of a CSV file with a header row containing at least `pmid` and `title`.

    A bad row or PMID is a counted skip (file:line kept); bytes that are not UTF-8, a field over
    the csv module's limit (usually an unclosed quote) or a broken gzip stream end the file as damage.
    """
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


READERS = {"pubmed": read_pubmed_xml, "jsonl": read_jsonl, "csv": read_csv}


def iter_file(path: Path, report: IngestReport) -> Iterator[Item]:
    """Records of one corpus file, whatever its format."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    before = report.read
    yield from READERS[detect_format(path)](path, report)
    report.files[path.name] = report.read - before


__all__ = ["BAD_PMID", "MAX_LINE_BYTES", "READERS", "Item", "detect_format", "iter_file", "read_csv",
           "read_jsonl", "read_pubmed_xml"]
