"""Subjects and splits of the scripted question batches (make_batches.py): every question names
its subject (a drug, a MeSH drug-disease pair, an ATC class), and a SHA-256 hash of the subject puts
it in train, dev or test (60/20/20), so no subject crosses splits. Subjects that other committed sets
already use are held out of train: MeSH pairs of retrieval_test.jsonl go to test, subjects of
agent_dev.jsonl to dev when their hash says train."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SPLITS = ("train", "dev", "test")


def drug_subject(inchikey: str) -> str:
    return f"drug:{inchikey[:14]}"


def pair_subject(drug: str, disease: str) -> str:
    return f"mesh:{drug}|{disease}"


def held_subjects() -> dict[str, str]:
    """Subjects other committed sets already use: retrieval-test pairs -> test, agent-dev ones -> dev."""
    pair = re.compile(r"^MeSH pair: (.+) x (.+)$")
    retrieval: dict[str, dict[str, Any]] = {}
    held: dict[str, str] = {}
    for split in ("dev", "test"):
        path = HERE / f"retrieval_{split}.jsonl"
        for row in map(json.loads, path.read_text().splitlines() if path.exists() else []):
            retrieval[row["id"]] = row
            m = pair.match(row.get("source", ""))
            if m and split == "test":
                held[pair_subject(*m.groups())] = "test"
    path = HERE / "agent_dev.jsonl"
    for row in map(json.loads, path.read_text().splitlines() if path.exists() else []):
        m = pair.match(retrieval.get(row.get("from") or "", {}).get("source", ""))
        if m:
            held.setdefault(pair_subject(*m.groups()), "dev")
        if row.get("molecule"):
            held.setdefault(drug_subject(row["molecule"]["inchikey"]), "dev")
    return held


def split_of(subject: str, held: dict[str, str] | None = None) -> str:
    """60/20/20 by a hash of the subject; a held subject never lands in train (see module doc)."""
    bucket = int(hashlib.sha256(subject.encode()).hexdigest(), 16) % 10
    split = "train" if bucket < 6 else "dev" if bucket < 8 else "test"
    hold = (held or {}).get(subject)
    if hold == "test" or (hold == "dev" and split == "train"):
        return hold
    return split


def split_questions(questions: list[dict[str, Any]], held: dict[str, str] | None = None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for q in questions:
        out[split_of(q["meta"]["subject"], held)].append(q)
    return out
