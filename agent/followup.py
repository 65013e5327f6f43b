"""Follow-up questions that refer back: "and its logP?" after a question about caffeine.

A small model given the whole conversation either answers the earlier question again or calls a
tool on the wrong molecule. A question that names no drug but refers to one ("it", "its", "this
drug", "the same compound") is rewritten with the drug the conversation last named (a user's
question first, then the molecule of an earlier tool call), before the model sees it. A question
that names its own drug is left as it is: it is answered on its own terms.
"""

from __future__ import annotations

import re
from typing import Any

WORD = re.compile(r"[A-Za-z0-9][\w\-']*")
REFERRING = re.compile(
    r"\b(?:this|that|the same|the)\s+(?:drug|compound|molecule|medicine|medication|agent|one)\b|\bits\b|\bit\b",
    re.IGNORECASE)
MAX_NGRAM = 3


def drugs_named(text: str) -> list[str]:
    """Approved-drug names in the text (exact lexicon names, longest first at each position), in order."""
    from litmol.predictors import default_lexicon

    lexicon = default_lexicon()
    words = [re.sub(r"['’]s$", "", w) for w in WORD.findall(text or "")]  # "caffeine's" -> "caffeine"
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n]).strip("'")
            if len(phrase) < 3 or phrase.lower() in {"its", "it", "the", "and", "was", "has"}:
                continue
            match = lexicon.lookup(phrase)
            if match.entry is not None and match.method == "exact":
                found.append(phrase)
                i += n
                break
        else:
            i += 1
    return found


def last_drug(history: list[Any]) -> str | None:
    """The drug the conversation named last: in a user's question, else in a tool call's arguments."""
    for m in reversed(history):
        kind = getattr(m, "type", None)
        if kind == "human":
            named = drugs_named(str(m.content))
            if named:
                return named[-1]
        elif kind == "ai":
            for call in reversed(getattr(m, "tool_calls", None) or []):
                args = call.get("args") or {}
                value = str(args.get("molecule") or args.get("name") or "")
                named = drugs_named(value)
                if named:
                    return named[-1]
    return None


def resolve_referent(question: str, history: list[Any]) -> str:
    """The question with "it"/"its"/"this drug" replaced by the drug the conversation last named,
    when the question names no drug itself; otherwise the question unchanged."""
    if not history or not REFERRING.search(question) or drugs_named(question):
        return question
    drug = last_drug(history)
    if drug is None:
        return question

    def swap(m: re.Match[str]) -> str:
        return f"{drug}'s" if m.group(0).lower() == "its" else drug

    return REFERRING.sub(swap, question)
