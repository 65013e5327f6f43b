"""Drug–disease link mining against the MeSH silver key, its throughput and query latency.

Quality: the miner (dictionary tagger + relation classifier, links/) runs on the dev
and test articles of pubmed20n0014 (titles and abstracts only; MeSH dropped on reading) and is
scored with corpora/links/key.jsonl at the article-pair level and the corpus level (pairs
pooled over the articles), per relation, against three versions of the key:
  * full      every key pair (many name drug classes, or drugs only the full text names);
  * in_text   key pairs whose abstract names the drug and the disease (the `in_text` flag);
  * relaxed   in_text, a MeSH parent or child of the key's concept also counting
              ("Arthritis" for "Arthritis, Experimental").
Two baselines run on the same candidates: every co-mentioned pair (the recall ceiling of the
tagger) and a sentence-cue rule (treats if a shared sentence says treat/therapy/effective,
causes if it says induced/toxicity/adverse); and an oracle that labels every candidate as the
key does (strict match), which is the best any relation classifier could do on these
candidates: its recall is the tagger's ceiling. Tagger coverage: the share of in-text key pairs
whose drug and disease are both tagged. Key vs. reading: the share of test MeSH pairs "drug given
for a disease" (qualifiers in the broad sense) that the key's strict TU x DT rule calls treats.

Speed: tagging + scoring in abstracts/s (test articles, one core), and the time to answer a
`links --disease` query on the built default index's link table (p50/p95 over diseases),
next to the time to open the table.

    python bench/links_eval.py          # needs `litmol links build` for the latency part
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

TREAT_CUE = re.compile(r"\btreat|therap|\beffective|\befficac|\bmanagement of")
CAUSE_CUE = re.compile(r"induced|toxicit|adverse|\bcaused\b|poisoning|side effect")


def cue_label(evidence: str) -> str:
    low = evidence.lower()
    if CAUSE_CUE.search(low):
        return "causes"
    if TREAT_CUE.search(low):
        return "treats"
    return "other"


def quality(split_name: str, cands: dict, model, gold, matcher, relaxed) -> list[dict]:
    from litmol.links.key import evaluate, labels_for

    gold_by_pmid = defaultdict(list)
    for g in gold:
        gold_by_pmid[g.pmid].append(g)
    methods = {
        # the ceiling of this tagger: a relation classifier that is right on every candidate
        "oracle relations": [(p, rel, c.drug, c.disease) for p, cs in cands.items() for c in cs
                             for rel in labels_for(p, c.drug, c.disease, gold_by_pmid, matcher)],
        "miner": [(p, model.label(c.probs), c.drug, c.disease) for p, cs in cands.items() for c in model.score(cs)],
        "co-mention": [(p, rel, c.drug, c.disease) for p, cs in cands.items() for c in cs for rel in ("treats", "causes")],
        "sentence cues": [(p, cue_label(c.evidence), c.drug, c.disease) for p, cs in cands.items() for c in cs
                          if c.features.get("no_shared_sentence") == 0.0],
    }
    rows = []
    for method, predicted in methods.items():
        predicted = [x for x in predicted if x[1] != "other"]
        for key_name, m, in_text in (("full", matcher, False), ("in_text", matcher, True), ("relaxed", relaxed, True)):
            res = evaluate(predicted, gold, m, in_text_only=in_text)
            for level in ("article", "corpus"):
                for rel, r in res[level].items():
                    rows.append({"split": split_name, "method": method, "key": key_name, "level": level,
                                 "relation": rel, "P": r["precision"], "R": r["recall"], "F1": r["f1"],
                                 "predicted": r["predicted"], "gold": r["gold"]})
    return rows


def coverage(cands: dict, gold, matcher) -> dict:
    """Share of in-text key pairs whose drug and disease are both among an article's candidates."""
    by_pmid = defaultdict(list)
    for p, cs in cands.items():
        by_pmid[p] = cs
    out = {}
    for rel in ("treats", "causes"):
        pairs = [g for g in gold if g.relation == rel and g.in_text]
        hit = sum(any(matcher.same(c.drug, g.drug_ui, g.drug) and matcher.same(c.disease, g.disease_ui, g.disease)
                      for c in by_pmid.get(g.pmid, ())) for g in pairs)
        out[rel] = round(hit / len(pairs), 4) if pairs else None
    return out


