"""`litmol links build`: mine the index's articles into the link table and publish it whole.

Two sources:
  * text mining reads only PMID, title, abstract and year of each article (never its MeSH headings),
    tags it and scores its candidate pairs (table `pairs`);
  * PubMed indexing, a separate pass, reads only the MeSH headings of the records that have them and keeps
    the drug–disease and drug–target links they state (links/indexing.py; table `indexed`).
    `indexing=False` leaves it out (how text mining is measured).
A build writes a building file next to the table and publishes it atomically (links/store.py): an
incremental build copies the published table and adds the articles indexed since; a changed vocabulary,
model or rule (or `rebuild`) mines every article again. Mined articles are committed every
`checkpoint_rows` articles together with their pairs and mentions and a `pending` mark; the indexing pass
turns every pending article into its indexing links in one transaction. So a killed build resumes where it
stopped, and ends with the rows a clean build gives.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litmol.settings import RetrievalSettings

from .indexing import DISEASE_RELATIONS, indexed_pairs
from .mesh import Thesaurus
from .relations import RelationModel, candidates
from .store import (
    BASE,
    COMPLETE,
    FINGERPRINT,
    INDEX_BUILD,
    SCHEMA,
    SCRATCH,
    build_lock,
    code_fingerprint,
    links_path,
    new_staging,
    publish,
    read_meta,
    remove,
    staging_path,
    vocabulary_cache,
)
from .tagger import Tagger
from .vocab import Vocabulary, default_vocabulary, natural, normalize, save_vocabulary

logger = logging.getLogger(__name__)


def _docs(settings: RetrievalSettings) -> tuple[sqlite3.Connection, str]:
    """A read-only connection to the current index build's articles, and the identity of their content
    (the metadata file's checksum: the same through the dense stage, new with any added article)."""
    from litmol.retrieval.index import read_manifest, verify_file

    build, manifest = read_manifest(settings.index_root)
    path = verify_file(build, manifest["metadata"], checksum=False)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return conn, str(manifest["metadata"]["sha256"])


def index_articles(settings: RetrievalSettings) -> tuple[int, Iterator[tuple[str, str, str, int | None]]]:
    """(count, iterator of (pmid, title, abstract, year)) over the current index build.

    The miner's only door to the corpus: the MeSH column is never selected (leakage rule).
    """
    conn, _ = _docs(settings)
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
    conn, _ = _docs(settings)
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
    """Keep the links the MeSH indexing of `pmids` states, in the caller's transaction; returns how many."""
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
    return n


def _store_mesh_names(conn: sqlite3.Connection) -> int:
    """MeSH names, entry terms (either word order) and tree numbers of the table's concepts, so that a query
    resolves "infantile diarrhea" or gathers narrower headings without loading the thesaurus."""
    thesaurus = Thesaurus.load()
    conn.execute("DELETE FROM names")
    conn.execute("DELETE FROM trees")
    if thesaurus is None:
        return 0
    names, trees = [], []
    for (cid,) in conn.execute("SELECT id FROM concepts ORDER BY id").fetchall():
        d = thesaurus.get(cid)
        if d is None:
            continue
        for i, text in enumerate((d.name, *d.entry_terms)):
            for form in sorted({" ".join(normalize(text)), " ".join(normalize(natural(text)))}):
                if form:
                    names.append((form, cid, int(i == 0)))
        trees += [(cid, t) for t in d.trees]
    conn.executemany("INSERT INTO names VALUES (?,?,?)", names)
    conn.executemany("INSERT INTO trees VALUES (?,?)", trees)
    return len(names)


def _text(title: str, abstract: str) -> str:
    title = (title or "").strip()
    if title and not title.endswith((".", "?", "!")):
        title += "."
    return f"{title} {(abstract or '').strip()}".strip()


def _open_building(path: Path, fingerprint: str, index_id: str, rebuild: bool,
                   index_pmids: set[str]) -> tuple[sqlite3.Connection | None, bool]:
    """The building file this build writes, and whether it resumes one: the interrupted one when it can be
    resumed (same code and sources, same index content, and built from scratch or from the table still
    published), else a new one (a copy of the published table for an incremental build, empty otherwise).
    (None, False): nothing to do."""
    staging = staging_path(path)
    published = read_meta(path)
    held = read_meta(staging, writable=True)
    if held:
        base_ok = held.get(BASE) == SCRATCH or (not rebuild and held.get(BASE) == published.get(COMPLETE))
        if held.get(FINGERPRINT) == fingerprint and held.get(INDEX_BUILD) == index_id and base_ok:
            conn = sqlite3.connect(staging)
            conn.executescript(SCHEMA)
            n = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            logger.info("resuming the interrupted links build (%d articles done)", n)
            return conn, True
        logger.info("discarding an interrupted links build of other code, index or base")
    remove(staging)
    meta = {FINGERPRINT: fingerprint, INDEX_BUILD: index_id}
    if not rebuild and published.get(COMPLETE) and published.get(FINGERPRINT) == fingerprint:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        done = {r[0] for r in conn.execute("SELECT pmid FROM articles")}
        conn.close()
        if index_pmids <= done:
            return None, False
        return new_staging(path, {**meta, BASE: published[COMPLETE]}, copy=True), False
    if published and not rebuild:
        logger.info("vocabulary, model or sources changed (or the table is incomplete): mining every article again")
    return new_staging(path, {**meta, BASE: SCRATCH}, copy=False), False


def build_links(settings: RetrievalSettings | None = None, progress: bool = True, rebuild: bool = False,
                vocab: Vocabulary | None = None, model: RelationModel | None = None,
                indexing: bool = True) -> dict[str, Any]:
    """Mine the index's articles into the link table (only new ones unless `rebuild`); with `indexing`,
    also keep the links their MeSH indexing states. Publishes the table whole; resumes a killed build."""
    from litmol.retrieval.index import read_manifest

    settings = settings or RetrievalSettings()
    read_manifest(settings.index_root)  # no index: EmptyIndexError before anything is written
    path = links_path(settings)
    with build_lock(path):
        return _build(settings, path, progress, rebuild, vocab, model, indexing)


def _build(settings: RetrievalSettings, path: Path, progress: bool, rebuild: bool, vocab: Vocabulary | None,
           model: RelationModel | None, indexing: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    docs, index_id = _docs(settings)
    index_pmids = {r[0] for r in docs.execute("SELECT pmid FROM docs")}
    docs.close()
    code = code_fingerprint()
    fingerprint = code + ("+indexing" if indexing else "")
    conn, resumed = _open_building(path, fingerprint, index_id, rebuild, index_pmids)
    if conn is None:
        return {"path": str(path), "articles": len(index_pmids), "new_articles": 0, "new_pairs": 0,
                "new_indexed": 0, "resumed_at": None, "seconds": round(time.perf_counter() - t0, 2),
                "abstracts_per_s": None}
    try:
        report = _mine(settings, path, conn, resumed, progress, vocab, model, indexing, code)
    finally:
        conn.close()  # after a failure: what was not committed is rolled back; the next build resumes
    for stale in path.parent.glob(f"{path.stem}.vocabulary-*.json"):
        if stale != vocabulary_cache(path, code):
            stale.unlink(missing_ok=True)
    return report | {"seconds": round(time.perf_counter() - t0, 2)}


def _mine(settings: RetrievalSettings, path: Path, conn: sqlite3.Connection, resumed: bool, progress: bool,
          vocab: Vocabulary | None, model: RelationModel | None, indexing: bool, code: str) -> dict[str, Any]:
    """Mine every index article the building file lacks, store the indexing links of the pending ones and
    the MeSH names, and publish."""
    from tqdm import tqdm

    default = vocab is None
    vocab = vocab or default_vocabulary()
    model = model or RelationModel.load()
    tagger = Tagger(vocab)
    approved = vocab.approved_ids()
    if default and not vocabulary_cache(path, code).is_file():
        save_vocabulary(vocab, vocabulary_cache(path, code))
    total, rows = index_articles(settings)
    done = {r[0] for r in conn.execute("SELECT pmid FROM articles")}
    resumed_at = len(done) if resumed else None
    seen_concepts: set[str] = {r[0] for r in conn.execute("SELECT id FROM concepts")}
    new_articles = new_pairs = 0
    mined_t = 0.0
    batch_pairs, batch_mentions, batch_articles = [], [], []

    def flush() -> None:  # one checkpoint: these articles with all their rows, or none of them
        conn.executemany("INSERT INTO pairs VALUES (?,?,?,?,?,?,?)", batch_pairs)
        conn.executemany("INSERT INTO mentions VALUES (?,?,?)", batch_mentions)
        conn.executemany("INSERT OR REPLACE INTO articles VALUES (?,?)", batch_articles)
        if indexing:
            conn.executemany("INSERT OR IGNORE INTO pending VALUES (?)", ((a[0],) for a in batch_articles))
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
            for cid in sorted(counts.keys() - seen_concepts):
                concept = vocab.concepts[cid]
                conn.execute("INSERT OR REPLACE INTO concepts VALUES (?,?,?)", (cid, concept.label, concept.type))
                seen_concepts.add(cid)
            batch_articles.append((pmid, year))
            new_articles += 1
            new_pairs += len(cands)
            if len(batch_articles) >= settings.checkpoint_rows:
                flush()
            bar.update(1)
    flush()
    pending = {r[0] for r in conn.execute("SELECT pmid FROM pending")}
    new_indexed = _store_indexing(conn, settings, pending, vocab, seen_concepts) if pending else 0
    conn.execute("DELETE FROM pending")
    conn.commit()  # the indexing links of every pending article, and none pending: one transaction
    _store_mesh_names(conn)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('thresholds', ?)", (json.dumps(model.thresholds),))
    n_articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    publish(conn, path)  # commits names, thresholds and the complete mark, then renames
    return {"path": str(path), "articles": n_articles, "new_articles": new_articles, "new_pairs": new_pairs,
            "new_indexed": new_indexed, "resumed_at": resumed_at,
            "abstracts_per_s": round(new_articles / mined_t, 1) if mined_t else None}
