"""Named errors of the predictors package."""

from __future__ import annotations

from collections.abc import Iterable


class PredictorError(Exception):
    """Base class for predictor errors."""


class InvalidMoleculeError(PredictorError, ValueError):
    """An input cannot be turned into a molecule; `reason` is one of REASONS."""

    REASONS = ("empty", "unparsable", "valence", "too large", "unknown name", "no structure", "non-ascii",
               "ring closure", "isotope")

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnknownPredictorError(PredictorError, LookupError):
    """No predictor is registered under this name."""


def quoted_names(names: list[str], limit: int = 5) -> str:
    """Names a caller sent, for an error message: each cut to 60 characters (a 1 MB name is not echoed
    back), at most `limit` of them."""
    from .chem.smiles_checks import preview

    shown = ", ".join(preview(str(n)) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class TrainingDataError(PredictorError, ValueError):
    """A training table or its options are unusable (missing column, too few rows, bad labels)."""


def known_names_hint(unknown: list[str], known: Iterable[str]) -> str:
    """What to say after unknown names: close spellings of the first one, and where the known names are listed
    (not all of them: admet-ai alone has 80)."""
    import difflib

    known = sorted(known)
    close = difflib.get_close_matches(str(unknown[0]), known, n=3, cutoff=0.6) if len(str(unknown[0])) <= 60 else []
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return f"{hint}`litmol predictors list` names all {len(known)}"
