"""Links from a record's own MeSH indexing: curated metadata, a link source next to text mining.

MEDLINE indexers attach qualifiers to headings. In one record:
  * a drug heading with *therapeutic use* and a disease heading with *drug therapy*: `treats`;
  * a drug with *adverse effects / toxicity / poisoning* and a disease with *chemically induced*:
    `causes`;
  * a drug with *pharmacology* / *therapeutic use* / *administration & dosage* and a receptor,
    enzyme or other protein heading with *antagonists & inhibitors*: `inhibits`; with *agonists*:
    `activates`; with *drug effects* (how indexers of the 1970s tagged a receptor a drug binds):
    `acts_on` (drug–target links).
The same treats/causes rule builds the silver key (corpora/links/make_key.py imports it from here), so
text-mining quality is always measured with indexing hidden from the miner (bench/links_eval.py).
A "drug" must be a chemical heading: its MeSH tree is D (with the thesaurus installed; a heading that
is only a pharmacologic action such as "Anti-Inflammatory Agents" is a class, not a drug) or, without
it, the record gives it a chemical-only qualifier; chemotherapy protocols are not drugs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .mesh import Thesaurus

TREATS_DRUG = frozenset({"therapeutic use"})
TREATS_DISEASE = frozenset({"drug therapy"})
CAUSES_DRUG = frozenset({"adverse effects", "toxicity", "poisoning"})
CAUSES_DISEASE = frozenset({"chemically induced"})
ACTS_DRUG = frozenset({"pharmacology", "therapeutic use", "administration & dosage"})
TARGET_QUALIFIER = {"antagonists & inhibitors": "inhibits", "agonists": "activates", "drug effects": "acts_on"}
# Qualifiers MeSH allows only on chemicals and drugs (category D)
CHEMICAL_QUALIFIERS = frozenset({"therapeutic use", "pharmacology", "administration & dosage", "toxicity", "poisoning",
                                 "pharmacokinetics", "analogs & derivatives", "chemical synthesis",
                                 "antagonists & inhibitors", "isolation & purification", "deficiency", "agonists",
                                 "biosynthesis"})
NOT_A_DRUG = ("Protocols", "Combined Modality")
DISEASE_RELATIONS = ("treats", "causes")
TARGET_RELATIONS = ("inhibits", "activates", "acts_on")


@dataclass(frozen=True, slots=True)
class IndexedPair:
    relation: str  # treats, causes, inhibits, activates, acts_on
    drug_ui: str
    drug: str
    other_ui: str  # the disease or the target
    other: str


def _heading(h: Any) -> tuple[str, str, frozenset[str]]:
    if isinstance(h, dict):
        return str(h.get("ui", "")), str(h.get("name", "")), frozenset(h.get("qualifiers") or ())
    return h.ui, h.name, frozenset(h.qualifiers)


def _is_drug(ui: str, name: str, qualifiers: frozenset[str], thesaurus: Thesaurus | None) -> bool:
    if any(bad in name for bad in NOT_A_DRUG):
        return False
    d = thesaurus.get(ui) if thesaurus is not None else None
    if d is not None:
        return d.kind == "chemical"
    return bool(qualifiers & CHEMICAL_QUALIFIERS)


def _is_target(ui: str, thesaurus: Thesaurus | None) -> bool:
    d = thesaurus.get(ui) if thesaurus is not None else None
    return d is not None and d.kind == "target"


def indexed_pairs(mesh: Iterable[Any], thesaurus: Thesaurus | None = None,
                  relations: tuple[str, ...] = DISEASE_RELATIONS + TARGET_RELATIONS) -> list[IndexedPair]:
    """The links one record's MeSH headings state (MeshHeading objects or {ui, name, qualifiers} dicts)."""
    headings = [_heading(h) for h in mesh]
    out: list[IndexedPair] = []
    seen: set[tuple[str, str, str]] = set()

    def add(relation: str, drug: tuple, other: tuple) -> None:
        key = (relation, drug[0] or drug[1], other[0] or other[1])
        if key not in seen:
            seen.add(key)
            out.append(IndexedPair(relation, drug[0], drug[1], other[0], other[1]))

    drugs = [h for h in headings if _is_drug(h[0], h[1], h[2], thesaurus)]
    for drug in drugs:
        dq = drug[2]
        for other in headings:
            if other is drug:
                continue
            oq = other[2]
            if "treats" in relations and dq & TREATS_DRUG and oq & TREATS_DISEASE:
                add("treats", drug, other)
            if "causes" in relations and dq & CAUSES_DRUG and oq & CAUSES_DISEASE:
                add("causes", drug, other)
            if dq & ACTS_DRUG and _is_target(other[0], thesaurus):
                for qualifier, relation in TARGET_QUALIFIER.items():
                    if relation in relations and qualifier in oq:
                        add(relation, drug, other)
    return out