def qualifier_ambiguity(records, split_name: str) -> dict:
    """How much of "drug given for a disease" the key calls treats: among the test articles' MeSH
    pairs of a key drug with *therapeutic use* or *administration & dosage* and another heading
    with *drug therapy*, *prevention & control* or *therapy*, the share that are key pairs
    (TU x DT). Evaluation side only: it reads the MeSH that the miner never sees."""
    from litmol.links.key import load_key, load_split

    split = load_split()
    key_drugs = {r["drug"] for r in load_key()}
    broad, strict = set(), set()
    for rec in records:
        if split.get(rec.pmid) != split_name:
            continue
        for d in rec.mesh:
            dq = set(d.qualifiers)
            if d.name not in key_drugs or not dq & {"therapeutic use", "administration & dosage"}:
                continue
            for s in rec.mesh:
                sq = set(s.qualifiers)
                if s.name != d.name and sq & {"drug therapy", "prevention & control", "therapy"}:
                    broad.add((rec.pmid, d.name, s.name))
                    if "therapeutic use" in dq and "drug therapy" in sq:
                        strict.add((rec.pmid, d.name, s.name))
    return {"drug_for_disease_pairs": len(broad), "key_treats_pairs": len(strict),
            "share_in_key": round(len(strict) / len(broad), 3) if broad else None}


def is_named_drug(ui: str, thesaurus) -> bool:
    """A named drug, not a class: a MeSH leaf outside the pharmacologic-action tree (D27)."""
    d = thesaurus.get(ui) if thesaurus is not None else None
    if d is None:
        return True
    return not d.under(("D27",)) and not thesaurus.narrower(ui, limit=1)


def ranked_lists(cands: dict, indexed: dict, gold, matcher, thesaurus, k: int = 20) -> list[dict]:
    """Corpus level, test articles: for every key disease with >= 2 named treats drugs, the drugs ranked
    (a) by text mining alone (noisy-OR of the articles' p_treats), (b) by text + PubMed indexing (an indexed
    article counts INDEXING_P, as in the product) and (c) by co-mention count; recall@k and MAP of the key's
    named drugs."""
    import math

    from litmol.links.table import INDEXING_P

    wanted: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for g in gold:
        if g.relation == "treats" and is_named_drug(g.drug_ui, thesaurus):
            wanted[(g.disease_ui, g.disease)].add((g.drug_ui, g.drug))
    wanted = {d: drugs for d, drugs in wanted.items() if len(drugs) >= 2}
    # per method: disease concept -> drug concept -> per-article p
    text: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    co: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for pmid, cs in cands.items():
        for c in cs:
            text[c.disease][c.drug][pmid] = max(c.probs["treats"], text[c.disease][c.drug].get(pmid, 0.0))
            co[c.disease][c.drug].add(pmid)
    both: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for s, drugs in text.items():
        for d, per in drugs.items():
            both[s][d].update(per)
    for pmid, pairs in indexed.items():
        for drug_ui, disease_ui in pairs:
            both[disease_ui][drug_ui][pmid] = max(INDEXING_P, both[disease_ui][drug_ui].get(pmid, 0.0))

    def noisy_or(per: dict[str, float]) -> float:
        return 1 - math.exp(sum(math.log(max(1e-9, 1 - p)) for p in per.values()))

    scorers = {"text only": (text, noisy_or), "text + indexing": (both, noisy_or),
               "co-mention count": (co, lambda pmids: len(pmids))}
    rows = []
    for method, (table_, score) in scorers.items():
        recalls, aps = [], []
        for (s_ui, s_name), drugs in wanted.items():
            scored: dict[str, float] = defaultdict(float)
            for s_cid, per_drug in table_.items():
                if not matcher.same(s_cid, s_ui, s_name):
                    continue
                for d_cid, per in per_drug.items():
                    scored[d_cid] = max(scored[d_cid], score(per))
            ranked = sorted(scored, key=lambda d: (-scored[d], d))[:k]
            found, hits, precisions = set(), 0, []
            for i, d_cid in enumerate(ranked, 1):
                match = next((g for g in drugs if g not in found and matcher.same(d_cid, *g)), None)
                if match is not None:
                    found.add(match)
                    hits += 1
                    precisions.append(hits / i)
            recalls.append(len(found) / len(drugs))
            aps.append(sum(precisions) / len(drugs))
        rows.append({"method": method, "diseases": len(wanted), f"recall@{k}": round(statistics.mean(recalls), 4),
                     "MAP": round(statistics.mean(aps), 4)})
    base = next(r for r in rows if r["method"] == "co-mention count")
    for r in rows:
        r["x_co_mention"] = round(r[f"recall@{k}"] / base[f"recall@{k}"], 2) if base[f"recall@{k}"] else None
    return rows


