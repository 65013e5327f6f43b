"""The concept vocabulary of the link miner: drugs, diseases and intermediate concepts.

Sources (all committed or packaged; nothing from dev/test indexing):
  * corpora/links/vocab.tsv — MeSH descriptors of train-split articles, typed by qualifier use
    (corpora/links/make_key.py);
  * the approved-drug lexicon (corpora/lexicon) with its synonyms; a drug whose name is also a
    vocabulary descriptor joins that concept (acetylsalicylic acid -> Aspirin);
  * corpora/links/synonyms.tsv — everyday names of diseases ("cancer" -> Neoplasms);
  * the MeSH thesaurus (links/mesh.py, when installed): entry terms of every concept, and the disease
    and chemical descriptors the train-split indexing never used (no one's indexing: MeSH itself).
Each concept gets its surface forms in natural word order ("Carcinoma, Hepatocellular" ->
"hepatocellular carcinoma"); forms are compared after `normalize`.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from litmol.paths import CORPORA

from .errors import check_name_length

LINKS_DIR = CORPORA / "links"
VOCAB_FILE = LINKS_DIR / "vocab.tsv"
SYNONYMS_FILE = LINKS_DIR / "synonyms.tsv"

_WORD = re.compile(r"[a-z0-9]+")
# Names that are everyday words in an abstract far more often than they are the concept.
AMBIGUOUS = frozenset(["water", "oxygen", "air", "nitrogen", "hydrogen", "light", "heat", "lead", "gold", "iron", "salt",
                       "serum", "plasma", "blood", "saline", "control", "placebo", "milk", "food", "diet", "sleep",
                       "pain", "fever", "death", "aging", "growth", "weight", "body", "hot temperature", "cold",
                       "cold temperature", "carbon", "energy", "ions", "acid", "acids", "base", "bases", "cell",
                       "cells", "tissue", "protein", "proteins", "enzyme", "enzymes", "dna", "rna", "hormones", "drug",
                       "drugs", "pharmaceutical preparations", "vitamins", "time", "age"])
# Word-level spelling variants (British -> American) applied before matching.
_SPELLING = (("aem", "em"), ("oed", "ed"), ("oes", "es"), ("aet", "et"), ("oea", "ea"), ("haem", "hem"),
             ("leuk", "leuk"), ("tumour", "tumor"), ("ae", "e"))
STOP_TOKENS = frozenset(["the", "of", "and", "in", "with", "to", "for", "a", "an", "by", "on", "or"])


def normalize_token(token: str) -> str:
    """One lower-cased word: British spellings, plural and possessive endings folded."""
    if len(token) > 5:
        for old, new in _SPELLING:
            token = token.replace(old, new)
        if token.endswith("our"):
            token = token[:-3] + "or"
    if len(token) > 4:
        if token.endswith("ies"):
            return token[:-3] + "y"
        if token.endswith("s") and not token.endswith(("ss", "us", "is", "os")):
            return token[:-1]
    return token


_PREFIXES = frozenset(["anti", "non", "pre", "post", "co", "re", "de"])


def merge_prefixes(words: list[str]) -> list[str]:
    """'anti-bacterial' and 'anti bacterial' read as 'antibacterial'."""
    out: list[str] = []
    for w in words:
        if out and out[-1] in _PREFIXES:
            out[-1] += w
        else:
            out.append(w)
    return out


def tokens(text: str) -> list[str]:
    """Normalised word tokens of a text (possessive 's dropped, hyphens split words)."""
    text = re.sub(r"['’]s\b", "", text.lower())
    return [normalize_token(t) for t in merge_prefixes(_WORD.findall(text))]


def normalize(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


def natural(name: str) -> str:
    """MeSH inverted names in reading order: 'Leukemia, Myeloid, Acute' -> 'Acute Myeloid Leukemia'."""
    parts = [p.strip() for p in name.split(", ")]
    return " ".join(reversed(parts)) if len(parts) > 1 else name


@dataclass(slots=True)
class Concept:
    """One normalised concept: `id` is a MeSH UI (D…) or `drug:<lexicon name>`."""

    id: str
    name: str
    type: str  # drug, disease, chemical, other
    forms: set[tuple[str, ...]] = field(default_factory=set)
    approved: bool = False  # an approved drug of the lexicon (not a metabolite, hormone or class)

    @property
    def label(self) -> str:
        return natural(self.name) if self.id.startswith("D") else self.name


# Organ nouns and the adjectives abstracts use for them ("renal failure" is Kidney Failure,
# "carcinoma of the prostate" Prostatic Neoplasms); one swap per variant, both directions.
ORGAN_WORDS = (("kidney", "renal"), ("heart", "cardiac"), ("liver", "hepatic"), ("lung", "pulmonary"),
               ("stomach", "gastric"), ("brain", "cerebral"), ("skin", "cutaneous"), ("breast", "mammary"),
               ("prostatic", "prostate"), ("ovarian", "ovary"), ("pancreatic", "pancreas"), ("colonic", "colon"),
               ("esophageal", "esophagus"), ("uterine", "uterus"), ("urinary bladder", "bladder"),
               ("testicular", "testis"), ("thyroid", "thyroid gland"), ("rectal", "rectum"))
_ORGAN_SWAP = {a: b for pair in ORGAN_WORDS for a, b in (pair, pair[::-1])}
_ORGAN_RX = re.compile(r"(?i)\b(" + "|".join(sorted(map(re.escape, _ORGAN_SWAP), key=len, reverse=True)) + r")\b")


def _organ_variants(form: str) -> set[str]:
    return {form[:m.start()] + _ORGAN_SWAP[m.group(1).lower()] + form[m.end():] for m in _ORGAN_RX.finditer(form)}


def _variants(name: str, kind: str) -> set[str]:
    out = {name, natural(name)}
    base = re.sub(r"\s*\([^)]*\)", "", name)  # "Benz(a)Anthracenes" keeps; "X (Y)" drops the aside
    out.add(base)
    words = natural(name).split()
    if len(words) == 2 and any(c.isdigit() for c in words[1]):
        out.add(f"{words[1]} {words[0]}")  # "Leukemia L1210" -> "L1210 leukemia"
    for form in list(out):
        if form.lower().endswith(" agents"):
            out.update((form[:-7] + " drugs", form[:-7] + " agent", form[:-7] + " drug"))
    if kind == "disease":
        for form in list(out):
            low = form.lower()
            for suffix, alternatives in ((" neoplasms", (" cancer", " tumor", " neoplasm", " carcinoma")),
                                         (" diseases", (" disease",)), (" infections", (" infection",)),
                                         (" disorders", (" disorder", "")), (" disorder", ("",))):
                if low.endswith(suffix):
                    stem = form[: -len(suffix)]
                    out.update(stem + alt for alt in alternatives)
        for form in list(out):
            out |= _organ_variants(form)
            if " mellitus" in form.lower():  # "type 2 diabetes"
                out.add(re.sub(r"(?i) mellitus", "", form))
    elif kind in ("drug", "chemical") and " " not in name and name.lower().endswith("in") and len(name) > 6:
        out.add(name + "e")  # European spellings: nitroglycerine, heparine
    return out


@dataclass
class Vocabulary:
    concepts: dict[str, Concept]
    by_form: dict[tuple[str, ...], str]
    max_len: int

    def concept(self, cid: str) -> Concept:
        return self.concepts[cid]

    def approved_ids(self) -> frozenset[str]:
        return frozenset(cid for cid, c in self.concepts.items() if c.approved)

    def lookup(self, text: str, types: tuple[str, ...] | None = None) -> Concept | None:
        """The concept whose surface form equals `text` (after normalisation), if any; NameTooLongError
        (before normalising) for a text longer than MAX_NAME_CHARS."""
        cid = self.by_form.get(normalize(check_name_length(text)))
        if cid is None or (types and self.concepts[cid].type not in types):
            return None
        return self.concepts[cid]


def _usable(form: tuple[str, ...]) -> bool:
    if not form or form in _AMBIGUOUS_FORMS:
        return False
    if len(form) == 1 and (len(form[0]) < 4 or form[0].isdigit() or form[0] in STOP_TOKENS):
        return False
    return not all(t in STOP_TOKENS or t.isdigit() for t in form)


def build_vocabulary(vocab_file: Path = VOCAB_FILE, synonyms_file: Path = SYNONYMS_FILE,
                     with_lexicon: bool = True, with_thesaurus: bool = True) -> Vocabulary:
    concepts: dict[str, Concept] = {}
    by_form: dict[tuple[str, ...], str] = {}
    priority = {"disease": 0, "drug": 1, "chemical": 2, "other": 3}

    def add_form(cid: str, text: str) -> None:
        form = normalize(text)
        if not _usable(form):
            return
        concepts[cid].forms.add(form)
        held = by_form.get(form)
        if held is None or priority[concepts[cid].type] < priority[concepts[held].type]:
            by_form[form] = cid

    with vocab_file.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            concepts[row["ui"]] = Concept(row["ui"], row["name"], row["type"])
            for variant in _variants(row["name"], row["type"]):
                add_form(row["ui"], variant)
    if synonyms_file.is_file():
        by_name = {c.name.lower(): c.id for c in concepts.values()}
        with synonyms_file.open() as fh:
            for line in fh:
                if not line.strip() or line.startswith("#"):
                    continue
                synonym, _, target = line.rstrip("\n").partition("\t")
                cid = by_name.get(target.strip().lower())
                if cid:
                    add_form(cid, synonym.strip())
    if with_thesaurus:
        _add_thesaurus(concepts, by_form, add_form)
    if with_lexicon:
        from litmol.predictors.chem.lexicon import default_lexicon

        for entry in default_lexicon().entries:
            names = [entry.name, *entry.names]
            cid = next((by_form[normalize(n)] for n in names if normalize(n) in by_form
                        and concepts[by_form[normalize(n)]].type in ("drug", "chemical")), None)
            if cid is None:
                cid = f"drug:{entry.name.lower()}"
                concepts.setdefault(cid, Concept(cid, entry.name, "drug"))
            concepts[cid].approved = True
            for n in names:
                if normalize(n) not in by_form:
                    add_form(cid, n)
    max_len = max((len(f) for f in by_form), default=1)
    return Vocabulary(concepts, by_form, max_len)


_AMBIGUOUS_FORMS = frozenset(normalize(a) for a in AMBIGUOUS)
# an entry term longer than this many words is a definition, not a name used in abstracts
MAX_ENTRY_WORDS = 5
# thesaurus kinds -> miner types for descriptors the corpus vocabulary lacks
_NEW_TYPES = {"disease": "disease", "chemical": "chemical"}


def _add_thesaurus(concepts: dict[str, Concept], by_form: dict[tuple[str, ...], str], add_form) -> None:
    """MeSH entry terms for the corpus concepts ("Hypertension, Pulmonary" also reads "pulmonary
    hypertension", "Myocardial Infarction" also "heart attack"), and the disease and chemical descriptors
    the corpus vocabulary lacks (named by their headings and entry terms). The thesaurus is MeSH itself,
    not anyone's indexing, so no dev or test label reaches the miner. A form the corpus vocabulary
    already gives to a concept keeps it; targets and pharmacologic-action classes are not added."""
    from .mesh import Thesaurus

    thesaurus = Thesaurus.load()
    if thesaurus is None:
        return
    corpus_forms = set(by_form)
    for cid, concept in concepts.items():
        d = thesaurus.get(cid)
        if concept.type in ("drug", "chemical") and d is not None and d.trees and not d.under(("D",)):
            concept.type = "other"  # an organism, a cell or a procedure typed by its qualifiers in the corpus
    for d in thesaurus.descriptors.values():
        kind = d.kind
        cid = d.ui
        if cid not in concepts:
            if kind not in _NEW_TYPES:
                continue
            concepts[cid] = Concept(cid, d.name, _NEW_TYPES[kind])
            texts = [v for v in _variants(d.name, _NEW_TYPES[kind])]
        else:
            texts = []
        for term in d.entry_terms:
            if len(term.split()) <= MAX_ENTRY_WORDS:  # longer: a definition, not a name abstracts use
                texts.extend(_variants(term, concepts[cid].type) if "," in term else [term])
        for text in texts:
            form = normalize(text)
            if form not in corpus_forms and len(form) <= MAX_ENTRY_WORDS + 1:
                add_form(cid, text)


@functools.lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return build_vocabulary()


def save_vocabulary(vocab: Vocabulary, path: Path) -> None:
    """The built vocabulary as JSON (written atomically), so that a query process reads it in a fraction
    of the seconds building it from the thesaurus takes."""
    data = {"max_len": vocab.max_len,
            "concepts": [[c.id, c.name, c.type, c.approved, sorted(" ".join(f) for f in c.forms)]
                         for c in vocab.concepts.values()],
            "by_form": {" ".join(f): cid for f, cid in vocab.by_form.items()}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    tmp.replace(path)


def load_vocabulary(path: Path) -> Vocabulary:
    data = json.loads(path.read_text())
    concepts = {cid: Concept(cid, name, kind, {tuple(f.split(" ")) for f in forms}, approved)
                for cid, name, kind, approved, forms in data["concepts"]}
    by_form = {tuple(f.split(" ")): cid for f, cid in data["by_form"].items()}
    return Vocabulary(concepts, by_form, int(data["max_len"]))
