"""`litmol chat`: a terminal conversation with streamed tokens and a visible tool trace."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TextIO

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from .evidence import CITED
from .loop import AgentAnswer, repeats_earlier_answer, summarize_run


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


def chat_turn(agent: Any, history: list[Any], question: str, out: TextIO, recursion_limit: int = 28) -> AgentAnswer:
    """Run one turn: stream tokens and tool steps to `out`, return the verified answer, extend history.

    The streamed text is the model's draft; the checked answer (citations, evidence, removed claims)
    is shown once: only its additions when the checks kept the draft, in full when they changed it."""
    answer, streamed_text = _stream_turn(agent, history, question, out, recursion_limit)
    if history and repeats_earlier_answer(answer.answer, history):
        out.write("  (that repeated an earlier answer; answering this question on its own)\n")
        answer, streamed_text = _stream_turn(agent, [], question, out, recursion_limit)
    rest = unshown_part(streamed_text, answer.answer)
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


def _stream_turn(agent: Any, history: list[Any], question: str, out: TextIO,
                 recursion_limit: int) -> tuple[AgentAnswer, str]:
    """Stream one agent run to `out`; (the checked answer, the text streamed since the last tool step)."""
    started = time.perf_counter()
    messages: list[Any] = list(history) + [HumanMessage(question)]
    streamed = False
    streamed_text = ""  # what was streamed since the last tool step: the answer, when it ends the turn
    for mode, chunk in agent.stream({"messages": messages}, {"recursion_limit": recursion_limit},
                                    stream_mode=["messages", "updates"]):
        if mode == "messages":
            token = chunk[0]
            if isinstance(token, AIMessageChunk) and isinstance(token.content, str) and token.content:
                out.write(token.content)
                out.flush()
                streamed = True
                streamed_text += token.content
            continue
        for update in chunk.values():
            for m in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                messages.append(m)
                if isinstance(m, AIMessage):
                    for c in m.tool_calls:
                        if c["name"] != "final_answer":
                            out.write(f"{chr(10) if streamed else ''}  -> {c['name']}({_short(c['args'])})\n")
                            streamed, streamed_text = False, ""
                elif isinstance(m, ToolMessage) and m.name != "final_answer":
                    mark = "x" if m.status == "error" else "<-"
                    out.write(f"  {mark} {_short(m.content)}\n")
    if streamed:
        out.write("\n")
    return summarize_run(messages, started), streamed_text


def chat_loop(agent: Any, read: Callable[[str], str], out: TextIO) -> int:
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
        chat_turn(agent, history, question, out)
        turns += 1
    return turns