def resolution(gold, thesaurus) -> dict:
    """Share of the test key's MeSH disease headings that a `links --disease` query resolves, written as
    the heading ("Diarrhea, Infantile") and in reading order ("Infantile Diarrhea"), on the built table."""
    from litmol.links.table import LinkTable
    from litmol.links.vocab import natural
    from litmol.retrieval import BadQueryError, RetrievalSettings

    table_ = LinkTable.open(RetrievalSettings())
    headings = sorted({g.disease for g in gold})
    out, failed = {}, []
    for form, write in (("heading", lambda n: n), ("reading order", natural)):
        ok = 0
        for name in headings:
            try:
                table_.resolve(write(name), "disease")
                ok += 1
            except BadQueryError:
                failed.append(write(name))
        out[form] = round(ok / len(headings), 4)
    out["headings"] = len(headings)
    out["failed"] = failed[:20]
    return out


def latency(n_queries: int) -> dict:
    from litmol.links.table import LinkTable
    from litmol.retrieval import RetrievalSettings

    t0 = time.perf_counter()
    table_ = LinkTable.open(RetrievalSettings())
    open_s = time.perf_counter() - t0
    diseases = [name for (name,) in table_.conn.execute(
        "SELECT c.name FROM pairs p JOIN concepts c ON c.id = p.disease WHERE p.relation != 'other' "
        "GROUP BY p.disease ORDER BY COUNT(*) DESC LIMIT ?", (n_queries,))]
    times, hyp_times = [], []
    for name in diseases:
        t1 = time.perf_counter()
        table_.links(disease=name)
        times.append((time.perf_counter() - t1) * 1000)
    for name in diseases[:10]:
        t1 = time.perf_counter()
        table_.hypotheses(name)
        hyp_times.append((time.perf_counter() - t1) * 1000)
    cli = []
    for name in diseases[:3]:  # a user's whole command: start, open the table, answer, print
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "litmol.cli", "links", "--disease", name, "--json"],
                       capture_output=True, check=True)
        cli.append(time.perf_counter() - t1)
    q = statistics.quantiles(times, n=20) if len(times) > 1 else times * 19
    return {"queries": len(times), "articles_in_table": table_.n_articles, "open_s": round(open_s, 2),
            "links_p50_ms": round(statistics.median(times), 1), "links_p95_ms": round(q[18], 1),
            "links_max_ms": round(max(times), 1), "hypotheses_p50_ms": round(statistics.median(hyp_times), 1),
            "hypotheses_max_ms": round(max(hyp_times), 1), "cli_s": [round(x, 2) for x in cli]}


