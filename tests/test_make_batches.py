"""The scripted question batches (corpora/eval/make_batches.py) and their committed files."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "corpora" / "eval"
SLICE = Path(__file__).parent / "data" / "pubmed_slice.xml.gz"
SPLITS = ("train", "dev", "test")
ALLOWED_KEYS = {"id", "question", "type", "gold", "gold_pmids", "meta"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_batches", EVAL / "make_batches.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_batches"] = module
    spec.loader.exec_module(module)
    return module


mb = _load_generator()


def _rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _committed() -> dict[str, list[dict[str, Any]]]:
    return {s: _rows((EVAL / f"batch_{s}.jsonl").read_text(encoding="utf-8")) for s in SPLITS}


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def check_record(row: dict[str, Any]) -> None:
    """The evaluator's schema, strictly: known keys only, gold shaped by type, provenance in meta."""
    assert set(row) <= ALLOWED_KEYS, set(row) - ALLOWED_KEYS
    assert {"id", "question", "type", "meta"} <= set(row)
    assert isinstance(row["id"], str) and row["id"].strip()
    assert isinstance(row["question"], str) and row["question"] == row["question"].strip() != ""
    meta = row["meta"]
    assert meta["generated"] is True and meta["source"] and meta["template"] and meta["subject"]
    kind, gold, pmids = row["type"], row.get("gold"), row.get("gold_pmids")
    if pmids is not None:
        assert pmids and all(isinstance(p, str) and p.isdigit() for p in pmids)
        assert pmids == sorted(set(pmids))
    if kind == "yesno":
        assert gold in ("yes", "no") and pmids is None
    elif kind == "short":
        assert (isinstance(gold, str) and gold.strip()) or _strings(gold)
    elif kind == "list":
        assert isinstance(gold, list) and gold
        assert all((isinstance(i, str) and i.strip()) or _strings(i) for i in gold)
    elif kind == "pmids":
        assert "gold" not in row and pmids
    elif kind == "open":
        assert "gold" not in row
    else:
        raise AssertionError(f"unknown type {kind!r}")


@pytest.fixture(scope="module")
def slice_records() -> list[Any]:
    from litmol.retrieval.ingest import collect_records

    records, _ = collect_records([SLICE], workers=1)
    return records


@pytest.fixture(scope="module")
def small_build(slice_records) -> dict[str, str]:
    """Every kind, with the pairs of the test slice instead of the whole default corpus."""
    return mb.build_batches(slice_records)


def test_build_is_deterministic(small_build, slice_records):
    again = mb.build_batches(slice_records)
    assert again == small_build
    rows = [r for s in SPLITS for r in _rows(small_build[f"batch_{s}.jsonl"])]
    kinds = Counter(r["id"].rsplit("-", 1)[0] for r in rows)
    assert kinds["b3db"] == mb.QUOTAS["b3db"] and kinds["atc"] == mb.QUOTAS["atc"]
    assert kinds["mesh-treats"] > 0 and kinds["mesh-causes"] > 0  # the slice holds both kinds of pair


def test_records_follow_the_schema(small_build):
    for s in SPLITS:
        for row in _rows(small_build[f"batch_{s}.jsonl"]):
            check_record(row)
    for rows in _committed().values():
        for row in rows:
            check_record(row)


def test_splits_share_no_id_and_no_subject():
    committed = _committed()
    seen_ids: dict[str, str] = {}
    seen_subjects: dict[str, str] = {}
    for split, rows in committed.items():
        for row in rows:
            assert seen_ids.setdefault(row["id"], split) == split, row["id"]
            assert seen_subjects.setdefault(row["meta"]["subject"], split) == split, row["meta"]["subject"]
            assert mb.split_of(row["meta"]["subject"], mb.held_subjects()) == split
    assert len(seen_ids) == sum(len(rows) for rows in committed.values())


def test_subjects_of_other_sets_stay_out_of_train():
    held = mb.held_subjects()
    assert "test" in held.values() and "dev" in held.values()
    assert mb.split_of("mesh:Propranolol|Hypertension", {"mesh:Propranolol|Hypertension": "test"}) == "test"
    for subject, split in held.items():
        assert mb.split_of(subject, held) != "train"
        if split == "test":
            assert mb.split_of(subject, held) == "test"


def test_split_sizes_and_yes_no_balance():
    committed = _committed()
    sizes = {s: len(rows) for s, rows in committed.items()}
    assert 60 <= sizes["dev"] <= 120
    assert sizes["train"] > sizes["dev"] and sizes["train"] > sizes["test"]
    for rows in committed.values():
        golds = [r["gold"] for r in rows if r["type"] == "yesno"]
        assert golds and 0.3 <= golds.count("yes") / len(golds) <= 0.7
    every = [r["gold"] for rows in committed.values() for r in rows if r["type"] == "yesno"]
    assert every.count("yes") == every.count("no")


def test_gold_values_match_the_sources():
    import pandas as pd

    table = pd.read_csv(mb.b3db_path(), sep="\t", usecols=["NO.", "BBB+/BBB-"]).set_index("NO.")
    rows = [r for rs in _committed().values() for r in rs]
    b3db = [r for r in rows if r["meta"]["source"].startswith("B3DB")]
    for row in b3db:
        labels = {table.loc[int(ref.split(":")[0]), "BBB+/BBB-"] for ref in row["meta"]["b3db_rows"]}
        assert labels == {"BBB+" if row["gold"] == "yes" else "BBB-"}
    approval = [r for r in rows if r["id"].startswith("approval-")]
    assert all(r["meta"]["tolerance"] == 0 and mb.MIN_APPROVAL_YEAR <= int(r["gold"]) <= 2030 for r in approval)
    groups = {r["meta"]["atc_group"]: r["gold"][0] for r in rows if r["id"].startswith("atc-0")}
    assert groups.get("N") == "Nervous system" and "V" not in groups


def test_committed_molecule_questions_match_a_fresh_generation():
    """The B3DB, ATC and approval questions (fast to rebuild) equal the committed ones, split by split."""
    fresh = [*mb.b3db_questions(), *mb.atc_questions(), *mb.approval_questions()]
    expected = mb.split_questions(fresh, mb.held_subjects())
    for split, rows in _committed().items():
        kept = [r for r in rows if not r["id"].startswith(("mesh-", "open-"))]
        assert kept == expected[split]


@pytest.mark.slow
def test_committed_files_equal_a_fresh_generation(tmp_path):
    """Byte for byte, with the whole default corpus (about two minutes on two cores)."""
    mb.main(["--out", str(tmp_path)])
    for s in SPLITS:
        name = f"batch_{s}.jsonl"
        assert (tmp_path / name).read_bytes() == (EVAL / name).read_bytes(), name
