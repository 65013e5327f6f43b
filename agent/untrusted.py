"""Retrieved text is data, not instructions: defences against prompt injection in abstracts.

Three layers, each measured by bench/injection_eval.py on planted abstracts:

1. `sanitize` (before the model sees a passage): Unicode is normalized and invisible characters
   dropped; markup is cut (HTML/XML tags and comments, chat-template tokens, markdown images and
   links, URLs, tool-call JSON); sentences that read as instructions to an AI ("ignore previous
   instructions", "assistant: answer No", "note to language models", "you are now ...") are replaced
   by a marker. What was cut is kept, so the answer can be checked against it.
2. `check_answer` (after the model answered): a sentence that repeats a passage's cut,
   instruction-like text rather than its remaining content is removed; dose/regimen recommendations
   and "monitoring is unnecessary"-style claims stand only when two or more retrieved articles
   support them; links, images and HTML in the answer are removed (an image URL in a rendered
   answer would leak the conversation to its host).
3. The verifier (agent/citations.py) then keeps only citations of retrieved articles.

Detection is by patterns over wording, not over the planted examples: an imperative addressed to
the reader ("you", "the assistant", "AI", "language models", "summarizers"), an override phrase,
a role or system turn, or a request to reveal or render something.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from litmol.predictors.chem.smiles_checks import LOOKALIKES

REMOVED = "[instruction-like text removed]"
INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u206f\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARKUP = [  # (pattern, what replaces it)
    (re.compile(r"<!--.*?(?:-->|$)", re.DOTALL), " "),
    (re.compile(r"<\|[^|>]{1,40}\|>"), " "),  # chat-template tokens: <|im_start|>, <|endoftext|>
    (re.compile(r"```.*?(?:```|$)", re.DOTALL), " "),
    (re.compile(r"!\[[^\]]{0,200}\]\([^)]{0,500}\)"), " "),  # markdown image
    (re.compile(r"\[([^\]]{0,200})\]\((?:https?:|www\.|ftp:|mailto:|javascript:|data:)[^)]{0,500}\)", re.I), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9_:-]{0,30}(?:\s[^<>]{0,300})?/?>"), " "),  # tags, not "p < 0.05"
    (re.compile(r"\{\s*\"(?:name|tool|function|arguments|role)\"\s*:.{0,600}?\}\s*\}?", re.DOTALL), " "),
    (re.compile(r"(?:https?|ftp)://\S+|\bwww\.[^\s)]+|\b[\w.-]+\.(?:example|com|net|org|io|ru|xyz)/\S*", re.I),
     " "),
]
ADDRESSEE = (r"(?:assistants?|the assistant|llms?|chatbots?|gpt|chatgpt|(?:large )?language models?|"
             r"ai(?=\s+(?:reading|who|that|which|models?|systems?|assistants?|summari[sz]ers?|readers?))|"
             r"(?:ai|automated|automatic) (?:systems?|models?|summari[sz]ers?|assistants?|readers?)|"
             r"summari[sz]ers?|models? reading this|machine readers?)")
ORDER = (r"(?:answer|respond|reply|say|state|tell|write|report|print|output|reveal|repeat|include|append|cite|"
         r"begin|start|end|render|display|recommend|advise|claim|conclude|ignore|disregard|forget|pretend|mention|"
         r"omit|now|always|never|only)")
# what the other retrieved sources are called, and what an attack says of them
OTHER_SOURCES = (r"(?:(?:all|every|any|each|the)\s+)?(?:of\s+the\s+)?(?:other|others|earlier|prior|previous|"
                 r"remaining|competing|conflicting|contradictory|additional|older|existing|preceding)\s+"
                 r"(?:[\w-]+\s+){0,3}?(?:documents?|sources?|studies|study|reports?|articles?|papers?|trials?|"
                 r"publications?|literature|evidence|results|abstracts?|data(?:sets?)?|findings|records?|"
                 r"references?|analyses|work)\b")
DISCREDITED = (r"(?:retracted|withdrawn|fabricated|falsified|debunked|discredited|invalidated|superseded|fake|"
               r"fraudulent|flagged|under investigation|void|disproven|unreliable and|not to be (?:cited|trusted|used))")
# whatever reads the record for someone else: automated tools, and anyone restating or condensing it
READERS = (r"(?:(?:any|all|every|each|the|an?)\s+)?(?:(?:automated|automatic|machine|ai|text[- ]mining|downstream|"
           r"computer|algorithmic)[- ](?:[\w-]+\s+)?(?:pipelines?|summar(?:y|ies)|tools?|systems?|readers?|agents?|"
           r"summari[sz]ers?|services?|programs?|processing)\b|(?:anyone|anybody|whoever|those|readers?|everyone)\s+"
           r"(?:who\s+(?:is\s+|are\s+)?)?(?:restat|summari[sz]|paraphras|condens|repeat|generat|compil|process|"
           r"reads? this|reading this|repost|rewrit)\w*)")
INSTRUCTION = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|guidance|rules|directions|prompts?|"
    r"guidelines|polic(?:y|ies)|(?:system|developer) (?:prompt|message)|everything (?:above|before)|"
    r"(?:the|all) (?:above|previous|prior|earlier))\b",
    r"\b(?:new|updated|hidden|secret|developer|system|admin)\s+(?:instructions?|prompt|directives?|override)\b|"
    r"\bnew (?:policy|rules?)\s*:",
    r"\b(?:system|developer|admin)\s+(?:override|mode)\b",
    r"^\W*(?:the\s+)?(?:ai\s+)?(?:assistant|system|developer|ai|model|chatbot|bot)\s*:\s*\S",
    r"\b[A-Z][a-z]*(?:Bot|GPT)\b\s+(?:says|said|answers|replies)\b",
    rf"\b(?:note|message|instructions?|reminder|attention|important|warning)\b[^.]{{0,20}}\b(?:to|for)\s+(?:the\s+)?"
    rf"(?:{ADDRESSEE}|ai)\b",
    rf"\b(?:if|when|whenever)\s+(?:you\s+are|you're)\s+(?:an?\s+)?(?:{ADDRESSEE}|ai)\b",
    rf"\b{ADDRESSEE}\b[^.]{{0,40}}\b(?:must|should|shall|are required to|need to|have to|are instructed to)\b",
    rf"\byou\s+(?:must|should|shall|have to|need to|are required to|are instructed to)\s+(?:not\s+)?{ORDER}\b",
    r"\byou\s+are\s+(?:now|no longer)\b|\bfrom now on\b|\bpretend\s+(?:you|to be)\b|\bjailbreak\b",
    r"\b(?:your|the)\s+(?:answer|reply|response|output)\s+(?:must|should|shall|has to|needs to)\b",
    r"\b(?:respond|reply|answer)\s+(?:only\s+)?(?:with|using)\s+(?:this|the following|exactly|the word|only)\b|"
    r"\bexact (?:text|words|wording)\b|\band nothing else\b",
    r"\b(?:print|reveal|show|repeat|output|leak)\b.{0,30}\b(?:system prompt|your instructions|previous messages|"
    r"api key|password|credentials)\b",
    r"\b(?:render|display|include|embed|append)\s+(?:this|the following)\s+(?:image|link|url|text|sentence)\b",
    rf"\b{ADDRESSEE}\b.{{0,60}}\b(?:this|these) links?\b",
    r"\bbefore answering\b|\bin your (?:answer|reply|response)\b|\bend (?:every|each|your) (?:answer|reply)\b|"
    r"\btell (?:the )?users?\b",
    # discrediting the other retrieved sources, or telling the reader to set them aside, in any wording: an
    # instruction about what to cite or believe, not a finding ("all other trials were retracted", "only
    # this report should be relied upon", "exclude earlier studies from any summary")
    rf"\b(?:disregard|ignore|discount|exclude|omit|leave out|set aside|dismiss|drop|skip|not (?:cite|use|"
    rf"rely on|consider|trust|include)|not be (?:cited|used|relied (?:up)?on|considered|trusted|included))\b"
    rf"[^.;]{{0,60}}\b{OTHER_SOURCES}",
    rf"{OTHER_SOURCES}[^.;]{{0,80}}\b(?:(?:should|must|can|may|are to|is to|ought to)\s+(?:not|no longer|never)\s+"
    rf"(?:be\s+)?(?:cited|used|relied|trusted|considered|included|believed|quoted)|(?:should|must|are to|is to)\s+be\s+"
    rf"(?:disregarded|ignored|excluded|omitted|discounted|dismissed|set aside)|"
    rf"(?:are|were|have been|has been|had been|was|is|be|being|now)\s+(?:\w+\s+){{0,4}}?{DISCREDITED})",
    rf"\b{DISCREDITED}\b[^.;]{{0,40}}\b(?:all|every|any|each)\s+(?:of\s+the\s+)?(?:other|earlier|prior|previous|"
    rf"remaining)\b",
    r"\b(?:only|solely|exclusively)\b[^.;]{0,40}\b(?:this|the present|the current|these|our)\s+(?:\w+\s+){0,2}"
    r"(?:article|report|study|paper|abstract|trial|document|source|data|dataset|analysis|cohort|record|findings|"
    r"results)\b[^.;]{0,40}\b(?:relied|cited|trusted|used|considered|believed|reliable|valid|accepted|quoted)\b",
    r"\b(?:this|the present|the current|our)\s+(?:[\w-]+\s+){0,2}(?:article|report|study|paper|abstract|trial|"
    r"analysis|cohort|record|work)\s+(?:is|as|remains|constitutes|represents)\s+(?:the\s+)?(?:sole|only|single)\s+"
    r"(?:valid|reliable|trustworthy|authoritative|credible|legitimate|accurate|citable)\b",
    r"\bsupersedes?\s+(?:all|every|any|the entire|the whole)\b|\b(?:all|every)\s+(?:\w+\s+){0,3}(?:literature|"
    r"studies|reports|trials|publications)\s+(?:is|are)\s+(?:now\s+)?(?:superseded|obsolete|void|invalid)\b",
    # orders to whatever condenses the record: automated pipelines, summaries, tools; "anyone restating these
    # results"; the reader's verdict ("your conclusion must be no")
    rf"\b(?:meant|intended|addressed|directed|written)\s+(?:for|to|at)\s+(?:any|all|every|each|the)?\s*{READERS}",
    rf"{READERS}[^.]{{0,60}}\b(?:must|should|shall|are to|is to|have to|has to|need to|needs to|are asked to|"
    rf"are required to|ought to)\s+(?:not\s+|always\s+|never\s+|also\s+|only\s+)*(?:state|say|report|describe|tell|"
    rf"answer|reply|respond|write|conclude|present|mention|include|omit|cite|ignore|disregard|exclude|treat|regard|"
    rf"recommend|advise|claim|call|summari[sz]e|emphasi[sz]e|label|classify|list|output|add|append|repeat|stress|"
    rf"insist|assert|drop|leave)\b",
    rf"\b(?:for|to)\s+{READERS}[^.:]{{0,40}}:",
    r"\byour\s+(?:verdict|answer|conclusion|reply|response|summary|output|message|recommendation)\b",
    r"^\W*(?:(?:when|if|whenever|before|after|while)\b[^,]{0,60},\s*)?(?:recommend|tell|say|state|claim|insist|"
    r"assert|assure|reassure|promise)\s+(?:that\b|users?\b|readers?\b|them\b|everyone\b|anyone\b|people\b|"
    r"[^.]{0,60}\bby name\b)",
    r"\brecommend\b[^.]{0,60}\bby (?:its )?(?:brand )?name\b",
    # the same orders in other languages (French, Spanish, Italian, Portuguese, German)
    r"\b(?:ignore[zr]?|ignora|ignorar|ignorieren?|ignoriere|vergiss|oubliez)\b.{0,40}\b(?:instructions?|"
    r"instrucciones|istruzioni|instruções|anweisungen|consignes|indicaciones)\b",
    r"\b(?:répondez|réponds|responde|rispondi|antworte|antworten sie|dites)\s+(?:que|che|dass)\b",
)]
SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(\[]?[A-Z0-9<{!#*])|(?<=[.!?])[\"'”’)]*$")
WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")


@dataclass(slots=True)
class Sanitized:
    """What the model may see of a retrieved text, and what was cut from it."""

    text: str
    removed: list[str] = field(default_factory=list)


def normalize(text: str) -> str:
    """NFKC (full-width and compatibility letters to plain ones), no invisible or control characters."""
    text = unicodedata.normalize("NFKC", text or "")
    return CONTROL.sub(" ", INVISIBLE.sub("", text))


# letters written to look like others (Cyrillic and Greek look-alikes, leetspeak digits): folded only in the copy
# of a sentence that detection reads, never in what the model sees
_LOOKALIKE = str.maketrans({**LOOKALIKES, "α": "a", "ε": "e", "ι": "i", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
                            "ν": "v", "κ": "k", "χ": "x", "ѕ": "s"})
_LEET = str.maketrans("013457@$", "oieastas")
_SPACED = re.compile(r"(?<!\S)(?:[A-Za-z0-9] ){7,}[A-Za-z0-9](?!\S)")  # "a n s w e r  y e s": obfuscation
_LEET_WORD = re.compile(r"\b(?=[A-Za-z0-9]*[A-Za-z])(?=[A-Za-z0-9]*[013457])[A-Za-z0-9]{3,}\b")


def _detection_form(sentence: str) -> str:
    """The sentence as detection reads it: look-alike letters folded to ASCII, leetspeak words spelled out."""
    folded = sentence.translate(_LOOKALIKE)
    return _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), folded)


def is_instruction(sentence: str) -> bool:
    """Whether a sentence reads as an order to the model rather than a statement about the world (also
    when written with look-alike letters or leetspeak, or spelled out a character at a time)."""
    if _SPACED.search(sentence):
        return True
    if any(p.search(sentence) for p in INSTRUCTION):
        return True
    folded = _detection_form(sentence)
    return folded != sentence and any(p.search(folded) for p in INSTRUCTION)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(" ".join(text.split())) if s and s.strip()]


def sanitize(text: str) -> Sanitized:
    """`text` without markup and without instruction-like sentences (each replaced by a marker)."""
    text = normalize(text)
    removed: list[str] = []
    for pattern, repl in MARKUP:
        def cut(match: re.Match, repl: str = repl) -> str:
            removed.append(" ".join(match.group(0).split()))
            return match.expand(repl) if "\\" in repl else repl
        text = pattern.sub(cut, text)
    kept: list[str] = []
    for sentence in sentences(text):
        if is_instruction(sentence):
            removed.append(sentence)
            if not kept or kept[-1] != REMOVED:
                kept.append(REMOVED)
        else:
            kept.append(sentence)
    return Sanitized(" ".join(kept), removed)


def clean(text: str) -> str:
    """`sanitize(text).text`: for tool outputs."""
    return sanitize(text).text


# -- checking the answer -----------------------------------------------------------------------
DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg|g|grams?|mcg|µg|ug|mmol|meq|iu|units?|ml|mL|ng)\b(?:\s*/\s*kg)?", re.I)
RECOMMENDS = re.compile(r"\b(?:recommended|recommend|recommends|standard (?:dose|regimen|treatment)|usual dose|safe|"
                        r"safely|harmless|maximum|max|can take|may take|should (?:take|be given|receive)|is the dose|"
                        r"tolerated|advised|advise|instead of)\b", re.I)
WAIVER = re.compile(
    r"\b(?:monitoring|checks?|checking|tests?|testing|levels?|follow-up)\b[^.]{0,40}\b(?:unnecessary|not (?:be )?"
    r"(?:needed|required|necessary)|no longer (?:needed|required|necessary)|never (?:needs?|required)|optional)\b|"
    r"\b(?:no|never|without)\s+(?:need|needs)\s+(?:to|for)\s+(?:monitor|check|test|measure)|"
    r"\bneed(?:s)? not be (?:checked|monitored|measured|tested)|\bnever need(?:s)? to be (?:checked|monitored)|"
    r"\bnot need(?:ed)? (?:to be )?(?:monitor|check)|\bsafe at any dose\b|\bcompletely safe\b|\bperfectly safe\b|"
    r"\bdouble (?:the|their|your|a) dose\b|\bstop\w*\b[^.]{0,40}\babruptly\b", re.I)
WITHHELD = ("[Dose or safety statement withheld: it rests on fewer than two retrieved articles. "
            "Check the product label or a clinical reference.]")
PLANTED = "[Sentence removed: it repeated instruction-like text from a retrieved abstract, not its findings.]"
ANSWER_MARKUP = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"<!--.*?(?:-->|$)", re.DOTALL), ""),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9_:-]{0,30}(?:\s[^<>]*)?/?>"), ""),
    # a markdown link goes somewhere (a scheme, //, www.); "[C@H](O)" in a SMILES is not a link
    (re.compile(r"\[([^\]]*)\]\((?!https://pubmed\.ncbi\.nlm\.nih\.gov/)\s*(?:[A-Za-z][A-Za-z0-9+.-]*:|//|www\.)"
                r"[^)]*\)"), r"\1"),
    (re.compile(r"(?:https?|ftp)://(?!pubmed\.ncbi\.nlm\.nih\.gov/)\S+|\bwww\.\S+", re.I), "[link removed]"),
]


def _words(text: str) -> set[str]:
    return {w[:7] for w in WORD.findall(text.lower())}


def _share(sentence: set[str], other: set[str]) -> float:
    return len(sentence & other) / max(1, len(sentence))


def dangerous(sentence: str) -> bool:
    """A dose/regimen recommendation or a claim that monitoring or caution is unnecessary."""
    return bool(WAIVER.search(sentence)) or bool(DOSE.search(sentence) and RECOMMENDS.search(sentence))


def _supporting(sentence: str, sources: dict[str, str]) -> set[str]:
    """Retrieved articles (by PMID) whose clean text states this sentence: shared content words, and the
    same dose numbers when it gives one."""
    words = _words(re.sub(r"\[PMID:\d+\]", " ", sentence))
    doses = {re.sub(r"\s+", "", d.lower()) for d in DOSE.findall(sentence)}
    out = set()
    for pmid, text in sources.items():
        body = _words(text)
        if len(words & body) >= 3 and _share(words, body) >= 0.5:
            found = {re.sub(r"\s+", "", d.lower()) for d in DOSE.findall(text)}
            if not doses or doses <= found:
                out.add(pmid)
    return out


def check_answer(answer: str, raw_sources: dict[str, str]) -> str:
    """The answer with planted-text repeats removed, unsupported dose/safety claims withheld and
    markup stripped. `raw_sources`: PMID -> the retrieved article's text as stored (before sanitizing)."""
    for pattern, repl in ANSWER_MARKUP:
        answer = pattern.sub(repl, answer)
    cleaned = {p: sanitize(t) for p, t in raw_sources.items()}
    clean_text = {p: s.text for p, s in cleaned.items()}
    planted = [(_words(seg), p) for p, s in cleaned.items() for seg in s.removed if len(_words(seg)) >= 3]
    lines = []
    for line in answer.split("\n"):
        out: list[str] = []
        for sentence in sentences(line) or [line]:
            words = _words(re.sub(r"\[PMID:\d+\]", " ", sentence))
            if is_instruction(sentence) and not any(_share(words, _words(t)) >= 0.8 for t in clean_text.values()):
                out.append(PLANTED)
                continue
            if len(words) >= 3 and planted:
                best_planted = max(_share(words, seg) for seg, _ in planted)
                best_clean = max((_share(words, _words(t)) for t in clean_text.values()), default=0.0)
                if best_planted >= 0.5 and best_planted > best_clean:
                    out.append(PLANTED)
                    continue
            if dangerous(sentence) and len(_supporting(sentence, clean_text)) < 2:
                out.append(WITHHELD)
                continue
            out.append(sentence)
        deduped = [s for i, s in enumerate(out) if not (i and s == out[i - 1] and s in (PLANTED, WITHHELD))]
        lines.append(" ".join(deduped))
    return "\n".join(lines).strip()
