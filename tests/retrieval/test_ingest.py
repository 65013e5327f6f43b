"""Ingestion of real MEDLINE XML, JSONL and CSV: counts, dedupe, damage, bad input."""

from __future__ import annotations

import gzip
import json

import pytest

from litmol.retrieval import CorpusError, collect_records
from litmol.retrieval.records import parse_mesh_string
from tests.conftest import DATA, SLICE


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


# -- damaged and hostile files (issue 15, item 8) ---------------------------------------------
def test_truncated_gzip_bytes_are_reported_as_damage(tmp_path):
    """A .xml.gz cut mid-stream (the bytes, not the XML) keeps what was read and names the file."""
    data = SLICE.read_bytes()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(data[: len(data) // 2])
    records, report = collect_records([cut])
    assert 100 < report.read < 360 and 0 < len(records) < 320
    assert len(report.damaged) == 1
    damage = report.damaged[0]
    assert damage.path == str(cut) and damage.records_read == report.read
    assert "end-of-stream" in damage.reason
    assert report.to_dict()["damaged"][0]["records_read"] == report.read
    assert f"damaged: 1 file ({cut}: after {report.read} records" in report.summary()


def test_file_that_is_not_gzip_is_damage_with_no_records(tmp_path):
    fake = tmp_path / "fake.xml.gz"
    fake.write_bytes((DATA / "molecules.csv").read_bytes())
    records, report = collect_records([fake])
    assert records == [] and report.read == 0
    assert [(d.path, d.records_read) for d in report.damaged] == [(str(fake), 0)]
    assert "Not a gzipped file" in report.damaged[0].reason


def test_binary_jsonl_and_csv_are_damage_naming_file_and_line(tmp_path):
    binary = SLICE.read_bytes()[:4000]  # real gzip bytes: not UTF-8 text
    good = json.dumps({"pmid": "7", "title": "T", "abstract": "A"}) + "\n"
    jsonl = tmp_path / "bin.jsonl"
    jsonl.write_bytes(good.encode() + binary)
    records, report = collect_records([jsonl])
    assert [r.pmid for r in records] == ["7"]
    assert [(d.path, d.line, d.records_read) for d in report.damaged] == [(str(jsonl), 2, 1)]
    assert "not UTF-8" in report.damaged[0].reason
    table = tmp_path / "bin.csv"
    table.write_bytes(b"pmid,title,abstract\n8,T,A\n" + binary)
    records, report = collect_records([table])
    assert [r.pmid for r in records] == ["8"]
    assert [(d.path, d.line, d.records_read) for d in report.damaged] == [(str(table), 3, 1)]
    assert "not UTF-8" in report.damaged[0].reason


def test_oversized_csv_field_is_damage_naming_file_and_line(tmp_path):
    table = tmp_path / "long.csv"
    table.write_text('pmid,title,abstract\n8,T,A\n9,"unclosed quote,' + "x" * 200_000 + "\n10,U,B\n")
    records, report = collect_records([table])
    assert [r.pmid for r in records] == ["8"]
    (damage,) = report.damaged
    assert damage.path == str(table) and damage.line == 3 and "field larger than" in damage.reason


def test_oversized_jsonl_line_is_a_counted_skip_naming_file_and_line(tmp_path):
    path = tmp_path / "long.jsonl"
    rows = [{"pmid": "1", "title": "T", "abstract": "x" * 2_000_000}, {"pmid": "2", "title": "U", "abstract": "B"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    records, report = collect_records([path])
    assert [r.pmid for r in records] == ["2"] and not report.damaged
    assert report.skipped == {"oversized line": 1}
    size = len(json.dumps(rows[0])) + 1
    assert report.examples["oversized line"] == [f"{path.name}:1: {size:,} bytes (at most 1,048,576)"]


def test_bad_pmids_are_counted_skips_naming_file_and_line(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"pmid": "abc-not-numeric", "title": "T", "abstract": "A"},
            {"pmid": "1234567890", "title": "T", "abstract": "A"},
            {"pmid": " 42 ", "title": "Fine", "abstract": "A"},
            {"pmid": 43, "title": "Also fine", "abstract": "A"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    records, report = collect_records([path])
    assert [r.pmid for r in records] == ["42", "43"]
    assert report.skipped == {"bad PMID (not 1-9 digits)": 2}
    assert report.examples["bad PMID (not 1-9 digits)"] == [
        "mine.jsonl:1: 'abc-not-numeric'", "mine.jsonl:2: '1234567890'"]
    assert "mine.jsonl:1: 'abc-not-numeric'" in json.dumps(report.to_dict())
    table = tmp_path / "mine.csv"
    table.write_text("pmid,title,abstract\n12a,T,A\n13,T,A\n")
    records, report = collect_records([table])
    assert [r.pmid for r in records] == ["13"]
    assert report.examples["bad PMID (not 1-9 digits)"] == ["mine.csv:2: '12a'"]


def test_bad_pmid_in_real_medline_xml_names_the_line(tmp_path):
    raw = gzip.decompress(SLICE.read_bytes()).decode()
    first = raw.index("<PMID")
    pmid = raw[raw.index(">", first) + 1 : raw.index("</PMID>", first)]
    edited = tmp_path / "edited.xml"
    edited.write_text(raw.replace(f">{pmid}</PMID>", ">abc-not-numeric</PMID>", 1))
    line = raw[:first].count("\n") + 1
    records, report = collect_records([edited])
    assert report.read == 360 and pmid not in {r.pmid for r in records}
    assert report.skipped["bad PMID (not 1-9 digits)"] == 1
    (example,) = report.examples["bad PMID (not 1-9 digits)"]
    assert example.startswith("edited.xml:") and example.endswith(": 'abc-not-numeric'")
    assert int(example.split(":")[1]) <= line
