"""Ground an answer in the passages the tools returned: cite the sentences a passage supports, and
when the model cited nothing, show the retrieved sentences that bear on the question.

Small local models read the passages but rarely write "[PMID:n]"; a user still needs to know which
article says what. Attribution is lexical (content words shared by an answer sentence and a
passage), so it can only point at text the tools returned in this run; the citation verifier runs
after it and stays the guarantee that nothing else is cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .tools import LITERATURE_TOOLS, PMID_RE

WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
CITED = re.compile(r"\[\s*PMID\s*:?\s*\d+\s*\]|PMID\s*:?\s*\d+", re.IGNORECASE)
STOP = frozenset("""the and for with that this was were are has have had been from into than then they their
there these those which what when where who whom whose how why not but also may can could would should will
its our your his her she him them about after before during between both each few more most other some such
only own same very just any all does did doing done is be being an as at by of on or to in it no nor so too
study studies patients patient results result effect effects use used using case cases group groups compared
found showed shows show reported report reports trial trials evidence treatment treated literature papers paper
abstract abstracts article articles question answer yes well one two three known know see tell""".split())  # noqa: SIM905
SUPPORT_MIN_WORDS = 3  # content words a sentence must share with a passage to be attributed to it
SUPPORT_MIN_SHARE = 0.4  # ... and the share of the sentence's content words they make up
EVIDENCE_LINES = 2
EVIDENCE_HEADER = "Evidence in the retrieved abstracts:"
NO_EVIDENCE = "The retrieved abstracts do not clearly address this question; the evidence is insufficient."


@dataclass(frozen=True, slots=True)
class Passage:
    pmid: str
    text: str


def passages_from(messages: list[Any]) -> list[Passage]:
    """Passages the literature tools returned in this run, in the order the model saw them."""
    out: list[Passage] = []
    seen: set[tuple[str, str]] = set()
    for m in messages:
        if getattr(m, "type", None) != "tool" or getattr(m, "name", None) not in LITERATURE_TOOLS:
            continue
        content = str(m.content)
        starts = list(PMID_RE.finditer(content))
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(content)
            text = content[match.end():end].replace("</passages>", "").replace("</article>", "").replace("</links>", "")
            text = re.sub(r"^\s*\((?:\d{4}|n\.d\.)\)\s*", "", text).strip()
            key = (match.group(1), text[:80])
            if text and key not in seen:
                seen.add(key)
                out.append(Passage(match.group(1), " ".join(text.split())))
    return out


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning, with common inflections cut ("helping" -> "help")."""
    return {_stem(w.rstrip("-")) for w in WORD.findall(text.lower()) if w not in STOP}


def _stem(word: str) -> str:
    """Cut a common suffix, then keep at most seven letters (prefix stemming: "isolation" and
    "isolated" -> "isolat", "trypanosome" and "trypanosomatids" -> "trypano")."""
    for suffix in ("ion", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:7]


def _sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(" ".join(text.split())) if s]


def attribute(answer: str, passages: list[Passage]) -> str:
    """Append "[PMID:n]" to each uncited answer sentence that one retrieved passage clearly supports."""
    if not passages or not answer.strip():
        return answer
    bags = [(p.pmid, content_words(p.text)) for p in passages]
    retrieved = {p.pmid for p in passages}
    lines = []
    for line in answer.split("\n"):
        parts = []
        for sentence in _sentences(line) or [line]:
            words = content_words(CITED.sub(" ", sentence))
            if _cites_any(sentence, retrieved) or len(words) < SUPPORT_MIN_WORDS:
                parts.append(sentence)
                continue
            pmid, shared = max(((pmid, len(words & bag)) for pmid, bag in bags), key=lambda t: t[1])
            if shared >= SUPPORT_MIN_WORDS and shared >= SUPPORT_MIN_SHARE * len(words):
                body = sentence.rstrip()
                end = body[-1] if body[-1:] in ".!?" else ""
                sentence = f"{body[:len(body) - len(end)]} [PMID:{pmid}]{end}"
            parts.append(sentence)
        lines.append(" ".join(parts))
    return "\n".join(lines)


def evidence_lines(question: str, passages: list[Passage], limit: int = EVIDENCE_LINES) -> list[str]:
    """The retrieved sentences that share the most content words with the question (one per
    article, at least two shared words, or one when the question has only one), best first."""
    q = content_words(question)
    if not q:
        return []
    need = 2 if len(q) >= 2 else 1
    best: dict[str, tuple[int, int, str]] = {}
    for rank, p in enumerate(passages):
        for sentence in _sentences(p.text):
            shared = len(q & content_words(sentence))
            if shared >= need and (p.pmid not in best or shared > best[p.pmid][0]):
                best[p.pmid] = (shared, -rank, sentence)
    ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)[:limit]
    return [f"- {_clip(sentence)} [PMID:{pmid}]" for pmid, (_, _, sentence) in ranked]


def _clip(sentence: str, limit: int = 300) -> str:
    sentence = sentence.strip()
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def _cites_any(text: str, pmids: set[str]) -> bool:
    """Whether `text` cites one of `pmids` (a citation of anything else will be removed, so it does not count)."""
    return any(re.sub(r"\D", "", m.group(0)) in pmids for m in CITED.finditer(text))


def restates(answer: str, question: str) -> bool:
    """An answer that only repeats the question (a small model's failure mode) says nothing."""
    a, q = content_words(answer), content_words(question)
    return bool(a) and a <= q


def ground(answer: str, question: str, messages: list[Any]) -> str:
    """The answer with supported sentences cited; when it cites no article although the literature
    was searched, the most relevant retrieved sentences follow it (or a plain statement that the
    abstracts do not address the question)."""
    passages = passages_from(messages)
    if not passages:
        return answer
    text = "" if restates(answer, question) else attribute(answer, passages)
    if _cites_any(text, {p.pmid for p in passages}):
        return text
    lines = evidence_lines(question, passages)
    tail = "\n".join([EVIDENCE_HEADER, *lines]) if lines else NO_EVIDENCE
    return f"{text}\n\n{tail}".strip()
