"""The agent session: one object, built from settings, that owns what the agent uses (the literature
index, the link table and the predictors, through its `ToolContext`, and the chat model) and runs
turns. `run_turn` yields typed events; the terminal chat, the app, `litmol ask` and `litmol eval`
all consume them and only format them.

    session = AgentSession(Settings.load().with_index("small"))
    for event in session.run_turn("Does metformin lower breast cancer risk?"):
        match event:
            case Token(text): ...                        # a piece of the model's draft
            case ToolStarted(name=name, args=args): ...  # the model called a tool (the draft so far was not the answer)
            case ToolFinished(name=name, ok=ok): ...     # its result; ok is False for any failure
            case Restarted(reason): ...                  # the draft is dropped, the turn runs again
            case Final(answer): ...                      # the checked answer (citations verified)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from litmol.settings import Settings

from .followup import resolve_referent
from .loop import AgentAnswer, build_agent, recursion_limit, repeats_earlier_answer, summarize_run
from .tools import ANSWER_TOOL, TOOLS, ToolContext, tool_failed


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of text the model generated (a draft until the turn ends)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """The model called a tool; text streamed before it was not the answer."""

    call_id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool's result as the model reads it; `ok` is False when it failed or found nothing."""

    call_id: str
    name: str
    ok: bool
    output: str
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class Restarted:
    """The turn runs again from the question alone (what was streamed so far is dropped)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Final:
    """The checked answer: grounded, screened for retrieved instructions, citations verified."""

    answer: AgentAnswer


TurnEvent = Token | ToolStarted | ToolFinished | Restarted | Final

REPEATED = "that repeated an earlier answer; answering this question on its own"


@dataclass(eq=False)
class AgentSession:
    """The agent over one index, one link table, one predictor set-up and one chat model.

    `chat_model` defaults to the one `settings.agent` names (built on first use); `context` to a
    ToolContext over `settings` (the index opens on first use). Sessions may share a context
    (`with_chat_model`), so the app's models all read one opened index. Thread-safe: the app and
    `eval --workers` run turns from several threads."""

    settings: Settings = field(default_factory=Settings.load)
    chat_model_: Any = None
    context: ToolContext | None = None
    _agents: dict[int, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.context is None:
            self.context = ToolContext(self.settings)

    @property
    def chat_model(self) -> Any:
        with self._lock:
            if self.chat_model_ is None:
                from .backends import make_chat_model

                self.chat_model_ = make_chat_model(self.settings.agent.backend, self.settings.agent.model,
                                                   settings=self.settings.agent)
            return self.chat_model_

    def with_chat_model(self, chat_model: Any) -> AgentSession:
        """Another session on the same index, link table and predictors, answering with `chat_model`."""
        return AgentSession(self.settings, chat_model, self.context)

    def check(self) -> None:
        """Fail early and in one line when the chat model cannot be used (see backends.check_backend)."""
        from .backends import check_backend

        check_backend(self.chat_model)

    @property
    def index(self):
        return self.context.index

    @property
    def links(self):
        return self.context.links

    def agent(self, max_model_calls: int | None = None):
        """The compiled agent (built once per step limit)."""
        limit = max_model_calls or self.settings.agent.max_model_calls
        model = self.chat_model
        with self._lock:
            if limit not in self._agents:
                agent_settings = self.settings.agent.model_copy(update={"max_model_calls": limit})
                self._agents[limit] = build_agent(model, agent_settings)
            return self._agents[limit]

    def run_turn(self, question: str, history: Sequence[Any] = (), max_model_calls: int | None = None,
                 tokens: bool = True) -> Iterator[TurnEvent]:
        """Answer `question` after the earlier messages `history` (questions and answers), yielding
        events as they happen and `Final` last. A draft that copies an earlier answer is asked again
        on its own (`Restarted`). `tokens=False`: no Token events (the model is not streamed)."""
        history = list(history)
        question = resolve_referent(question, history)  # "and its logP?" -> "and caffeine's logP?"
        answer = yield from self._stream(question, history, max_model_calls, tokens)
        if history and repeats_earlier_answer(answer.answer, history):
            yield Restarted(REPEATED)
            answer = yield from self._stream(question, [], max_model_calls, tokens)
        yield Final(answer)

    def ask(self, question: str, max_model_calls: int | None = None) -> AgentAnswer:
        """One question, no history: the checked answer (what `litmol ask` and `eval` record)."""
        final = None
        for event in self.run_turn(question, (), max_model_calls, tokens=False):
            if isinstance(event, Final):
                final = event.answer
        assert final is not None  # run_turn always ends with Final
        return final

    def call_tool(self, tool_name: str, /, **args: Any) -> str:
        """Run one of the agent's tools as the agent would, on this session's context (tests, benches)."""
        import warnings

        from langchain.tools import ToolRuntime

        tool = {t.name: t for t in [*TOOLS, ANSWER_TOOL]}[tool_name]
        runtime = ToolRuntime(state={}, context=self.context, config={}, stream_writer=lambda _: None,
                              tool_call_id=None, store=None)
        with warnings.catch_warnings():  # pydantic cannot serialize the context object; it is not meant to
            warnings.simplefilter("ignore", UserWarning)
            return tool.invoke({**args, "runtime": runtime})

    def _stream(self, question: str, history: list[Any], max_model_calls: int | None, tokens: bool):
        started = time.perf_counter()
        limit = max_model_calls or self.settings.agent.max_model_calls
        agent = self.agent(limit)
        messages: list[Any] = [*history, HumanMessage(question)]
        for mode, chunk in agent.stream({"messages": list(messages)}, {"recursion_limit": recursion_limit(limit)},
                                        context=self.context,
                                        stream_mode=["messages", "updates"] if tokens else ["updates"]):
            if mode == "messages":
                token = chunk[0]
                if isinstance(token, AIMessageChunk) and isinstance(token.content, str) and token.content:
                    yield Token(token.content)
                continue
            for update in chunk.values():
                for m in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                    messages.append(m)
                    if isinstance(m, AIMessage):
                        for c in m.tool_calls:
                            if c["name"] != ANSWER_TOOL.name:
                                yield ToolStarted(c.get("id") or "", c["name"], dict(c.get("args") or {}))
                    elif isinstance(m, ToolMessage) and m.name != ANSWER_TOOL.name:
                        yield ToolFinished(m.tool_call_id, m.name or "", not tool_failed(m), str(m.content),
                                           float(m.response_metadata.get("elapsed_s", 0.0) or 0.0))
        return summarize_run(messages, started, self.context.read_article)
