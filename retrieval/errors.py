"""Named errors of the retrieval package. The CLI maps them to exit codes, the agent to text."""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class for retrieval errors."""


class CorpusError(RetrievalError, ValueError):
    """A corpus file or record cannot be used (missing file, unknown format, bad columns)."""


class DamagedCorpusError(CorpusError):
    """A corpus file could not be read to its end (truncated, not gzip, binary); nothing was published."""


class EmptyIndexError(RetrievalError, LookupError):
    """No index has been built (or published) under this name yet."""


class IndexMismatchError(RetrievalError, ValueError):
    """The index was built with a different embedder than the one requested."""


class CorruptIndexError(RetrievalError, RuntimeError):
    """An index file is missing, truncated or fails its checksum."""


class ArticleNotFoundError(RetrievalError, LookupError):
    """No article with this PMID is in the index."""


class BadQueryError(RetrievalError, ValueError):
    """The query is empty or its options are inconsistent."""
