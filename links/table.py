"""The link table: every scored drug–disease pair of the indexed articles, aggregated on query.

Stored in `LITMOL_HOME/links/<index name>.sqlite`, next to the index it was mined from.
`build_links` reads only PMID, title, abstract and year of each indexed article (never its
MeSH headings), tags it, scores its candidate pairs and stores them; a later build mines
only articles added since, unless the vocabulary or the model changed (then it starts over).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litmol.retrieval.errors import BadQueryError, EmptyIndexError, RetrievalError
from litmol.settings import RetrievalSettings

from .relations import MODEL_FILE, RELATIONS, RelationModel, candidates
from .tagger import Tagger
from .vocab import SYNONYMS_FILE, VOCAB_FILE, Vocabulary, default_vocabulary

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (pmid TEXT PRIMARY KEY, year INTEGER);
CREATE TABLE IF NOT EXISTS pairs (
    pmid TEXT NOT NULL, drug TEXT NOT NULL, disease TEXT NOT NULL,
    p_treats REAL NOT NULL, p_causes REAL NOT NULL, relation TEXT NOT NULL, evidence TEXT
);
CREATE INDEX IF NOT EXISTS pairs_drug ON pairs(drug, relation);
CREATE INDEX IF NOT EXISTS pairs_disease ON pairs(disease, relation);
CREATE TABLE IF NOT EXISTS mentions (pmid TEXT NOT NULL, concept TEXT NOT NULL, n INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_concept ON mentions(concept);
CREATE INDEX IF NOT EXISTS mentions_pmid ON mentions(pmid);
CREATE TABLE IF NOT EXISTS concepts (id TEXT PRIMARY KEY, name TEXT, type TEXT);
"""
RELATION_CHOICES = ("treats", "causes", "other")


class LinksNotBuiltError(EmptyIndexError):
    """No link table yet for this index."""


def _fingerprint() -> str:
    from litmol.predictors.chem.lexicon import LEXICON_FILE

    h = hashlib.sha256()
    here = Path(__file__).parent  # the tagging and scoring code too: a new rule re-mines the table
    for path in (VOCAB_FILE, SYNONYMS_FILE, MODEL_FILE, LEXICON_FILE, here / "tagger.py", here / "vocab.py",
                 here / "relations.py"):
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()[:16]


def links_path(settings: RetrievalSettings) -> Path:
    return settings.home / "links" / f"{settings.index_name}.sqlite"


def index_articles(settings: RetrievalSettings) -> tuple[int, Iterator[tuple[str, str, str, int | None]]]:
    """(count, iterator of (pmid, title, abstract, year)) over the current index build.

    The miner's only door to the corpus: the MeSH column is never selected (leakage rule).
    """
    from litmol.retrieval.index import read_manifest, verify_file

    build, manifest = read_manifest(settings.index_root)
    path = verify_file(build, manifest["metadata"], checksum=False)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    count = int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def rows() -> Iterator[tuple[str, str, str, int | None]]:
        try:
            yield from conn.execute("SELECT pmid, title, abstract, year FROM docs ORDER BY row")
        finally:
            conn.close()

    return count, rows()


