"""The link table: every scored drug–disease pair of the indexed articles and the links their MeSH
indexing states, aggregated on query.

Stored in `LITMOL_HOME/links/<index name>.sqlite`, next to the index it was mined from. Two sources:
  * text mining: `build_links` reads only PMID, title, abstract and year of each article (never its
    MeSH headings), tags it, scores its candidate pairs (table `pairs`);
  * PubMed indexing: a separate pass reads only the MeSH headings of the records that have them and
    keeps the drug–disease and drug–target links they state (links/indexing.py; table `indexed`).
    `indexing=False` leaves it out (how text mining is measured).
A later build processes only articles added since, unless the vocabulary, the model or the rules
changed (then it starts over).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litmol.retrieval.errors import BadQueryError, EmptyIndexError, RetrievalError
from litmol.settings import RetrievalSettings

from .indexing import DISEASE_RELATIONS, TARGET_RELATIONS, indexed_pairs
from .mesh import Thesaurus
from .relations import MODEL_FILE, RELATIONS, RelationModel, candidates
from .tagger import Tagger
from .vocab import (
    SYNONYMS_FILE,
    VOCAB_FILE,
    Vocabulary,
    default_vocabulary,
    load_vocabulary,
    natural,
    normalize,
    save_vocabulary,
)

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
CREATE TABLE IF NOT EXISTS indexed (
    pmid TEXT NOT NULL, drug TEXT NOT NULL, other TEXT NOT NULL, relation TEXT NOT NULL, headings TEXT
);
CREATE INDEX IF NOT EXISTS indexed_drug ON indexed(drug, relation);
CREATE INDEX IF NOT EXISTS indexed_other ON indexed(other, relation);
CREATE TABLE IF NOT EXISTS names (form TEXT NOT NULL, id TEXT NOT NULL, preferred INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS names_form ON names(form);
CREATE TABLE IF NOT EXISTS trees (id TEXT NOT NULL, tree TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trees_id ON trees(id);
CREATE INDEX IF NOT EXISTS trees_tree ON trees(tree);
"""
RELATION_CHOICES = ("treats", "causes", "other", *TARGET_RELATIONS)
INDEXING_P = 0.9  # what one article's indexing counts for in a link's noisy-OR score (a classifier's p for text)
SOURCE_TEXT, SOURCE_INDEXING = "text mining", "PubMed indexing"


class LinksNotBuiltError(EmptyIndexError):
    """No link table yet for this index."""


def _fingerprint() -> str:
    from litmol.predictors.chem.lexicon import LEXICON_FILE

    h = hashlib.sha256()
    here = Path(__file__).parent  # the tagging and scoring code too: a new rule re-mines the table
    for path in (VOCAB_FILE, SYNONYMS_FILE, MODEL_FILE, LEXICON_FILE, here / "tagger.py", here / "vocab.py",
                 here / "relations.py", here / "indexing.py", here / "mesh.py", here / "table.py"):
        h.update(path.read_bytes() if path.is_file() else b"")
    return h.hexdigest()[:16]


def links_path(settings: RetrievalSettings) -> Path:
    return settings.home / "links" / f"{settings.index_name}.sqlite"


def vocabulary_cache(table: Path) -> Path:
    """Where a build leaves the vocabulary it tagged with (for this code, vocabulary and model), so that
    opening the table does not rebuild it from the thesaurus (~3 s)."""
    return table.parent / f"{table.stem}.vocabulary-{_fingerprint()}.json"


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


def index_headings(settings: RetrievalSettings) -> Iterator[tuple[str, list[dict]]]:
    """(pmid, MeSH headings) of the records that have indexing: the indexing source's only door to the
    corpus, kept apart from the miner's (`index_articles`)."""
    from litmol.retrieval.index import read_manifest, verify_file

    build, manifest = read_manifest(settings.index_root)
    path = verify_file(build, manifest["metadata"], checksum=False)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        for pmid, mesh in conn.execute("SELECT pmid, mesh FROM docs WHERE mesh IS NOT NULL AND mesh != '[]' ORDER BY row"):
            yield pmid, json.loads(mesh)
    finally:
        conn.close()


def _heading_text(ui: str, name: str, mesh: list[dict]) -> str:
    for h in mesh:
        if h.get("ui") == ui or h.get("name") == name:
            return h.get("name", name) + "".join(f"/{q}" for q in h.get("qualifiers") or ())
    return name


def _store_indexing(conn: sqlite3.Connection, settings: RetrievalSettings, pmids: set[str], vocab: Vocabulary,
                    seen_concepts: set[str]) -> int:
    """Keep the links the MeSH indexing of `pmids` states; returns how many."""
    thesaurus = Thesaurus.load()
    names_to_ids = {c.name.lower(): cid for cid, c in vocab.concepts.items()}
    typed = dict(conn.execute("SELECT id, type FROM concepts").fetchall())
    rows, n = [], 0
    for pmid, mesh in index_headings(settings):
        if pmid not in pmids:
            continue
        for p in indexed_pairs(mesh, thesaurus):
            ids = []
            for ui, name, kind in ((p.drug_ui, p.drug, "drug"), (p.other_ui, p.other,
                                                                 "disease" if p.relation in DISEASE_RELATIONS else "target")):
                cid = ui if ui in vocab.concepts or not names_to_ids.get(name.lower()) else names_to_ids[name.lower()]
                cid = cid or f"mesh:{name.lower()}"
                # new, a receptor the miner typed chemical, or a heading it typed other ("Morphine Dependence")
                if cid not in seen_concepts or kind == "target" or typed.get(cid) == "other":
                    d = thesaurus.get(cid) if thesaurus is not None else None
                    concept = vocab.concepts.get(cid)
                    label = concept.label if concept is not None else d.label if d is not None else name
                    conn.execute("INSERT OR REPLACE INTO concepts VALUES (?,?,?)", (cid, label, kind))
                    seen_concepts.add(cid)
                    typed[cid] = kind
                ids.append(cid)
            evidence = f"{_heading_text(p.drug_ui, p.drug, mesh)} × {_heading_text(p.other_ui, p.other, mesh)}"
            rows.append((pmid, ids[0], ids[1], p.relation, evidence))
            n += 1
        if len(rows) >= 2000:
            conn.executemany("INSERT INTO indexed VALUES (?,?,?,?,?)", rows)
            rows.clear()
    conn.executemany("INSERT INTO indexed VALUES (?,?,?,?,?)", rows)
    conn.commit()
    return n


