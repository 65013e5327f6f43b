"""The link table on disk and how a build publishes it whole: readers see the old table or the new one,
never a half-built one.

Under `LITMOL_HOME/links/`, for the index `<name>`:
    <name>.sqlite                  the published table, meta `complete` set; what readers open
    <name>.building.sqlite         the build in progress: a copy of the published table plus the new
                                   articles, or every article from scratch; committed every
                                   `checkpoint_rows` articles, and resumed by the next build while its
                                   code, its index build and its base are unchanged (else started again)
    <name>.lock                    one writer per table (flock)
    <name>.vocabulary-<code>.json  the vocabulary the table was tagged with (`vocabulary_cache`)
Publishing marks the building table complete, syncs it and renames it over the table (`os.replace`,
atomic); a reader that had the old table open keeps reading it until it opens the table again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from pathlib import Path

from litmol.settings import RetrievalSettings

from .errors import LinksBuildLockedError

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (pmid TEXT PRIMARY KEY, year INTEGER);
CREATE TABLE IF NOT EXISTS pairs (
    pmid TEXT NOT NULL, drug TEXT NOT NULL, disease TEXT NOT NULL,
    p_treats REAL NOT NULL, p_causes REAL NOT NULL, relation TEXT NOT NULL, evidence TEXT
);
CREATE INDEX IF NOT EXISTS pairs_drug ON pairs(drug, relation);
CREATE INDEX IF NOT EXISTS pairs_disease ON pairs(disease, relation);
CREATE TABLE IF NOT EXISTS mentions (pmid TEXT NOT NULL, concept TEXT NOT NULL, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_concept ON mentions(concept);
CREATE INDEX IF NOT EXISTS mentions_pmid ON mentions(pmid);
CREATE TABLE IF NOT EXISTS concepts (id TEXT PRIMARY KEY, name TEXT, type TEXT);
CREATE TABLE IF NOT EXISTS indexed (
    pmid TEXT NOT NULL, drug TEXT NOT NULL, other TEXT NOT NULL, relation TEXT NOT NULL, headings TEXT
);
CREATE INDEX IF NOT EXISTS indexed_drug ON indexed(drug, relation);
CREATE INDEX IF NOT EXISTS indexed_other ON indexed(other, relation);
CREATE TABLE IF NOT EXISTS names (form TEXT NOT NULL, id TEXT NOT NULL, preferred INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS names_form ON names(form);
CREATE TABLE IF NOT EXISTS trees (id TEXT NOT NULL, tree TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trees_id ON trees(id);
CREATE INDEX IF NOT EXISTS trees_tree ON trees(tree);
CREATE TABLE IF NOT EXISTS pending (pmid TEXT PRIMARY KEY);
"""
# meta keys: the code and sources the table was mined with; the index build it read; what a build started
# from (SCRATCH, or the `complete` id of the table it copied); set last, when the table is whole
FINGERPRINT, INDEX_BUILD, BASE, COMPLETE = "fingerprint", "index_build", "base", "complete"
SCRATCH = "scratch"
CONTENT_TABLES = ("articles", "pairs", "mentions", "concepts", "indexed", "names", "trees")
# the files the table's code is part of: a new rule or vocabulary re-mines every article
_CODE_FILES = ("tagger.py", "vocab.py", "relations.py", "indexing.py", "mesh.py", "table.py", "build.py", "store.py")


def code_fingerprint() -> str:
    """A hash of the vocabulary, synonyms, relation model, drug lexicon and the tagging and scoring code."""
    from litmol.predictors.chem.lexicon import LEXICON_FILE

    from .relations import MODEL_FILE
    from .vocab import SYNONYMS_FILE, VOCAB_FILE

    h = hashlib.sha256()
    here = Path(__file__).parent
    for path in (VOCAB_FILE, SYNONYMS_FILE, MODEL_FILE, LEXICON_FILE, *(here / f for f in _CODE_FILES)):
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()[:16]


def links_path(settings: RetrievalSettings) -> Path:
    """Where the published link table of the settings' index lives."""
    return settings.home / "links" / f"{settings.index_name}.sqlite"


