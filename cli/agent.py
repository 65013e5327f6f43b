"""`litmol ask QUESTION` and `litmol chat`: the agent on the index that --index names (or the
settings' index), with the chat model that --backend/--model/--base-url name."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import EXIT_OK, UsageError, add_model_arguments, agent_settings, print_json


def open_session(args: argparse.Namespace, model: Any = None, require_index: bool = True):
    """The agent session of this command: its index opened first (a missing one fails here, in one
    line, before a model loads, unless `require_index` is off and --index was not given), then the
    chat model (given, or the one the options name)."""
    from litmol.agent.session import AgentSession
    from litmol.retrieval import EmptyIndexError

    session = AgentSession(agent_settings(args), model)
    try:
        notice = session.index.notice
    except EmptyIndexError:
        if require_index or args.index:
            raise
        notice = None  # the run records that no index was there; literature tools say so to the model
    if notice and not getattr(args, "json", False):
        print(f"note: {notice}", file=sys.stderr)
    if model is None:
        session.check()  # the model the options name: loaded now, or its server asked, before any question
    return session


def cmd_ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("ask needs a question")
    from litmol.agent.backends import describe_chat_model

    session = open_session(args)
    result = session.ask(question)
    if args.json:
        print_json(result.to_dict() | {"runtime": describe_chat_model(session.chat_model)})
        return EXIT_OK
    print(result.answer)
    for c in result.citations:
        print(f"  [PMID:{c['pmid']}] {c['title']}  https://pubmed.ncbi.nlm.nih.gov/{c['pmid']}/")
    trace = ", ".join(f"{t['name']}({'ok' if t['ok'] else 'failed'})" for t in result.tool_calls) or "no tools"
    print(f"({trace}; {result.latency_s:.1f} s)", file=sys.stderr)
    return EXIT_OK


def _read_piped(prompt: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def cmd_chat(args: argparse.Namespace) -> int:
    from litmol.agent.chat import chat_loop

    session = open_session(args)
    if sys.stdin.isatty():
        print("litmol chat: ask about targets, diseases and compounds; `exit` to leave.", file=sys.stderr)
    chat_loop(session, input if sys.stdin.isatty() else _read_piped, sys.stdout)
    return EXIT_OK


ASK_EPILOG = """examples:
  litmol ask "Is metformin associated with a lower risk of cancer?"
  litmol ask "Does caffeine cross the blood-brain barrier?" --json
  litmol ask "Which drugs are reported to treat angina?" --index cardio
  litmol ask "..." --backend openai --base-url http://127.0.0.1:8000/v1 --model qwen
"""


def register(sub: Any, shared: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ask", parents=[shared], help="ask the agent a question (literature + predictors, cited)",
                       description="The agent searches the indexed literature and runs predictors as needed, "
                       "then answers citing only articles it retrieved ([PMID:n]).",
                       epilog=ASK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("question", nargs="+", metavar="QUESTION")
    add_model_arguments(p)
    p.add_argument("--json", action="store_true", help="{answer, citations, tool_calls, latency_s, ...}")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[shared], help="a terminal conversation with the agent (tool trace shown)",
                       description="Chat with the agent; each tool call and its result are shown as they happen, "
                       "answers cite only retrieved articles. Questions are read one per line from a pipe too.")
    add_model_arguments(p)
    p.set_defaults(func=cmd_chat)
