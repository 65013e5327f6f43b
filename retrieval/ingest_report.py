"""What an ingest read, kept and skipped: counts, skip reasons with file:line examples, and the
files that were damaged (every record before the damage is kept)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_EXAMPLES = 5  # file:line examples kept per skip reason
DAMAGED = "file damaged (records after the damage lost)"


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


__all__ = ["DAMAGED", "FileDamage", "IngestReport"]
