"""Corpus records: one PubMed citation with the fields search, links and citations need."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

_DESCRIPTOR_SPLIT = re.compile(r";\s*(?=D\d{6,}:)")
_QUALIFIER_SPLIT = re.compile(r"\s*/\s*(?=Q\d{6,}:)")


@dataclass(slots=True)
class MeshHeading:
    """A MeSH descriptor with its qualifiers (`major` marks a major topic, MEDLINE's `*`)."""

    ui: str
    name: str
    qualifiers: list[str] = field(default_factory=list)
    major: bool = False


@dataclass(slots=True)
class Record:
    """One citation. `year` is None when the date cannot be read."""

    pmid: str
    title: str
    abstract: str
    year: int | None = None
    journal: str = ""
    mesh: list[MeshHeading] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def text(self) -> str:
        """The text that is embedded and lexically indexed: title then abstract."""
        title = self.title.strip()
        if title and not title.endswith((".", "?", "!")):
            title += "."
        return f"{title} {self.abstract.strip()}".strip()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_mesh_string(value: str) -> list[MeshHeading]:
    """Parse pubmed_parser's `mesh_terms` string.

    Example: "D008550:Melatonin / Q000502:physiology*; D000818:Animals" gives two headings;
    a trailing `*` on the descriptor or a qualifier marks a major topic.
    """
    headings: list[MeshHeading] = []
    for chunk in _DESCRIPTOR_SPLIT.split(value.strip()):
        chunk = chunk.strip().rstrip(";")
        if not chunk:
            continue
        parts = _QUALIFIER_SPLIT.split(chunk)
        ui, _, name = parts[0].partition(":")
        major = name.endswith("*")
        qualifiers = []
        for part in parts[1:]:
            major = major or part.endswith("*")
            qualifiers.append(part.partition(":")[2].rstrip("*").strip())
        headings.append(MeshHeading(ui.strip(), name.rstrip("*").strip(), qualifiers, major))
    return headings


def mesh_from_json(items: list[Any] | str | None) -> list[MeshHeading]:
    """MeSH from JSON input: a pubmed_parser-style string, names, or {ui, name, qualifiers} dicts."""
    if not items:
        return []
    if isinstance(items, str):
        return parse_mesh_string(items) if ":" in items else [
            MeshHeading("", name.strip()) for name in items.split(";") if name.strip()
        ]
    headings = []
    for item in items:
        if isinstance(item, str):
            headings.append(MeshHeading("", item))
        elif isinstance(item, dict):
            headings.append(
                MeshHeading(
                    str(item.get("ui", "")),
                    str(item.get("name", "")),
                    [str(q) for q in item.get("qualifiers", [])],
                    bool(item.get("major", False)),
                )
            )
    return headings
