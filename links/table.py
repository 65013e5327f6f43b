"""The link table, read side: every scored drug–disease pair of the indexed articles and the links their
MeSH indexing states, aggregated on query (the build: links/build.py; the file and how it is published
whole: links/store.py).

Stored in `LITMOL_HOME/links/<index name>.sqlite`, next to the index it was mined from. A reader opens only
a table a build published whole (meta `complete`); one written in place by an older, interrupted build is
refused with IncompleteLinksError. Every user-given name is refused above MAX_NAME_CHARS before any
matching (NameTooLongError).
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litmol.retrieval.errors import BadQueryError, RetrievalError
from litmol.settings import RetrievalSettings

from .build import build_links, index_articles, index_headings
from .errors import MAX_NAME_CHARS, IncompleteLinksError, LinksNotBuiltError, check_name_length
from .indexing import TARGET_RELATIONS
from .relations import RELATIONS
from .store import (
    COMPLETE,
    FINGERPRINT,
    SCHEMA,
    code_fingerprint,
    links_path,
    read_meta,
    vocabulary_cache,
)
from .vocab import Vocabulary, default_vocabulary, load_vocabulary, normalize

logger = logging.getLogger(__name__)

__all__ = ["SCHEMA", "Link", "LinkTable", "LinksNotBuiltError", "build_links", "export_links", "index_articles",
           "index_headings", "links_path", "vocabulary_cache"]

RELATION_CHOICES = ("treats", "causes", "other", *TARGET_RELATIONS)
INDEXING_P = 0.9  # what one article's indexing counts for in a link's noisy-OR score (a classifier's p for text)
SOURCE_TEXT, SOURCE_INDEXING = "text mining", "PubMed indexing"


@dataclass
class Link:
    drug: str
    disease: str  # the other end: a disease, or a target for inhibits / activates / acts_on
    relation: str
    score: float
    n_articles: int
    pmids: list[str]
    first_year: int | None
    last_year: int | None
    evidence: list[dict[str, str]]
    drug_id: str = ""
    disease_id: str = ""
    sources: dict[str, int] = field(default_factory=dict)  # articles per source: text mining, PubMed indexing

    @property
    def other_kind(self) -> str:
        return "target" if self.relation in TARGET_RELATIONS else "disease"

    def to_dict(self) -> dict[str, Any]:
        kind = self.other_kind
        return {"drug": self.drug, kind: self.disease, "relation": self.relation, "score": self.score,
                "n_articles": self.n_articles, "pmids": self.pmids, "first_year": self.first_year,
                "last_year": self.last_year, "sources": self.sources, "evidence": self.evidence,
                "drug_id": self.drug_id, f"{kind}_id": self.disease_id}


class LinkTable:
    """Read side: links for a drug, disease or target, hypotheses, trends, exports."""

    def __init__(self, path: Path, vocab: Vocabulary | None = None) -> None:
        if not path.is_file():
            raise LinksNotBuiltError(f"no link table at {path}; build it with `litmol links build`")
        meta = read_meta(path)
        if not meta.get(COMPLETE):
            raise IncompleteLinksError(f"the link table {path} is incomplete (an interrupted or older build wrote "
                                       "it); run `litmol links build`")
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        code = meta.get(FINGERPRINT, "").split("+")[0]
        cache = vocabulary_cache(path, code)  # the vocabulary this table was tagged with
        if vocab is None and cache.is_file():
            try:
                vocab = load_vocabulary(cache)
            except (OSError, ValueError, KeyError, TypeError) as err:
                logger.warning("vocabulary cache %s unreadable (%s): building the vocabulary", cache, err)
        elif vocab is None and code != code_fingerprint():
            logger.warning("%s was mined by other code and its vocabulary is gone: run `litmol links build`", path)
        self.vocab = vocab or default_vocabulary()
        self.names = {cid: (name, kind) for cid, name, kind in self.conn.execute("SELECT id, name, type FROM concepts")}
        self.n_articles = int(self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        if not self.n_articles:
            raise LinksNotBuiltError(f"{path} holds no articles; build it with `litmol links build`")
        self.n_indexed = int(self.conn.execute("SELECT COUNT(*) FROM indexed").fetchone()[0])
        self.has_mesh_names = bool(self.conn.execute("SELECT 1 FROM names LIMIT 1").fetchone())

    @classmethod
    def open(cls, settings: RetrievalSettings | None = None) -> LinkTable:
        return cls(links_path(settings or RetrievalSettings()))

    def close(self) -> None:
        self.conn.close()

    def name(self, cid: str) -> str:
        return self.names.get(cid, (cid, ""))[0]

    def resolve(self, text: str, kind: str) -> str:
        """The concept id a user's drug, disease or target name denotes: the miner's vocabulary, then MeSH
        headings and entry terms in either word order ("infantile diarrhea" = Diarrhea, Infantile), then
        close spellings; BadQueryError with suggestions when nothing matches, NameTooLongError (before any
        matching) for a name longer than MAX_NAME_CHARS."""
        text = check_name_length((text or "").strip(), kind)
        if not text:
            raise BadQueryError(f"empty {kind} name")
        types = {"drug": ("drug", "chemical"), "disease": ("disease",), "target": ("target",)}[kind]
        concept = self.vocab.lookup(text, types) if kind != "target" else None
        if concept is None and kind == "disease":  # "Parkinson's", "Cushing": the eponym alone
            concept = next((c for suffix in (" disease", " syndrome") if len(text + suffix) <= MAX_NAME_CHARS
                            and (c := self.vocab.lookup(text + suffix, types)) is not None), None)
        if concept is None and kind == "drug":  # brand names, salts and typos through the drug lexicon
            from litmol.predictors.chem.lexicon import default_lexicon

            match = default_lexicon().lookup(text)
            if match.entry is not None:
                concept = self.vocab.lookup(match.entry.name, types)
        if concept is not None and concept.id in self.names:
            return concept.id
        queries = [text] + ([f"{text} disease", f"{text} syndrome"] if kind == "disease" else []) + \
            ([f"{text}s", f"receptors, {text}", f"{text} receptors"] if kind == "target" else [])
        for q in queries:  # MeSH headings and entry terms, either word order (stored at build)
            for (cid,) in self.conn.execute("SELECT id FROM names WHERE form = ? ORDER BY preferred DESC, id",
                                            (" ".join(normalize(q)),)) if self.has_mesh_names else ():
                if self.names.get(cid, ("", ""))[1] in types:
                    return cid
        from rapidfuzz import fuzz, process

        choices = {cid: name for cid, (name, t) in self.names.items() if t in types}
        best = process.extract(text, choices, scorer=fuzz.WRatio, limit=5)
        if best and best[0][1] >= 92:
            return best[0][2]
        hint = ", ".join(b[0] for b in best if b[1] >= 60)
        where = "is not mentioned in the indexed articles" if concept is not None else "is not in the vocabulary"
        raise BadQueryError(f"{kind} '{text}' {where}" + (f"; did you mean: {hint}?" if hint else ""))

    def narrower(self, cid: str) -> list[str]:
        """Concepts of this table under `cid` in the MeSH trees, nearest first."""
        if not self.has_mesh_names:
            return []
        found: dict[str, int] = {}
        for (tree,) in self.conn.execute("SELECT tree FROM trees WHERE id = ?", (cid,)).fetchall():
            for other, t in self.conn.execute("SELECT id, tree FROM trees WHERE tree LIKE ? || '.%'", (tree,)):
                if other != cid:
                    depth = t.count(".") - tree.count(".")
                    found[other] = min(depth, found.get(other, depth))
        return sorted(found, key=lambda u: (found[u], self.name(u)))

    def links(self, drug: str | None = None, disease: str | None = None, relation: str | None = None,
              min_articles: int = 1, limit: int = 50, evidence: int = 3, target: str | None = None,
              narrower: bool = False) -> list[Link]:
        """Aggregated links of a drug, a disease or a target (or a drug and one of the others), best first.

        A link's score is the noisy-OR of its articles (how likely at least one of them states it): a
        text-mined article counts its classifier probability, an article whose MeSH indexing states the
        link counts INDEXING_P; `other` links (co-mentions) score by count. `narrower` also gathers the
        MeSH headings below the disease or target ("Diabetes Mellitus" with its types).
        """
        if relation is not None and relation not in RELATION_CHOICES:
            raise BadQueryError(f"relation must be one of {', '.join(RELATION_CHOICES)}")
        if drug is None and disease is None and target is None:
            raise BadQueryError("give a drug, a disease or a target")
        if disease is not None and target is not None:
            raise BadQueryError("give a disease or a target, not both")
        drug_id = self.resolve(drug, "drug") if drug is not None else None
        other_ids: list[str] | None = None
        if disease is not None or target is not None:
            kind = "disease" if disease is not None else "target"
            cid = self.resolve(disease if disease is not None else target, kind)
            other_ids = [cid, *(self.narrower(cid) if narrower else [])]
        if relation:
            rels = [relation]
        elif target is not None:
            rels = list(TARGET_RELATIONS)
        elif disease is not None:
            rels = list(RELATIONS)
        else:
            rels = [*RELATIONS, *TARGET_RELATIONS]
        return self._aggregate(drug_id, other_ids, rels, min_articles, limit, evidence)

    def _aggregate(self, drug_id: str | None, other_ids: list[str] | None, rels: list[str], min_articles: int,
                   limit: int, evidence: int) -> list[Link]:
        def where(drug_col: str, other_col: str, rel_col: str, use: list[str]) -> tuple[str, list[Any]]:
            parts, args = [f"{rel_col} IN ({','.join('?' * len(use))})"], list(use)
            if drug_id is not None:
                parts.append(f"{drug_col} = ?")
                args.append(drug_id)
            if other_ids is not None:
                parts.append(f"{other_col} IN ({','.join('?' * len(other_ids))})")
                args += other_ids
            return " AND ".join(parts), args

        # per (drug, other, relation): pmid -> [p, text evidence or None, indexing evidence or None]
        groups: dict[tuple[str, str, str], dict[str, list]] = defaultdict(dict)
        text_rels = [r for r in rels if r in RELATION_CHOICES[:3]]
        if text_rels:
            clause, args = where("drug", "disease", "relation", text_rels)
            for d, s, rel, pmid, pt, pc, ev in self.conn.execute(
                    f"SELECT drug, disease, relation, pmid, p_treats, p_causes, evidence FROM pairs WHERE {clause}", args):
                p = pt if rel == "treats" else pc if rel == "causes" else max(pt, pc)
                groups[(d, s, rel)][pmid] = [p, ev, None]
        index_rels = [r for r in rels if r != "other"]
        if self.n_indexed and index_rels:
            clause, args = where("drug", "other", "relation", index_rels)
            for d, s, rel, pmid, headings in self.conn.execute(
                    f"SELECT drug, other, relation, pmid, headings FROM indexed WHERE {clause}", args):
                held = groups[(d, s, rel)].setdefault(pmid, [0.0, None, None])
                held[0] = max(held[0], INDEXING_P)
                held[2] = headings
        years = {}
        pmids_all = {pmid for g in groups.values() for pmid in g}
        if pmids_all:
            marks = ",".join("?" * len(pmids_all))
            years = dict(self.conn.execute(f"SELECT pmid, year FROM articles WHERE pmid IN ({marks})", list(pmids_all)))
        out = []
        for (d, s, rel), items in groups.items():
            if len(items) < min_articles:
                continue
            probs = [v[0] for v in items.values()]
            if rel == "other":
                score = 1 - 1 / (1 + len(items))
            else:
                score = 1 - math.exp(sum(math.log(max(1e-9, 1 - p)) for p in probs))
            ranked = sorted(items.items(), key=lambda kv: (-kv[1][0], kv[0]))
            ys = [years[p] for p in items if years.get(p)]
            shown = [{"pmid": pmid, "sentence": v[1], "source": SOURCE_TEXT} for pmid, v in ranked if v[1]][:evidence]
            shown += [{"pmid": pmid, "sentence": v[2], "source": SOURCE_INDEXING}
                      for pmid, v in ranked if v[2]][:max(1, evidence - len(shown))]
            sources = {SOURCE_TEXT: sum(1 for v in items.values() if v[1] is not None),
                       SOURCE_INDEXING: sum(1 for v in items.values() if v[2] is not None)}
            out.append(Link(self.name(d), self.name(s), rel, round(score, 4), len(items), [p for p, _ in ranked],
                            min(ys) if ys else None, max(ys) if ys else None, shown, d, s,
                            {k: v for k, v in sources.items() if v}))
        out.sort(key=lambda x: (-x.score, -x.n_articles, x.drug, x.disease))
        return out[:limit]

    def trend(self, drug_id: str, other_id: str) -> list[tuple[int, int]]:
        """(year, articles that co-mention the pair or whose indexing links it) in year order."""
        union = "SELECT pmid FROM pairs WHERE drug = ? AND disease = ?"
        args: list[Any] = [drug_id, other_id]
        if self.n_indexed:
            union += " UNION SELECT pmid FROM indexed WHERE drug = ? AND other = ?"
            args += [drug_id, other_id]
        return [(int(y), int(n)) for y, n in self.conn.execute(
            f"SELECT a.year, COUNT(*) FROM ({union}) u JOIN articles a ON a.pmid = u.pmid "
            "WHERE a.year IS NOT NULL GROUP BY a.year ORDER BY a.year", args)]

    def _df(self, cid: str) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM mentions WHERE concept = ?", (cid,)).fetchone()[0])

    def _co(self, cid: str, types: tuple[str, ...]) -> dict[str, list[str]]:
        """Concepts of `types` co-mentioned with `cid`, each with the PMIDs of the shared articles."""
        rows = self.conn.execute(
            "SELECT m2.concept, m2.pmid FROM mentions m1 JOIN mentions m2 ON m1.pmid = m2.pmid "
            f"JOIN concepts c ON c.id = m2.concept WHERE m1.concept = ? AND m2.concept != ? "
            f"AND c.type IN ({','.join('?' * len(types))})", (cid, cid, *types)).fetchall()
        out: dict[str, list[str]] = defaultdict(list)
        for concept, pmid in rows:
            out[concept].append(pmid)
        return out

    def hypotheses(self, disease: str, limit: int = 20, max_intermediates: int = 40) -> list[dict[str, Any]]:
        """Swanson's ABC model: drugs (A) never co-mentioned with the disease (C) but sharing
        intermediate concepts (B: chemicals, receptors, processes, other diseases) with it.

        Association is the cosine of article sets, co / sqrt(df_x df_y); a hypothesis scores
        the sum over intermediates of assoc(A, B) * assoc(B, C). Very common intermediates
        (in more than 5 % of articles) carry no information and are skipped.
        """
        c = self.resolve(disease, "disease")
        df_c = self._df(c)
        near = self._co(c, ("chemical", "other", "disease", "drug"))
        direct = set(near)
        cap = max(20, int(0.05 * self.n_articles))
        scored_b = []
        for b, pmids in near.items():
            df_b = self._df(b)
            if df_b > cap or len(pmids) < 2:
                continue
            scored_b.append((len(pmids) / math.sqrt(df_b * df_c), b, pmids, df_b))
        scored_b.sort(reverse=True)
        hyps: dict[str, dict[str, Any]] = {}
        for assoc_bc, b, pmids_bc, df_b in scored_b[:max_intermediates]:
            for a, pmids_ab in self._co(b, ("drug",)).items():
                if a in direct or a == c:
                    continue
                assoc_ab = len(pmids_ab) / math.sqrt(self._df(a) * df_b)
                h = hyps.setdefault(a, {"drug": self.name(a), "drug_id": a, "disease": self.name(c), "disease_id": c,
                                        "score": 0.0, "chain": []})
                h["score"] += assoc_ab * assoc_bc
                h["chain"].append({"via": self.name(b), "via_id": b, "strength": round(assoc_ab * assoc_bc, 4),
                                   "drug_pmids": sorted(set(pmids_ab))[:5], "disease_pmids": sorted(set(pmids_bc))[:5]})
        out = sorted(hyps.values(), key=lambda h: -h["score"])[:limit]
        for h in out:
            h["score"] = round(h["score"], 4)
            h["chain"] = sorted(h["chain"], key=lambda x: -x["strength"])[:3]
        return out

    def all_links(self, relation: str | None = None, min_articles: int = 1) -> list[Link]:
        """Every treats/causes link (or those of one relation, a target relation too), best first."""
        return self._aggregate(None, None, [relation] if relation else list(RELATIONS), min_articles, 10**9, 1)


def export_links(table: LinkTable, path: Path, fmt: str, relation: str | None = None, min_articles: int = 1) -> int:
    """Write every link to CSV or GraphML; returns how many."""
    links = table.all_links(relation, min_articles)
    path = Path(path)
    if fmt == "csv":
        import csv

        from litmol.spreadsheet import (
            escape_cells,  # names and sentences from abstracts: never formulas
        )

        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["drug", "drug_id", "disease", "disease_id", "relation", "score", "n_articles", "first_year",
                        "last_year", "pmids", "evidence"])
            for lk in links:
                w.writerow(escape_cells([lk.drug, lk.drug_id, lk.disease, lk.disease_id, lk.relation, lk.score,
                                         lk.n_articles, lk.first_year or "", lk.last_year or "", " ".join(lk.pmids),
                                         " | ".join(f"PMID:{e['pmid']} {e['sentence']}" for e in lk.evidence[:1])]))
    elif fmt == "graphml":
        import networkx as nx

        g = nx.MultiDiGraph()
        for lk in links:
            g.add_node(lk.drug_id, label=lk.drug, type="drug")
            g.add_node(lk.disease_id, label=lk.disease, type="disease")
            g.add_edge(lk.drug_id, lk.disease_id, relation=lk.relation, score=lk.score, n_articles=lk.n_articles,
                       pmids=" ".join(lk.pmids), first_year=lk.first_year or 0, last_year=lk.last_year or 0)
        nx.write_graphml(g, path)
    else:
        raise RetrievalError(f"unknown export format {fmt!r} (csv or graphml)")
    return len(links)
