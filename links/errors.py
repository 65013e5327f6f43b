"""Named errors of the links package. The CLI maps them to exit codes (a LookupError or ValueError is
bad usage, 2; a RuntimeError an internal failure, 1), the agent and the app to text."""

from __future__ import annotations

from litmol.predictors.chem.lexicon import MAX_NAME_CHARS
from litmol.retrieval.errors import BadQueryError, EmptyIndexError, RetrievalError

PREVIEW_CHARS = 60  # how much of a refused name an error message quotes


class LinksNotBuiltError(EmptyIndexError):
    """No link table yet for this index."""


class IncompleteLinksError(LinksNotBuiltError):
    """The link table on disk lacks its "complete" marker: an older build was interrupted while writing it
    in place (or wrote it before tables were published whole)."""


class LinksBuildLockedError(RetrievalError, RuntimeError):
    """Another `litmol links build` of the same table is running."""


class NameTooLongError(BadQueryError):
    """A drug, disease or target name longer than any name is refused before any matching."""


def check_name_length(text: str, kind: str = "") -> str:
    """`text` unchanged when it is at most MAX_NAME_CHARS long (the predictors' limit: the longest approved
    drug name is under 100 characters, MeSH headings under 150); otherwise NameTooLongError, whose message
    quotes at most the first PREVIEW_CHARS characters. Costs O(1): call it before normalising or matching."""
    if len(text) <= MAX_NAME_CHARS:
        return text
    raise NameTooLongError(f"{kind + ' ' if kind else ''}name too long ({len(text):,} characters; at most {MAX_NAME_CHARS}): "
                           f"{text[:PREVIEW_CHARS]!r}…")
