"""Literature retrieval: ingest PubMed corpora, embed, index (FAISS + SQLite FTS5), search.

Public API (heavy modules load on first use, so `import retrieval` stays fast):
    build_index, add_to_index         build or extend the configured index
    open_index() -> PassageIndex      load it; .search(), .get_article(), .stats()
    collect_records                   read XML(.gz)/JSONL/CSV files into Records
    RetrievalSettings, Passage, and the named errors
"""

from __future__ import annotations

from litmol.lazy import lazy_getattr
from litmol.settings import RetrievalSettings

from .errors import (
    ArticleNotFoundError,
    BadQueryError,
    CorpusError,
    CorruptIndexError,
    DamagedCorpusError,
    EmptyIndexError,
    IndexMismatchError,
    RetrievalError,
)
from .search import MAX_RESULTS, MODES, Passage

_LAZY = {
    "build_index": "build", "add_to_index": "build", "BuildLockedError": "build",
    "PassageIndex": "index", "collect_records": "ingest", "IngestReport": "ingest",
    "Record": "records", "default_corpus_paths": "corpus", "load_embedder": "embed",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


def open_index(settings: RetrievalSettings | None = None, verify: bool = True):
    """Load the configured index (see PassageIndex.open)."""
    from .index import PassageIndex

    return PassageIndex.open(settings, verify=verify)


__all__ = [
    "MAX_RESULTS", "MODES", "ArticleNotFoundError", "BadQueryError", "CorpusError", "CorruptIndexError",
    "DamagedCorpusError", "EmptyIndexError",
    "IndexMismatchError", "Passage", "RetrievalError", "RetrievalSettings", "open_index", *_LAZY,
]
