"""The Chat tab: the agent session's turn events rendered as a conversation (tool steps as collapsible
messages, streamed tokens, then the checked answer with PubMed links), with the cited passages, the
molecules the agent handled and their predictions beside it.

The operator's allow-list names the chat models a browser may pick; one agent session per name is
built on first use and shared by every browser (a local model loads once), all on the same index,
link table and predictors.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from langchain_core.messages import AIMessage, HumanMessage

from litmol.agent.session import AgentSession, Final, Restarted, Token, ToolFinished, ToolStarted
from litmol.settings import ChatEndpoint

from . import render

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Does bromocriptine help women with infertility?",
    "Is caffeine likely to cross the blood-brain barrier?",
    "What is the logP and TPSA of propranolol?",
    "Any evidence that doxorubicin causes heart failure?",
    "What is the SMILES of ibuprofen?",
    "What does ADMET stand for?",
]

ChatModelFactory = Callable[[str, str | None, str | None], Any]


class ChatModels:
    """The operator's allow-list of chat models, and an agent session per name, built once and shared.

    A browser picks a model by its name only; the backend, model and server URL behind the name come
    from the operator (`litmol.settings.UISettings`), so a caller cannot send the operator's key anywhere else."""

    def __init__(self, base: AgentSession, endpoints: list[ChatEndpoint], factory: ChatModelFactory | None = None) -> None:
        self.base = base
        self.endpoints = {e.name: e for e in endpoints}
        self.factory = factory or self._default_factory
        self._sessions: dict[str, AgentSession] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.endpoints)

    @property
    def context(self):
        """The tools' context every session shares: the index, link table and predictors."""
        return self.base.context

    def session(self, name: str) -> AgentSession:
        """The session for the endpoint called `name`; NotOfferedError for any other name."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotOfferedError(f"the model {str(name)[:40]!r} is not offered by this app; choose one of "
                                  f"{', '.join(self.names)}")
        with self._lock:
            if name not in self._sessions:
                self._sessions[name] = self.base.with_chat_model(
                    self.factory(endpoint.backend, endpoint.model, endpoint.base_url))
            return self._sessions[name]

    def _default_factory(self, backend: str, model: str | None, base_url: str | None):
        from litmol.agent.backends import check_backend, make_chat_model

        kwargs = {"base_url": base_url} if backend == "openai" and base_url else {}
        chat = make_chat_model(backend, model, settings=self.base.settings.agent, **kwargs)
        check_backend(chat)
        return chat


class NotOfferedError(ValueError):
    """A caller asked for a chat model that is not on the operator's allow-list."""


def _history_messages(history: list[dict[str, Any]]) -> list[Any]:
    """Earlier questions and answers for the agent (tool steps are display only)."""
    out: list[Any] = []
    for m in history:
        text = render.message_text(m.get("content"))
        if (m.get("metadata") or {}).get("title") or not text:
            continue
        out.append(HumanMessage(text) if m["role"] == "user" else AIMessage(render.plain_answer(text)))
    return out


def _property_table(messages: list[Any]) -> pd.DataFrame:
    """Structured predictions for the molecules the agent predicted on (same inputs, same models)."""
    from litmol.predictors.api import predict

    inputs = []
    for m in messages:
        if isinstance(m, AIMessage):
            inputs += [c["args"].get("molecule") for c in m.tool_calls if c["name"] == "predict_properties"]
    rows: list[list[Any]] = []
    inputs = [i for i in dict.fromkeys(inputs) if i]
    if inputs:
        try:
            for result in predict(inputs, properties=render.wanted_properties()):
                rows += render.property_rows(result)
        except Exception as exc:  # the answer already has the tool's own output; the table is extra
            rows.append(["", "error", str(exc), "", "", ""])
    return pd.DataFrame(rows, columns=["molecule", "property", "value", "uncertainty", "unit", "in domain"])