def build_links(settings: RetrievalSettings | None = None, progress: bool = True, rebuild: bool = False,
                vocab: Vocabulary | None = None, model: RelationModel | None = None) -> dict[str, Any]:
    """Mine the index's articles into the link table (only new ones unless `rebuild`)."""
    from tqdm import tqdm

    settings = settings or RetrievalSettings()
    t0 = time.perf_counter()
    total, rows = index_articles(settings)
    vocab = vocab or default_vocabulary()
    model = model or RelationModel.load()
    tagger = Tagger(vocab)
    approved = vocab.approved_ids()
    path = links_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    fingerprint = _fingerprint()
    held = conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
    if rebuild or (held and held[0] != fingerprint):
        logger.info("vocabulary or model changed: mining every article again")
        conn.executescript("DELETE FROM articles; DELETE FROM pairs; DELETE FROM mentions; DELETE FROM concepts;")
    done = {r[0] for r in conn.execute("SELECT pmid FROM articles")}
    new_articles = new_pairs = 0
    seen_concepts: set[str] = {r[0] for r in conn.execute("SELECT id FROM concepts")}
    mined_t = 0.0
    batch_pairs, batch_mentions, batch_articles = [], [], []

    def flush() -> None:
        conn.executemany("INSERT INTO pairs VALUES (?,?,?,?,?,?,?)", batch_pairs)
        conn.executemany("INSERT INTO mentions VALUES (?,?,?)", batch_mentions)
        conn.executemany("INSERT OR REPLACE INTO articles VALUES (?,?)", batch_articles)
        conn.commit()
        batch_pairs.clear()
        batch_mentions.clear()
        batch_articles.clear()

    with tqdm(total=total, desc="mining links", unit="abstract", disable=not progress, initial=len(done)) as bar:
        for pmid, title, abstract, year in rows:
            if pmid in done:
                continue
            t1 = time.perf_counter()
            mentions = tagger.tag(_text(title, abstract))
            counts: dict[str, int] = defaultdict(int)
            for m in mentions:
                counts[m.concept] += 1
            cands = model.score(candidates(title, abstract, lambda _t, tagged=mentions: tagged, approved))
            mined_t += time.perf_counter() - t1
            for c in cands:
                batch_pairs.append((pmid, c.drug, c.disease, c.probs["treats"], c.probs["causes"], model.label(c.probs),
                                    c.evidence))
            batch_mentions.extend((pmid, cid, n) for cid, n in counts.items())
            for cid in counts.keys() - seen_concepts:
                concept = vocab.concepts[cid]
                conn.execute("INSERT OR REPLACE INTO concepts VALUES (?,?,?)", (cid, concept.label, concept.type))
                seen_concepts.add(cid)
            batch_articles.append((pmid, year))
            new_articles += 1
            new_pairs += len(cands)
            if len(batch_articles) >= 500:
                flush()
            bar.update(1)
    flush()
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('thresholds', ?)", (json.dumps(model.thresholds),))
    conn.commit()
    n_articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    conn.close()
    return {"path": str(path), "articles": n_articles, "new_articles": new_articles, "new_pairs": new_pairs,
            "seconds": round(time.perf_counter() - t0, 2),
            "abstracts_per_s": round(new_articles / mined_t, 1) if mined_t else None}


def _text(title: str, abstract: str) -> str:
    title = (title or "").strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    return f"{title} {(abstract or '').strip()}".strip()


@dataclass
class Link:
    drug: str
    disease: str
    relation: str
    score: float
    n_articles: int
    pmids: list[str]
    first_year: int | None
    last_year: int | None
    evidence: list[dict[str, str]]
    drug_id: str = ""
    disease_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"drug": self.drug, "disease": self.disease, "relation": self.relation, "score": self.score,
                "n_articles": self.n_articles, "pmids": self.pmids, "first_year": self.first_year,
                "last_year": self.last_year, "evidence": self.evidence, "drug_id": self.drug_id,
                "disease_id": self.disease_id}