def staging_path(table: Path) -> Path:
    """Where a build of `table` writes until it publishes."""
    return table.with_name(f"{table.stem}.building.sqlite")


def vocabulary_cache(table: Path, code: str | None = None) -> Path:
    """Where a build leaves the vocabulary it tagged with (code fingerprint `code`, default: this code's), so
    that opening the table does not rebuild it from the thesaurus (~3 s)."""
    return table.parent / f"{table.stem}.vocabulary-{code or code_fingerprint()}.json"


def build_lock(table: Path) -> contextlib.AbstractContextManager[None]:
    """One build of a table at a time: a second one fails at once with LinksBuildLockedError."""
    from litmol.retrieval.build import exclusive_lock

    return exclusive_lock(table.with_name(f"{table.stem}.lock"), lambda pid: LinksBuildLockedError(
        f"another `litmol links build` of {table.name} is running (pid {pid})"))


def read_meta(path: Path, writable: bool = False) -> dict[str, str]:
    """The meta rows of a table file; {} when it is missing or not a table. `writable` (the building file,
    under the build lock) lets SQLite roll back what a killed build left uncommitted."""
    if not path.is_file():
        return {}
    uri = f"file:{path}" + ("" if writable else "?mode=ro")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return {}


def content_digest(path: Path) -> str:
    """A hash of what a table holds — the rows of every content table in any order, the code fingerprint and
    the thresholds — but not how it was built (base, index build, complete mark): a killed and resumed
    build has the digest of a clean build."""
    h = hashlib.sha256()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for name in CONTENT_TABLES:
            h.update(f"\x1d{name}".encode())
            for row in sorted(repr(r) for r in conn.execute(f"SELECT * FROM {name}")):
                h.update(row.encode() + b"\x1e")
        for key in (FINGERPRINT, "thresholds"):
            value = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            h.update(f"\x1d{key}={value[0] if value else None}".encode())
    finally:
        conn.close()
    return h.hexdigest()


def remove(path: Path) -> None:
    """A table file and the journals SQLite may have left next to it."""
    for p in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        p.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _set_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())


def new_staging(table: Path, meta: dict[str, str], copy: bool) -> sqlite3.Connection:
    """A building file for `table` with `meta`: empty, or (`copy`) a snapshot of the published table without
    its `complete` mark. Written under a temporary name and renamed, so that a build killed here leaves no
    building file that looks resumable."""
    staging = staging_path(table)
    tmp = staging.with_suffix(".new")
    remove(staging)
    remove(tmp)
    conn = sqlite3.connect(tmp)
    if copy:
        src = sqlite3.connect(f"file:{table}?mode=ro", uri=True)
        try:
            src.backup(conn)
        finally:
            src.close()
        conn.execute("DELETE FROM meta WHERE key = ?", (COMPLETE,))
    conn.executescript(SCHEMA)
    _set_meta(conn, meta)
    conn.commit()
    conn.close()
    os.replace(tmp, staging)
    return sqlite3.connect(staging)


def publish(conn: sqlite3.Connection, table: Path) -> str:
    """Mark the building file whole, sync it and rename it over `table`; returns its `complete` id."""
    staging = staging_path(table)
    mark = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**9:09d}"
    conn.execute("DROP TABLE IF EXISTS pending")
    _set_meta(conn, {COMPLETE: mark})
    conn.commit()
    conn.close()
    _fsync(staging)
    for stale in ("-journal", "-wal", "-shm"):  # left by an older build killed while writing in place
        table.with_name(table.name + stale).unlink(missing_ok=True)
    os.replace(staging, table)
    _fsync(table.parent)
    logger.info("published %s (%s)", table, mark)
    return mark


def committed_articles(staging: Path) -> int:
    """Articles committed so far in a building table (what a resumed build keeps); -1 while it is absent or
    locked by its writer."""
    if not staging.is_file():
        return -1
    try:
        conn = sqlite3.connect(f"file:{staging}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return -1
