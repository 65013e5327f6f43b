"""Ingestion of real MEDLINE XML, JSONL and CSV: counts, dedupe, damage, bad input."""

from __future__ import annotations

import gzip
import json

import pytest

from retrieval import CorpusError, collect_records
from retrieval.records import parse_mesh_string
from tests.conftest import SLICE


def test_slice_counts_and_fields(slice_records):
    records, report = slice_records
    assert report.read == 360
    assert report.kept == 320
    assert report.skipped["no abstract"] == 40
    by_pmid = {r.pmid: r for r in records}
    assert len(by_pmid) == 320
    rec = next(r for r in records if any(m.qualifiers for m in r.mesh))
    assert rec.year and 1970 < rec.year < 2022
    assert rec.journal and rec.title and rec.abstract
    assert "Journal Article" in " ".join(r.publication_types[0] for r in records if r.publication_types)


def test_mesh_qualifiers_and_major_topic():
    mesh = parse_mesh_string(
        "D000818:Animals; D008550:Melatonin / Q000502:physiology; "
        "D010870:Pineal Gland / Q000033:anatomy & histology / Q000502:physiology*"
    )
    assert [m.name for m in mesh] == ["Animals", "Melatonin", "Pineal Gland"]
    assert mesh[2].qualifiers == ["anatomy & histology", "physiology"]
    assert mesh[2].major and not mesh[1].major
    assert mesh[1].ui == "D008550"


def test_jsonl_dedupe_newer_version_wins_and_bad_lines_counted(tmp_path):
    path = tmp_path / "mine.jsonl"
    lines = [
        json.dumps({"pmid": "1", "title": "Old title", "abstract": "old text", "year": 2001}),
        "{not json",
        json.dumps({"pmid": "2", "title": "No abstract here"}),
        json.dumps(["a", "list"]),
        json.dumps({"pmid": "1", "title": "New title", "abstract": "new text", "year": "2003-05",
                    "mesh": [{"name": "Aspirin", "qualifiers": ["therapeutic use"]}]}),
        "",
    ]
    path.write_text("\n".join(lines))
    records, report = collect_records([path])
    assert [(r.pmid, r.title, r.year) for r in records] == [("1", "New title", 2003)]
    assert records[0].mesh[0].qualifiers == ["therapeutic use"]
    assert report.read == 5
    assert report.replaced == 1
    assert report.skipped == {"malformed JSON line": 2, "no abstract": 1}
    records, report = collect_records([path], keep_title_only=True)
    assert {r.pmid for r in records} == {"1", "2"}


def test_truncated_gzip_keeps_records_before_the_damage(tmp_path):
    raw = gzip.decompress(SLICE.read_bytes())
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    records, report = collect_records([cut])
    assert 100 < report.read < 360
    assert 0 < len(records) < 320
    assert report.skipped["file damaged (records after the damage lost)"] == 1


def test_damaged_file_does_not_lose_the_rest_of_the_batch(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation>")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"pmid": "7", "title": "T", "abstract": "A"}) + "\n")
    records, report = collect_records([bad, good])
    assert [r.pmid for r in records] == ["7"]
    assert report.skipped["file damaged (records after the damage lost)"] == 1


def test_csv_reader_and_missing_columns(tmp_path):
    ok = tmp_path / "a.csv"
    ok.write_text('pmid,title,abstract,year,journal\n11,"Statins, a review",Lipids fall.,1999,J Lip\n12,,,,\n')
    records, report = collect_records([ok])
    assert [(r.pmid, r.title, r.year, r.journal) for r in records] == [("11", "Statins, a review", 1999, "J Lip")]
    assert report.skipped["no title or abstract"] == 1
    bad = tmp_path / "b.csv"
    bad.write_text("id,text\n1,x\n")
    with pytest.raises(CorpusError, match="pmid and title"):
        collect_records([bad])


def test_unknown_format_and_missing_file_fail_before_reading(tmp_path):
    with pytest.raises(CorpusError, match="unknown corpus format"):
        collect_records([tmp_path / "notes.txt"])
    with pytest.raises(CorpusError, match="no such file"):
        collect_records([tmp_path / "missing.jsonl"])


def test_delete_citation_removes_earlier_record(tmp_path):
    update = tmp_path / "update.xml"
    update.write_text("<PubmedArticleSet><DeleteCitation><PMID Version=\"1\">1</PMID></DeleteCitation></PubmedArticleSet>")
    base = tmp_path / "base.jsonl"
    base.write_text(json.dumps({"pmid": "1", "title": "T", "abstract": "A"}) + "\n"
                    + json.dumps({"pmid": "2", "title": "U", "abstract": "B"}) + "\n")
    records, report = collect_records([base, update])
    assert [r.pmid for r in records] == ["2"]
    assert report.deleted == 1