def chat_turn(models: ChatModels, message: str, history: list[dict[str, Any]], model: str
              ) -> Iterator[tuple[Any, ...]]:
    """Render one turn of the session's events: tool steps as collapsible messages, answer tokens, then
    the verified answer with PubMed links; also the evidence panel, structures, property table and turn record."""
    history = list(history or [])
    message = (message or "").strip()
    if not message:
        raise gr.Error("Type a question first.")
    history.append({"role": "user", "content": message})
    skip = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
    yield history, "", *skip
    try:
        session = models.session(model)
    except NotOfferedError as exc:
        history.append({"role": "assistant", "content": f"**Not available:** {exc}"})
        yield history, "", *skip
        return
    except Exception as exc:  # missing local model, unreachable server: say so in the chat
        history.append({"role": "assistant", "content": f"**Backend unavailable:** {exc}"})
        yield history, "", *skip
        return
    steps: dict[str, tuple[int, float]] = {}
    answer_at: int | None = None
    result = None
    try:
        for event in session.run_turn(message, _history_messages(history[:-1])):
            if isinstance(event, Token):
                if answer_at is None:
                    history.append({"role": "assistant", "content": ""})
                    answer_at = len(history) - 1
                history[answer_at]["content"] += event.text
            elif isinstance(event, ToolStarted | Restarted):
                if answer_at is not None:  # text before a tool call (or a dropped draft) was not the answer
                    history.pop(answer_at)
                    answer_at = None
                if isinstance(event, ToolStarted):
                    history.append({"role": "assistant", "content": f"`{json.dumps(event.args)}`",
                                    "metadata": {"title": f"Tool · {event.name}", "status": "pending",
                                                 "id": event.call_id}})
                    steps[event.call_id] = (len(history) - 1, time.perf_counter())
            elif isinstance(event, ToolFinished) and event.call_id in steps:
                at, t0 = steps[event.call_id]
                history[at]["content"] += "\n\n" + render.tool_summary(event.name, event.output)
                history[at]["metadata"] |= {"status": "done", "duration": round(time.perf_counter() - t0, 2),
                                            "log": "ok" if event.ok else "failed"}
            elif isinstance(event, Final):
                result = event.answer
                continue
            yield history, "", *skip
    except Exception as exc:  # a model or server failure mid-turn: keep what was shown, say what happened
        logger.exception("chat turn failed")
        history.append({"role": "assistant", "content": f"**The agent stopped:** {exc}"})
        yield history, "", *skip
        return
    messages = result.messages
    years = {c["pmid"]: c.get("year") for c in result.citations}
    text = render.link_citations(result.answer)
    sources = render.sources_markdown(result.citations, years)
    final = text + (f"\n\n{sources}" if sources else "") + f"\n\n<sub>{result.latency_s:.1f} s</sub>"
    if answer_at is None:
        history.append({"role": "assistant", "content": final})
    else:
        history[answer_at]["content"] = final
    gallery = [(img, label) for label, smiles in render.molecules_in(messages)
               if (img := render.structure_image(smiles)) is not None]
    record = {"question": message, **result.to_dict()}
    yield history, "", render.evidence_markdown(result.citations, messages, years), gallery, \
        _property_table(messages), record


def export_conversation(history: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[str]:
    """The conversation as JSON (messages + each turn's verified answer, citations and tool calls) and Markdown."""
    if not history:
        raise gr.Error("Nothing to export yet: ask a question first.")
    folder = Path(tempfile.mkdtemp(prefix="litmol-export-"))
    (folder / "litmol-conversation.json").write_text(json.dumps({"messages": history, "turns": records},
                                                                indent=2, default=str))
    (folder / "litmol-conversation.md").write_text(render.export_markdown(history))
    return [str(folder / "litmol-conversation.json"), str(folder / "litmol-conversation.md")]


def chat_turn_fn(models: ChatModels):
    def chat(message: str, history: list[dict[str, Any]], model: str):
        yield from chat_turn(models, message, history, model)

    return chat


def build_tab(models: ChatModels) -> None:
    """The tab's components and events (call inside a gr.Blocks)."""
    records = gr.State([])
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="litmol", height=560, buttons=["copy"],
                                 placeholder="Ask about a drug, a target or a disease. The agent searches "
                                             "PubMed abstracts and runs property models; click a step to "
                                             "see what it did.")
            box = gr.Textbox(placeholder="e.g. Does bromocriptine help women with infertility?",
                             show_label=False, submit_btn="Ask", stop_btn=True, max_lines=4)
            gr.Examples(EXAMPLES, inputs=box, label="Examples that work on the default corpus")
            with gr.Row():
                clear = gr.Button("Clear", size="sm")
                export = gr.Button("Export JSON + Markdown", size="sm")
            files = gr.File(label="Conversation export", file_count="multiple", visible=False)
        with gr.Column(scale=2):
            with gr.Accordion("Model", open=False):
                model = gr.Dropdown(models.names, value=models.names[0], label="Model",
                                    info="the chat models this app's operator offers (local: on "
                                         "this machine)")
            with gr.Accordion("Cited passages", open=True):
                evidence = gr.Markdown("_Citations of the last answer appear here with their passages._",
                                       elem_classes=["litmol-evidence"])
            gallery = gr.Gallery(label="Molecules in this conversation", columns=3, height=260,
                                 object_fit="contain")
            props = gr.Dataframe(label="Predictions", wrap=True, interactive=False,
                                 headers=["molecule", "property", "value", "uncertainty", "unit", "in domain"])
    record = gr.JSON(visible=False)
    ask_event = box.submit(chat_turn_fn(models), [box, chatbot, model],
                           [chatbot, box, evidence, gallery, props, record], api_name="chat")
    box.stop(None, None, None, cancels=[ask_event], api_visibility="private")  # the stop button
    ask_event.then(lambda r, rs: rs + [r] if isinstance(r, dict) and r else rs, [record, records], records,
                   api_visibility="private")
    clear.click(lambda: ([], [], "", [], None), None, [chatbot, records, evidence, gallery, props],
                api_visibility="private")
    export.click(export_conversation, [chatbot, records], files, api_name="export").then(
        lambda: gr.update(visible=True), None, files, api_visibility="private")