class LinkTable:
    """Read side: links for a drug or disease, hypotheses, trends, exports."""

    def __init__(self, path: Path, vocab: Vocabulary | None = None) -> None:
        if not path.is_file():
            raise LinksNotBuiltError(f"no link table at {path}; build it with `litmol links build`")
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.vocab = vocab or default_vocabulary()
        self.names = {cid: (name, kind) for cid, name, kind in self.conn.execute("SELECT id, name, type FROM concepts")}
        self.n_articles = int(self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        if not self.n_articles:
            raise LinksNotBuiltError(f"{path} holds no articles; build it with `litmol links build`")

    @classmethod
    def open(cls, settings: RetrievalSettings | None = None) -> LinkTable:
        return cls(links_path(settings or RetrievalSettings()))

    def close(self) -> None:
        self.conn.close()

    def name(self, cid: str) -> str:
        return self.names.get(cid, (cid, ""))[0]

    def resolve(self, text: str, kind: str) -> str:
        """The concept id a user's drug or disease name denotes; BadQueryError with suggestions."""
        text = (text or "").strip()
        if not text:
            raise BadQueryError(f"empty {kind} name")
        types = ("drug", "chemical") if kind == "drug" else ("disease",)
        concept = self.vocab.lookup(text, types)
        if concept is None and kind == "disease":  # "Parkinson's", "Cushing": the eponym alone
            concept = next((c for suffix in (" disease", " syndrome")
                            if (c := self.vocab.lookup(text + suffix, types)) is not None), None)
        if concept is None:
            from litmol.predictors.chem.lexicon import default_lexicon

            if kind == "drug":  # brand names, salts and typos through the drug lexicon
                match = default_lexicon().lookup(text)
                if match.entry is not None:
                    concept = self.vocab.lookup(match.entry.name, types)
        if concept is not None and concept.id in self.names:
            return concept.id
        from rapidfuzz import fuzz, process

        choices = {cid: name for cid, (name, t) in self.names.items() if t in types}
        best = process.extract(text, choices, scorer=fuzz.WRatio, limit=5)
        if best and best[0][1] >= 92:
            return best[0][2]
        hint = ", ".join(b[0] for b in best if b[1] >= 60)
        where = "is not in the vocabulary" if concept is None else "is not mentioned in the indexed articles"
        raise BadQueryError(f"{kind} '{text}' {where}" + (f"; did you mean: {hint}?" if hint else ""))

    def links(self, drug: str | None = None, disease: str | None = None, relation: str | None = None,
              min_articles: int = 1, limit: int = 50, evidence: int = 3) -> list[Link]:
        """Aggregated links of a drug or a disease (or both), sorted by score.

        A link's score is the noisy-OR of its articles' probabilities for that relation (how
        likely at least one of them states it); `other` links (co-mentions) score by count.
        """
        if relation is not None and relation not in RELATION_CHOICES:
            raise BadQueryError(f"relation must be one of {', '.join(RELATION_CHOICES)}")
        if drug is None and disease is None:
            raise BadQueryError("give a drug or a disease")
        where, args = [], []
        if drug is not None:
            where.append("p.drug = ?")
            args.append(self.resolve(drug, "drug"))
        if disease is not None:
            where.append("p.disease = ?")
            args.append(self.resolve(disease, "disease"))
        rels = [relation] if relation else list(RELATIONS)
        return self._aggregate(where, args, rels, min_articles, limit, evidence)

    def _aggregate(self, where: list[str], args: list[Any], rels: list[str], min_articles: int, limit: int,
                   evidence: int) -> list[Link]:
        where = [*where, f"p.relation IN ({','.join('?' * len(rels))})"]
        args = [*args, *rels]
        rows = self.conn.execute(
            "SELECT p.drug, p.disease, p.relation, p.pmid, p.p_treats, p.p_causes, p.evidence, a.year "
            f"FROM pairs p JOIN articles a ON a.pmid = p.pmid WHERE {' AND '.join(where)}", args).fetchall()
        groups: dict[tuple[str, str, str], list] = defaultdict(list)
        for row in rows:
            groups[(row[0], row[1], row[2])].append(row)
        out = []
        for (d, s, rel), items in groups.items():
            if len(items) < min_articles:
                continue
            probs = [it[4] if rel == "treats" else it[5] if rel == "causes" else max(it[4], it[5]) for it in items]
            if rel == "other":
                score = 1 - 1 / (1 + len(items))
            else:
                score = 1 - math.exp(sum(math.log(max(1e-9, 1 - p)) for p in probs))
            ranked = sorted(zip(probs, items, strict=True), key=lambda x: -x[0])
            years = [it[7] for it in items if it[7]]
            out.append(Link(self.name(d), self.name(s), rel, round(score, 4), len(items),
                            [it[3] for _, it in ranked],
                            min(years) if years else None, max(years) if years else None,
                            [{"pmid": it[3], "sentence": it[6]} for _, it in ranked[:evidence]], d, s))
        out.sort(key=lambda x: (-x.score, -x.n_articles, x.drug, x.disease))
        return out[:limit]

    def trend(self, drug_id: str, disease_id: str) -> list[tuple[int, int]]:
        """(year, articles co-mentioning the pair) in year order."""
        return [(int(y), int(n)) for y, n in self.conn.execute(
            "SELECT a.year, COUNT(*) FROM pairs p JOIN articles a ON a.pmid = p.pmid "
            "WHERE p.drug = ? AND p.disease = ? AND a.year IS NOT NULL GROUP BY a.year ORDER BY a.year",
            (drug_id, disease_id))]

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
        """Every treats/causes link (or those of one relation), best first."""
        return self._aggregate([], [], [relation] if relation else list(RELATIONS), min_articles, 10**9, 1)


def export_links(table: LinkTable, path: Path, fmt: str, relation: str | None = None, min_articles: int = 1) -> int:
    """Write every link to CSV or GraphML; returns how many."""
    links = table.all_links(relation, min_articles)
    path = Path(path)
    if fmt == "csv":
        import csv

        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["drug", "drug_id", "disease", "disease_id", "relation", "score", "n_articles", "first_year",
                        "last_year", "pmids", "evidence"])
            for lk in links:
                w.writerow([lk.drug, lk.drug_id, lk.disease, lk.disease_id, lk.relation, lk.score, lk.n_articles,
                            lk.first_year or "", lk.last_year or "", " ".join(lk.pmids),
                            " | ".join(f"PMID:{e['pmid']} {e['sentence']}" for e in lk.evidence[:1])])
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