def _store_mesh_names(conn: sqlite3.Connection) -> int:
    """MeSH names, entry terms (either word order) and tree numbers of the table's concepts, so that a query
    resolves "infantile diarrhea" or gathers narrower headings without loading the thesaurus."""
    thesaurus = Thesaurus.load()
    conn.executescript("DELETE FROM names; DELETE FROM trees;")
    if thesaurus is None:
        return 0
    names, trees = [], []
    for (cid,) in conn.execute("SELECT id FROM concepts").fetchall():
        d = thesaurus.get(cid)
        if d is None:
            continue
        for i, text in enumerate((d.name, *d.entry_terms)):
            for form in {" ".join(normalize(text)), " ".join(normalize(natural(text)))}:
                if form:
                    names.append((form, cid, int(i == 0)))
        trees += [(cid, t) for t in d.trees]
    conn.executemany("INSERT INTO names VALUES (?,?,?)", names)
    conn.executemany("INSERT INTO trees VALUES (?,?)", trees)
    conn.commit()
    return len(names)


def build_links(settings: RetrievalSettings | None = None, progress: bool = True, rebuild: bool = False,
                vocab: Vocabulary | None = None, model: RelationModel | None = None,
                indexing: bool = True) -> dict[str, Any]:
    """Mine the index's articles into the link table (only new ones unless `rebuild`); with `indexing`,
    also keep the links their MeSH indexing states."""
    from tqdm import tqdm

    settings = settings or RetrievalSettings()
    t0 = time.perf_counter()
    total, rows = index_articles(settings)
    default = vocab is None
    vocab = vocab or default_vocabulary()
    model = model or RelationModel.load()
    tagger = Tagger(vocab)
    approved = vocab.approved_ids()
    path = links_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    if default:
        cache = vocabulary_cache(path)
        for stale in path.parent.glob(f"{path.stem}.vocabulary-*.json"):
            if stale != cache:
                stale.unlink(missing_ok=True)
        if not cache.is_file():
            save_vocabulary(vocab, cache)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    fingerprint = _fingerprint() + ("+indexing" if indexing else "")
    held = conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
    if rebuild or (held and held[0] != fingerprint):
        logger.info("vocabulary, model or sources changed: mining every article again")
        conn.executescript("DELETE FROM articles; DELETE FROM pairs; DELETE FROM mentions; DELETE FROM concepts; "
                           "DELETE FROM indexed; DELETE FROM names; DELETE FROM trees;")
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
    added = {r[0] for r in conn.execute("SELECT pmid FROM articles")} - done
    new_indexed = _store_indexing(conn, settings, added, vocab, seen_concepts) if indexing and added else 0
    if added or not conn.execute("SELECT 1 FROM names LIMIT 1").fetchone():
        _store_mesh_names(conn)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('thresholds', ?)", (json.dumps(model.thresholds),))
    conn.commit()
    n_articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    conn.close()
    return {"path": str(path), "articles": n_articles, "new_articles": new_articles, "new_pairs": new_pairs,
            "new_indexed": new_indexed, "seconds": round(time.perf_counter() - t0, 2),
            "abstracts_per_s": round(new_articles / mined_t, 1) if mined_t else None}


def _text(title: str, abstract: str) -> str:
    title = (title or "").strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    return f"{title} {(abstract or '').strip()}".strip()


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
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        cache = vocabulary_cache(path)
        if vocab is None and cache.is_file():
            try:
                vocab = load_vocabulary(cache)
            except (OSError, ValueError, KeyError, TypeError) as err:
                logger.warning("vocabulary cache %s unreadable (%s): building the vocabulary", cache, err)
        self.vocab = vocab or default_vocabulary()
        self.names = {cid: (name, kind) for cid, name, kind in self.conn.execute("SELECT id, name, type FROM concepts")}
        self.n_articles = int(self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        if not self.n_articles:
            raise LinksNotBuiltError(f"{path} holds no articles; build it with `litmol links build`")
        has_indexed = self.conn.execute("SELECT name FROM sqlite_master WHERE name='indexed'").fetchone()
        self.n_indexed = int(self.conn.execute("SELECT COUNT(*) FROM indexed").fetchone()[0]) if has_indexed else 0
        self.has_mesh_names = bool(self.conn.execute("SELECT name FROM sqlite_master WHERE name='names'").fetchone())

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
        close spellings; BadQueryError with suggestions when nothing matches."""
        text = (text or "").strip()
        if not text:
            raise BadQueryError(f"empty {kind} name")
        types = {"drug": ("drug", "chemical"), "disease": ("disease",), "target": ("target",)}[kind]
        concept = self.vocab.lookup(text, types) if kind != "target" else None
        if concept is None and kind == "disease":  # "Parkinson's", "Cushing": the eponym alone
            concept = next((c for suffix in (" disease", " syndrome")
                            if (c := self.vocab.lookup(text + suffix, types)) is not None), None)
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