def main() -> None:
    ap = arg_parser(__doc__)
    ap.add_argument("--queries", type=int, default=50, help="diseases queried for latency (default 50)")
    ap.add_argument("--no-latency", action="store_true", help="skip the link-table latency part")
    args = ap.parse_args()

    from litmol.links.key import Matcher, gold_pairs, load_key, load_split
    from litmol.links.relations import RelationModel, candidates
    from litmol.links.tagger import Tagger
    from litmol.links.train import key_articles, key_corpus_records
    from litmol.links.vocab import default_vocabulary

    vocab = default_vocabulary()
    tagger, model = Tagger(vocab), RelationModel.load()
    approved = vocab.approved_ids()
    matcher, relaxed = Matcher(vocab), Matcher(vocab, relaxed=True)
    split = load_split()
    from litmol.links.indexing import indexed_pairs
    from litmol.links.mesh import Thesaurus

    thesaurus = Thesaurus.load()
    parsed = key_corpus_records()  # one parse: the MeSH serve the key-vs-reading figure, then are dropped
    ambiguity = qualifier_ambiguity(parsed, "test")
    # the indexing source of the test articles (what the product adds to text mining), kept apart from the miner
    indexed = {r.pmid: [(p.drug_ui, p.other_ui) for p in indexed_pairs(r.mesh, thesaurus, ("treats",))]
               for r in parsed if split.get(r.pmid) == "test" and r.mesh}
    records = [r for r in key_articles(parsed) if split.get(r.pmid) in ("dev", "test")]
    del parsed  # a heap of 15k records makes every garbage collection in the latency part slow
    results, rows, split_cands = {"quality": [], "coverage": {}}, [], {}
    for name in ("dev", "test"):
        recs = [r for r in records if split[r.pmid] == name]
        t0 = time.perf_counter()
        cands = {r.pmid: model.score(candidates(r.title, r.abstract, tagger.tag, approved)) for r in recs}
        seconds = time.perf_counter() - t0
        split_cands[name] = cands
        gold = gold_pairs(load_key(name))
        results["quality"] += quality(name, cands, model, gold, matcher, relaxed)
        results["coverage"][name] = coverage(cands, gold, matcher)
        results[f"{name}_abstracts_per_s"] = round(len(recs) / seconds, 1)
        results[f"{name}_articles"] = len(recs)
    rows = [r for r in results["quality"] if r["split"] == "test"]
    print("test split (article-pair level unless 'corpus'):")
    print(table(rows, ["method", "key", "level", "relation", "P", "R", "F1", "predicted", "gold"]))
    print(f"\ntagger coverage of in-text key pairs (test): {results['coverage']['test']}")
    results["ranked_lists"] = ranked_lists(split_cands["test"], indexed, gold_pairs(load_key("test")), matcher, thesaurus)
    print("\nranked treats lists per key disease (test articles, corpus level, key's named drugs):")
    print(table(results["ranked_lists"], ["method", "diseases", "recall@20", "MAP", "x_co_mention"]))
    print(f"tagging + scoring: {results['test_abstracts_per_s']} abstracts/s ({results['test_articles']} test articles)")
    results["qualifier_ambiguity"] = amb = ambiguity
    print(f"key vs. reading: of {amb['drug_for_disease_pairs']} test MeSH pairs 'drug given for a disease' "
          f"(therapeutic use or administration & dosage x drug therapy, prevention & control or therapy), "
          f"{amb['share_in_key']:.0%} are treats in the key")
    if not args.no_latency:
        results["resolution"] = res = resolution(gold_pairs(load_key("test")), thesaurus)
        print(f"query resolution of the test key's {res['headings']} MeSH disease headings: as written "
              f"{res['heading']:.1%}, in reading order {res['reading order']:.1%}; failed e.g. {res['failed'][:5]}")
        results["latency"] = latency(args.queries)
        lat = results["latency"]
        print(f"links --disease: p50 {lat['links_p50_ms']} ms, p95 {lat['links_p95_ms']} ms over {lat['queries']} "
              f"diseases ({lat['articles_in_table']:,} articles); table open {lat['open_s']} s; "
              f"hypotheses p50 {lat['hypotheses_p50_ms']} ms; `litmol links --disease` end to end {lat['cli_s']} s")
    print(f"saved {save('links_eval', results)}")


if __name__ == "__main__":
    main()
