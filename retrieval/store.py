"""SQLite metadata for an index: one row per article (row = FAISS id) and an FTS5 table for BM25."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .records import Record

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY,
    pmid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    year INTEGER,
    journal TEXT,
    mesh TEXT,
    publication_types TEXT,
    source TEXT
);
CREATE INDEX IF NOT EXISTS docs_year ON docs(year);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, abstract, content='docs', content_rowid='row', tokenize='porter unicode61'
);
"""

# Words that carry no topic in a search query; FTS5 would otherwise rank on them.
STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "same", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "paper", "papers", "article", "articles", "study", "studies", "evidence", "known", "find", "show", "tell", "effect", "effects", "role", "use", "used", "using", "versus", "vs", "patients"]
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """Turn free text into a safe FTS5 OR-query of quoted terms; None if nothing is searchable."""
    terms, seen = [], set()
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS or (len(token) < 2 and not token.isdigit()) or token in seen:
            continue
        seen.add(token)
        terms.append(f'"{token}"')
    return " OR ".join(terms) if terms else None


class MetadataStore:
    """Articles and their lexical index in one SQLite file."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.conn = sqlite3.connect(self.path, check_same_thread=False)
            self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def next_row(self) -> int:
        value = self.conn.execute("SELECT MAX(row) FROM docs").fetchone()[0]
        return 0 if value is None else int(value) + 1

    def add_records(self, records: Iterable[Record], start_row: int | None = None) -> int:
        """Append records with consecutive row numbers; returns how many were added."""
        row = self.next_row() if start_row is None else start_row
        n = 0
        with self.conn:
            for rec in records:
                self.conn.execute(
                    "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?)",
                    (row, rec.pmid, rec.title, rec.abstract, rec.year, rec.journal,
                     json.dumps([_mesh_dict(m) for m in rec.mesh]),
                     json.dumps(rec.publication_types), rec.source),
                )
                self.conn.execute(
                    "INSERT INTO docs_fts(rowid, title, abstract) VALUES (?,?,?)",
                    (row, rec.title, rec.abstract),
                )
                row += 1
                n += 1
        return n

    def replace_record(self, row: int, rec: Record) -> None:
        """Overwrite the article at `row` (a newer version of the same PMID)."""
        old = self.conn.execute("SELECT title, abstract FROM docs WHERE row=?", (row,)).fetchone()
        with self.conn:
            if old is not None:
                self.conn.execute(
                    "INSERT INTO docs_fts(docs_fts, rowid, title, abstract) VALUES('delete',?,?,?)",
                    (row, old[0], old[1]),
                )
            self.conn.execute(
                "UPDATE docs SET title=?, abstract=?, year=?, journal=?, mesh=?, publication_types=?,"
                " source=? WHERE row=?",
                (rec.title, rec.abstract, rec.year, rec.journal,
                 json.dumps([_mesh_dict(m) for m in rec.mesh]), json.dumps(rec.publication_types),
                 rec.source, row),
            )
            self.conn.execute(
                "INSERT INTO docs_fts(rowid, title, abstract) VALUES (?,?,?)", (row, rec.title, rec.abstract)
            )

    def rows_by_pmid(self, pmids: Iterable[str]) -> dict[str, int]:
        pmids = list(pmids)
        out: dict[str, int] = {}
        for i in range(0, len(pmids), 500):
            part = pmids[i : i + 500]
            marks = ",".join("?" * len(part))
            for pmid, row in self.conn.execute(f"SELECT pmid, row FROM docs WHERE pmid IN ({marks})", part):
                out[pmid] = int(row)
        return out

    def texts(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, str]]:
        """(row, title + abstract) in row order, the text that gets embedded."""
        stop = self.next_row() if stop is None else stop
        for row, title, abstract in self.conn.execute(
            "SELECT row, title, abstract FROM docs WHERE row>=? AND row<? ORDER BY row", (start, stop)
        ):
            yield int(row), Record(pmid="", title=title, abstract=abstract).text

    def lexical(self, query: str, k: int, since: int | None = None, until: int | None = None) -> list[tuple[int, float]]:
        """BM25 over title (weight 2) and abstract; returns (row, score) best first, score > 0."""
        match = fts_query(query)
        if match is None:
            return []
        sql = "SELECT docs_fts.rowid, -bm25(docs_fts, 2.0, 1.0) AS s FROM docs_fts"
        args: list[Any] = [match]
        where = " WHERE docs_fts MATCH ?"
        if since is not None or until is not None:
            sql += " JOIN docs ON docs.row = docs_fts.rowid"
            if since is not None:
                where += " AND docs.year >= ?"
                args.append(since)
            if until is not None:
                where += " AND docs.year <= ?"
                args.append(until)
        rows = self.conn.execute(sql + where + " ORDER BY bm25(docs_fts, 2.0, 1.0) LIMIT ?", (*args, k))
        return [(int(r), float(s)) for r, s in rows]

    def rows_in_years(self, since: int | None, until: int | None) -> list[int]:
        lo = since if since is not None else -1
        hi = until if until is not None else 10**6
        return [int(r) for (r,) in self.conn.execute("SELECT row FROM docs WHERE year BETWEEN ? AND ?", (lo, hi))]

    def fetch(self, rows: Iterable[int]) -> dict[int, dict[str, Any]]:
        rows = list(rows)
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        cur = self.conn.execute(
            f"SELECT row, pmid, title, abstract, year, journal FROM docs WHERE row IN ({marks})", rows
        )
        return {
            int(r): {"pmid": p, "title": t, "year": y, "text": a, "journal": j}
            for r, p, t, a, y, j in cur
        }

    def article(self, pmid: str) -> dict[str, Any] | None:
        cur = self.conn.execute(
            "SELECT row, pmid, title, abstract, year, journal, mesh, publication_types, source "
            "FROM docs WHERE pmid=?",
            (str(pmid).strip(),),
        ).fetchone()
        if cur is None:
            return None
        row, pmid, title, abstract, year, journal, mesh, pubtypes, source = cur
        return {
            "pmid": pmid, "title": title, "abstract": abstract, "year": year, "journal": journal,
            "mesh": json.loads(mesh or "[]"), "publication_types": json.loads(pubtypes or "[]"),
            "source": source, "row": int(row),
        }

    def year_range(self) -> tuple[int | None, int | None]:
        lo, hi = self.conn.execute("SELECT MIN(year), MAX(year) FROM docs").fetchone()
        return lo, hi

    def optimize(self) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO docs_fts(docs_fts) VALUES('optimize')")


def _mesh_dict(m) -> dict[str, Any]:
    return {"ui": m.ui, "name": m.name, "qualifiers": list(m.qualifiers), "major": m.major}
