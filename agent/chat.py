"""`litmol chat`: a terminal conversation with streamed tokens and a visible tool trace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from .loop import AgentAnswer, summarize_run


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chat_turn(agent: Any, history: list[Any], question: str, out: TextIO, recursion_limit: int = 28) -> AgentAnswer:
    """Run one turn: stream tokens and tool steps to `out`, return the verified answer, extend history."""
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
    answer = summarize_run(messages, started)
    if streamed:
        out.write("\n")
    if answer.answer.strip() != streamed_text.strip():  # not streamed, or the verifier changed it
        out.write(f"\n{answer.answer}\n")
    for c in answer.citations:
        out.write(f"  [PMID:{c['pmid']}] {c['title']}  https://pubmed.ncbi.nlm.nih.gov/{c['pmid']}/\n")
    if answer.removed_citations:
        out.write(f"  (removed citations not retrieved in this run: {', '.join(answer.removed_citations)})\n")
    out.write(f"  ({answer.latency_s:.1f} s)\n")
    history += [HumanMessage(question), AIMessage(answer.answer)]
    return answer


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
