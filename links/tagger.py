"""Dictionary tagging of drugs, diseases and other concepts in titles and abstracts.

Longest match over normalised words (case, plurals, British spellings, hyphens, possessives
folded; see vocab.normalize), then abbreviations the text defines: "Alzheimer's disease (AD)"
makes every later "AD" in that article a mention of Alzheimer Disease, even where the
dictionary would read "AD" otherwise. Offsets are character offsets into the tagged text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocab import _PREFIXES, STOP_TOKENS, Vocabulary, natural, normalize, normalize_token

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
_NOT_AN_END = re.compile(r"(?:\b(?:e\.g|i\.e|et al|vs|approx|ca|Dr|Fig|No|St)\.|\b[A-Z]\.)$")
# head nouns of "X of the <organ>" disease phrases (normalised)
OF_HEADS = frozenset(["tumor", "carcinoma", "cancer", "neoplasm", "disease", "infection", "ulcer", "failure",
                      "insufficiency", "abscess", "sarcoma", "adenocarcinoma", "lymphoma", "injury", "metastase"])
ORGANISM_TREES = ("B01", "B03", "B04")  # eukaryotes (fungi, parasites), bacteria, viruses
_HARD_BREAK = re.compile(r"[.;:!?()\[\]]")
_PAREN = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*\)")


@dataclass(slots=True, frozen=True)
class Mention:
    start: int
    end: int
    text: str
    concept: str
    type: str
    sentence: int
    via: str = "dictionary"  # or "abbreviation", "organism" (an infection named by its organism)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; abbreviations like 'e.g.' and initials do not end one."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _NOT_AN_END.search(text[start:match.start()]):
            continue
        spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _word_tokens(text: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    pending: tuple[int, str] | None = None  # a prefix ("anti") waiting for its word
    for m in _TOKEN.finditer(text):
        word = m.group().lower()
        if word == "s" and m.start() > 0 and text[m.start() - 1] in "'’":
            continue  # possessive
        if pending is not None:
            start, prefix = pending
            pending = None
            if m.start() - len(prefix) - start <= 1:  # "anti-x" or "anti x"
                out.append((start, m.end(), normalize_token(prefix + word)))
                continue
            out.append((start, start + len(prefix), prefix))
        if word in _PREFIXES:
            pending = (m.start(), word)
            continue
        out.append((m.start(), m.end(), normalize_token(word)))
    if pending is not None:
        out.append((pending[0], pending[0] + len(pending[1]), pending[1]))
    return out


def _initials_match(short: str, long_text: str) -> bool:
    """Schwartz & Hearst's check: the short form's characters appear in order in the long form,
    the first one starting a word of it."""
    s, lf = short.lower(), long_text.lower()
    si, li = len(s) - 1, len(lf) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (lf[li] != c or (si == 0 and li > 0 and lf[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        si -= 1
        li -= 1
    return True


class Tagger:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocab = vocabulary
        # an organism names its infection too: "Klebsiella" (or "Klebsiella pneumoniae") in an abstract
        # is also a mention of Klebsiella Infections, the heading indexers and users use for the disease
        self.infection_of: dict[str, str] = {}
        from .mesh import Thesaurus

        thesaurus = Thesaurus.load()
        for cid, c in vocabulary.concepts.items():
            d = thesaurus.get(cid) if thesaurus is not None and c.type != "disease" else None
            if d is None or not d.under(ORGANISM_TREES):
                continue
            name = natural(c.name)
            for stem in dict.fromkeys((name, name.split()[0])):
                target = vocabulary.by_form.get(normalize(stem + " infections"))
                if target is not None and vocabulary.concepts[target].type == "disease" and target != cid:
                    self.infection_of[cid] = target
                    break

    def tag(self, text: str) -> list[Mention]:
        """Every concept mention in `text`, in order, non-overlapping (longest match wins)."""
        sentences = sentence_spans(text)
        words = _word_tokens(text)
        by_form, concepts, max_len = self.vocab.by_form, self.vocab.concepts, self.vocab.max_len
        found: list[tuple[int, int, str, str]] = []
        # a name never runs across a sentence end, a bracket or a colon ("...hepatitis. A case" is
        # not Hepatitis A): reach[i] is how many words from i stay inside one such stretch
        reach = [1] * len(words)
        for k in range(len(words) - 2, -1, -1):
            if not _HARD_BREAK.search(text, words[k][1], words[k + 1][0]):
                reach[k] = reach[k + 1] + 1
        i = 0
        while i < len(words):
            match = None
            for n in range(min(max_len, reach[i]), 0, -1):
                cid = by_form.get(tuple(w[2] for w in words[i:i + n]))
                if cid is not None:
                    match = (n, cid)
                    break
            # a two-word disease name with one word inserted, preferred over a shorter exact match:
            # "Pseudomonas aeruginosa infections" is Pseudomonas Infections (not just the organism),
            # "coronary heart disease" Coronary Disease
            if (match is None or match[0] < 3) and reach[i] > 2 and words[i + 1][2] not in STOP_TOKENS \
                    and len(words[i][2]) > 3 and len(words[i + 2][2]) > 3:
                cid = by_form.get((words[i][2], words[i + 2][2]))
                if cid is not None and concepts[cid].type == "disease":
                    match = (3, cid)
            # "carcinoma of the prostate", "tumours of the kidney": head noun, of (the), organ
            if (match is None or match[0] < 2) and words[i][2] in OF_HEADS:
                j = i + 1 + (i + 1 < len(words) and words[i + 1][2] == "of")
                j += j < len(words) and words[j][2] == "the"
                if j > i + 1:
                    for n in (2, 1):
                        organ = tuple(w[2] for w in words[j:min(j + n, i + reach[i])])
                        cid = by_form.get(organ + (words[i][2],)) if len(organ) == n else None
                        if cid is not None and concepts[cid].type == "disease":
                            match = (j + n - i, cid)
                            break
            if match is None:
                i += 1
                continue
            n, cid = match
            found.append((words[i][0], words[i + n - 1][1], cid, "dictionary"))
            i += n
        found = self._abbreviations(text, found)
        found = sorted(found + [(start, end, self.infection_of[cid], "organism") for start, end, cid, _ in found
                                if cid in self.infection_of])
        out, s = [], 0
        for start, end, cid, via in found:
            while s < len(sentences) - 1 and start >= sentences[s][1]:
                s += 1
            out.append(Mention(start, end, text[start:end], cid, concepts[cid].type, s, via))
        return out

    def _abbreviations(self, text: str, found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
        """Short forms defined as 'long form (SF)' after a mention become mentions of its concept."""
        ends = {end: (start, cid) for start, end, cid, _ in found}
        defined: dict[str, str] = {}
        spans: list[tuple[int, int]] = []
        for m in _PAREN.finditer(text):
            short = m.group(1)
            if not any(c.isupper() for c in short) or short.isdigit():
                continue
            before = text[:m.start()].rstrip()
            hit = ends.get(len(before))
            if hit is None or not _initials_match(short, text[hit[0]:len(before)]):
                continue
            defined.setdefault(short, hit[1])
            spans.append((m.start(1), m.end(1)))
        if not defined:
            return found
        pattern = re.compile(r"(?<![A-Za-z0-9\-])(" + "|".join(map(re.escape, sorted(defined, key=len, reverse=True)))
                             + r")(?:s)?(?![A-Za-z0-9])")
        extra = [(m.start(1), m.end(1), defined[m.group(1)], "abbreviation") for m in pattern.finditer(text)]
        # a defined short form replaces whatever the dictionary read at the same place
        taken = [(s, e) for s, e, _, _ in extra]
        kept = [f for f in found if not any(f[0] < e and s < f[1] for s, e in taken)]
        return sorted(kept + extra)
