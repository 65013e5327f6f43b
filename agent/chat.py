"""`litmol chat`: a terminal conversation with streamed tokens and a visible tool trace."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from langchain_core.messages import AIMessage, HumanMessage

from .evidence import CITED
from .loop import AgentAnswer
from .session import AgentSession, Final, Restarted, Token, ToolFinished, ToolStarted


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> str:
    """Text without citation marks and with whitespace normalized (also before punctuation)."""
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(CITED.sub(" ", text).split()))


def unshown_part(streamed: str, answer: str) -> str | None:
    """What of the checked `answer` the terminal has not shown yet: the paragraphs after the streamed
    text when the checks only added citations or evidence, or None when they changed what was said."""
    if not streamed.strip():
        return answer
    paragraphs = answer.split("\n\n")
    for k in range(1, len(paragraphs) + 1):
        if _plain("\n\n".join(paragraphs[:k])) == _plain(streamed):
            return "\n\n".join(paragraphs[k:])
    return None


def chat_turn(session: AgentSession, history: list[Any], question: str, out: TextIO) -> AgentAnswer:
    """Run one turn: stream tokens and tool steps to `out`, return the verified answer, extend history.

    The streamed text is the model's draft; the checked answer (citations, evidence, removed claims)
    is shown once: only its additions when the checks kept the draft, in full when they changed it."""
    streamed = ""  # what was streamed since the last tool step: the answer, when it ends the turn
    answer: AgentAnswer | None = None
    for event in session.run_turn(question, history):
        match event:
            case Token(text):
                out.write(text)
                out.flush()
                streamed += text
            case ToolStarted(name=name, args=args):
                out.write(f"{chr(10) if streamed else ''}  -> {name}({_short(args)})\n")
                streamed = ""
            case ToolFinished(ok=ok, output=output):
                out.write(f"  {'<-' if ok else 'x'} {_short(output)}\n")
            case Restarted(reason):
                out.write(f"{chr(10) if streamed else ''}  ({reason})\n")
                streamed = ""
            case Final(answer=final):
                answer = final
    assert answer is not None  # run_turn ends with Final
    if streamed:
        out.write("\n")
    rest = unshown_part(streamed, answer.answer)
    if rest is None:
        out.write(f"\nChecked answer:\n{answer.answer}\n")
    elif rest.strip():
        out.write(f"\n{rest.strip()}\n")
    for c in answer.citations:
        out.write(f"  [PMID:{c['pmid']}] {c['title']}  https://pubmed.ncbi.nlm.nih.gov/{c['pmid']}/\n")
    if answer.removed_citations:
        out.write(f"  (removed citations not retrieved in this run: {', '.join(answer.removed_citations)})\n")
    out.write(f"  ({answer.latency_s:.1f} s)\n")
    history += [HumanMessage(question), AIMessage(answer.answer)]
    return answer


def chat_loop(session: AgentSession, read: Callable[[str], str], out: TextIO) -> int:
    """Read questions until EOF, `exit` or `quit`; returns the number of turns."""
    history: list[Any] = []
    turns = 0
    while True:
        try:
            question = read("you> ").strip()
        except EOFError:
            break
        if question.lower() in {"exit", "quit", ":q"}:
            break
        if not question:
            continue
        chat_turn(session, history, question, out)
        turns += 1
    return turns
