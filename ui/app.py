"""The Gradio app: Chat (the agent, with its tool steps, cited sources and the molecules it handled),
Molecules (batch predictions with structures, a plot and a CSV) and Literature (search the index).

One chat model per backend/model choice is shared by every session (a local model loads once);
the queue is bounded, so a request over the limit is told the app is busy instead of waiting forever.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from . import links_tab, render
from .settings import ChatEndpoint, default_endpoints

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Does bromocriptine help women with infertility?",
    "Is caffeine likely to cross the blood-brain barrier?",
    "What is the logP and TPSA of propranolol?",
    "Any evidence that doxorubicin causes heart failure?",
    "What is the SMILES of ibuprofen?",
    "What does ADMET stand for?",
]
MAX_MOLECULES = 2000  # rows per Molecules-tab run (the CLI takes files of any size)
MAX_UPLOAD_MB = 20
THUMBNAILS = 200  # structure thumbnails drawn in the table (the rest: SMILES only)
UPLOAD_TYPES = [".csv", ".tsv", ".smi", ".txt", ".sdf", ".sd", ".mol"]
QUEUE_SIZE = 16  # waiting requests; one more is refused at once ("queue is full")
MODES = ["hybrid", "dense", "lexical"]
CSS = """
.litmol-evidence {max-height: 520px; overflow-y: auto}
footer {display: none !important}
"""

ChatModelFactory = Callable[[str, str | None, str | None], Any]


class ChatModels:
    """The operator's allow-list of chat models, and their compiled agents built once and shared.

    A browser picks a model by its name only; the backend, model and server URL behind the name come
    from the operator (`ui/settings.py`), so a caller cannot send the operator's key anywhere else."""

    def __init__(self, endpoints: list[ChatEndpoint], factory: ChatModelFactory | None = None) -> None:
        self.endpoints = {e.name: e for e in endpoints}
        self.factory = factory or _default_factory
        self._agents: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.endpoints)

    def agent(self, name: str):
        """The agent for the endpoint called `name`; NotOfferedError for any other name."""
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotOfferedError(f"the model {str(name)[:40]!r} is not offered by this app; choose one of "
                                  f"{', '.join(self.names)}")
        with self._lock:
            if name not in self._agents:
                from litmol.agent.loop import build_agent

                self._agents[name] = build_agent(self.factory(endpoint.backend, endpoint.model, endpoint.base_url))
            return self._agents[name]


class NotOfferedError(ValueError):
    """A caller asked for a chat model that is not on the operator's allow-list."""


def _default_factory(backend: str, model: str | None, base_url: str | None):
    from litmol.agent.backends import check_backend, make_chat_model

    kwargs = {"base_url": base_url} if backend == "openai" and base_url else {}
    chat = make_chat_model(backend, model, **kwargs)
    check_backend(chat)
    return chat


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
    """Stream one agent turn: tool steps as collapsible messages, answer tokens, then the verified
    answer with PubMed links; also the evidence panel, structures, property table and turn record."""
    history = list(history or [])
    message = (message or "").strip()
    if not message:
        raise gr.Error("Type a question first.")
    history.append({"role": "user", "content": message})
    yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
    started = time.perf_counter()
    try:
        agent = models.agent(model)
    except NotOfferedError as exc:
        history.append({"role": "assistant", "content": f"**Not available:** {exc}"})
        yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    except Exception as exc:  # missing local model, unreachable server: say so in the chat
        history.append({"role": "assistant", "content": f"**Backend unavailable:** {exc}"})
        yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    from litmol.agent.loop import repeats_earlier_answer, summarize_run

    messages: list[Any] = _history_messages(history[:-1]) + [HumanMessage(message)]
    steps: dict[str, tuple[int, float]] = {}
    answer_at: int | None = None
    try:
        for mode, chunk in agent.stream({"messages": messages}, {"recursion_limit": 28},
                                        stream_mode=["messages", "updates"]):
            if mode == "messages":
                token = chunk[0]
                if isinstance(token, AIMessageChunk) and isinstance(token.content, str) and token.content:
                    if answer_at is None:
                        history.append({"role": "assistant", "content": ""})
                        answer_at = len(history) - 1
                    history[answer_at]["content"] += token.content
                    yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
                continue
            for update in chunk.values():
                for m in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                    messages.append(m)
                    if isinstance(m, AIMessage):
                        if answer_at is not None and m.tool_calls:  # text before a call was not the answer
                            history.pop(answer_at)
                            answer_at = None
                        for c in m.tool_calls:
                            if c["name"] == "final_answer":
                                continue
                            history.append({"role": "assistant", "content": f"`{json.dumps(c['args'])}`",
                                            "metadata": {"title": f"Tool · {c['name']}", "status": "pending",
                                                         "id": c["id"]}})
                            steps[c["id"]] = (len(history) - 1, time.perf_counter())
                    elif isinstance(m, ToolMessage) and m.tool_call_id in steps:
                        at, t0 = steps[m.tool_call_id]
                        failed = m.status == "error" or str(m.content).startswith(("resolve_molecule: no",
                                                                                   "predict_properties: "))
                        history[at]["content"] += "\n\n" + render.tool_summary(m.name, m.content)
                        history[at]["metadata"] |= {"status": "done", "duration": round(time.perf_counter() - t0, 2),
                                                    "log": "failed" if failed else "ok"}
                    yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
    except Exception as exc:  # a model or server failure mid-turn: keep what was shown, say what happened
        logger.exception("chat turn failed")
        history.append({"role": "assistant", "content": f"**The agent stopped:** {exc}"})
        yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    result = summarize_run(messages, started)
    earlier = _history_messages(history[:-1])
    if earlier and repeats_earlier_answer(result.answer, earlier):  # a copy of an earlier answer: ask it alone
        messages = [HumanMessage(message)]
        state = agent.invoke({"messages": list(messages)}, {"recursion_limit": 28})
        messages = state["messages"]
        result = summarize_run(messages, started)
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


# -- Molecules tab -----------------------------------------------------------------------------
def _uploaded_file(upload: str) -> Path:
    """The file, only if it is one the app received as an upload: a regular file inside Gradio's upload
    folder after every link is resolved (Gradio checks this too; a caller's path is never trusted)."""
    from gradio.utils import get_upload_folder

    real = Path(os.path.realpath(upload))
    if not real.is_relative_to(os.path.realpath(get_upload_folder())) or not real.is_file():
        raise gr.Error("that file was not uploaded to this app; upload it with the file box")
    return real


def _inputs_from(text: str, upload: str | None) -> tuple[list[dict[str, str]], list[str]]:
    from litmol.predictors.files import read_molecule_file

    if upload:
        path = _uploaded_file(upload)
        if path.suffix.lower() not in UPLOAD_TYPES:
            raise gr.Error(f"{path.name}: expected one of {', '.join(UPLOAD_TYPES)}")
        if path.stat().st_size > MAX_UPLOAD_MB * 2**20:
            raise gr.Error(f"{path.name} is larger than {MAX_UPLOAD_MB} MB; use `litmol predict --input` for big files")
        try:
            rows, texts, _ = read_molecule_file(path)
        except Exception as exc:
            raise gr.Error(str(exc).replace(str(path.parent) + "/", "")) from None
        return rows, texts
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return [{"input": line} for line in lines], lines


def predict_table(text: str, upload: str | None, progress=gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    """Predictions for pasted lines or an uploaded file: one row per input, errors kept in place."""
    from litmol.predictors.api import predict
    from litmol.predictors.files import chunks, write_results

    rows, texts = _inputs_from(text, upload)
    if not texts:
        raise gr.Error("Paste SMILES or drug names (one per line) or upload a CSV/SDF file.")
    if len(texts) > MAX_MOLECULES:
        raise gr.Error(f"{len(texts):,} molecules; the app takes at most {MAX_MOLECULES:,} per run "
                       "(use `litmol predict --input FILE --output OUT.csv` for more)")
    results: list[dict[str, Any]] = []
    for part in progress.tqdm(list(chunks(texts, 128)), desc="predicting"):
        results += predict(part, properties=render.wanted_properties())
    table = []
    for i, (row, res) in enumerate(zip(rows, results, strict=True)):
        props = res["properties"]
        label = row.get("title") or f"record {row['record']}" if "record" in row else res["input"] or ""
        item = {"#": i + 1, "input": label[:80],
                "structure": render.thumbnail_markdown(res["smiles"]) if res["valid"] and i < THUMBNAILS else "",
                "name": res.get("name") or "", "error": res["error"] or ""}
        for key in render.TABLE_PROPERTIES:
            value = props.get(key)
            item[key] = render._fmt(value) if value is not None else None
            if f"{key}_std" in props:
                item[f"{key} ±"] = round(props[f"{key}_std"], 2)
            if props.get(f"{key}_in_domain") is False:
                item[key + " domain"] = "outside"
        item["alerts"] = ", ".join(f"{a['catalog']}:{a['name']}" for a in res["alerts"])
        item["smiles"] = res["smiles"] or ""
        table.append(item)
    frame = pd.DataFrame(table)
    for col in [c for c in frame.columns if c.endswith(" domain")]:
        frame[col] = frame[col].fillna("in")
    folder = Path(tempfile.mkdtemp(prefix="litmol-predict-"))
    out = folder / "litmol-predictions.csv"
    write_results(out, rows, results)
    numeric = [c for c in frame.columns if c in render.TABLE_PROPERTIES and pd.api.types.is_numeric_dtype(frame[c])]
    bad = sum(not r["valid"] for r in results)
    status = f"{len(results):,} rows, {bad:,} could not be read (kept with their error)."
    x = "clogp" if "clogp" in numeric else (numeric[0] if numeric else None)
    y = "tpsa" if "tpsa" in numeric else (numeric[-1] if numeric else None)
    datatypes = ["markdown" if c == "structure" else "number" if pd.api.types.is_numeric_dtype(frame[c])
                 and not pd.api.types.is_bool_dtype(frame[c]) else "str" for c in frame.columns]
    return (gr.update(value=frame, datatype=datatypes), str(out), status, frame,
            gr.update(choices=numeric, value=x), gr.update(choices=numeric, value=y), scatter(frame, x, y))


def scatter(frame: pd.DataFrame | None, x: str | None, y: str | None):
    """A scatter of two properties, one point per valid molecule, labelled by name or input."""
    if frame is None or not len(frame) or not x or not y or x not in frame or y not in frame:
        return gr.update(value=None)
    data = frame[frame["error"] == ""].copy()
    data["molecule"] = data["name"].where(data["name"] != "", data["input"])
    data = data[["molecule", x, y]].dropna()
    return gr.update(value=data, x=x, y=y, tooltip=["molecule", x, y], title=f"{y} vs {x}")


# -- Literature tab ----------------------------------------------------------------------------
def search(query: str, mode: str, since: float | None, until: float | None, k: int) -> tuple[Any, list[str], str]:
    from litmol.agent.tools import _index

    query = (query or "").strip()
    if not query:
        raise gr.Error("Type a question or keywords to search.")
    since_y = int(since) if since else None
    until_y = int(until) if until else None
    if since_y and until_y and since_y > until_y:
        raise gr.Error(f"'from' year {since_y} is after 'to' year {until_y}")
    try:
        hits = _index().search(query, k=int(k), mode=mode, since=since_y, until=until_y)
    except Exception as exc:
        raise gr.Error(str(exc)) from None
    frame = pd.DataFrame([{"PMID": f"[{p.pmid}]({render.PUBMED.format(p.pmid)})", "year": p.year,
                           "title": p.title, "score": round(p.score, 4)} for p in hits],
                         columns=["PMID", "year", "title", "score"])
    note = f"{len(hits)} results" + ("" if hits else ": try other words, another mode or a wider year range")
    return gr.update(value=frame, datatype=["markdown", "number", "str", "number"]), [p.pmid for p in hits], note


def show_article(pmids: list[str], evt: gr.SelectData) -> str:
    from litmol.agent.tools import _index

    row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    if not pmids or row is None or row >= len(pmids):
        return ""
    a = _index().get_article(pmids[row])
    return (f"### {a['title']}\n*{a['journal']}* ({a['year'] or 'n.d.'}) · "
            f"[PMID:{a['pmid']}]({render.PUBMED.format(a['pmid'])})\n\n{a['abstract']}")


# -- the app -----------------------------------------------------------------------------------
def build_app(factory: ChatModelFactory | None = None, default_model: str = "0.5b",
              endpoints: list[ChatEndpoint] | None = None) -> gr.Blocks:
    """The app; `endpoints` is the operator's allow-list of chat models (default: the local models)."""
    models = ChatModels(endpoints or default_endpoints(default_model), factory)
    with gr.Blocks(title="litmol", delete_cache=(3600, 3600)) as app:
        gr.Markdown("## litmol · offline drug-discovery assistant\nPubMed literature and molecular property "
                    "predictions on this machine; every citation is checked against what was retrieved.")
        with gr.Tab("Chat"):
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

        with gr.Tab("Molecules"):
            frame_state = gr.State(None)
            with gr.Row():
                text = gr.Textbox(label="SMILES or drug names, one per line", lines=6,
                                  placeholder="aspirin\nCC(=O)Nc1ccc(O)cc1\nimatinib")
                upload = gr.File(label=f"…or a CSV (SMILES or name column) / SDF file, ≤ {MAX_UPLOAD_MB} MB, "
                                       f"≤ {MAX_MOLECULES:,} rows", file_types=UPLOAD_TYPES, type="filepath")
            run = gr.Button("Predict", variant="primary")
            status = gr.Markdown()
            table = gr.Dataframe(label="Predictions (click a header to sort)", wrap=False, interactive=False,
                                 max_height=520)
            csv_file = gr.File(label="Download CSV (input columns + every property)")
            with gr.Row():
                x = gr.Dropdown(label="x", choices=[])
                y = gr.Dropdown(label="y", choices=[])
            plot = gr.ScatterPlot(label="Property plot", height=380)
            run.click(predict_table, [text, upload], [table, csv_file, status, frame_state, x, y, plot],
                      api_name="predict")
            for dropdown in (x, y):
                dropdown.change(scatter, [frame_state, x, y], plot, api_visibility="private")

        with gr.Tab("Literature"):
            pmids = gr.State([])
            with gr.Row():
                query = gr.Textbox(label="Search", placeholder="metformin breast cancer risk", scale=4)
                mode = gr.Radio(MODES, value="hybrid", label="Mode", scale=2)
            with gr.Row():
                since = gr.Number(label="From year", precision=0)
                until = gr.Number(label="To year", precision=0)
                k = gr.Slider(1, 50, value=10, step=1, label="Results")
            go = gr.Button("Search", variant="primary")
            note = gr.Markdown()
            results = gr.Dataframe(label="Results (click a row for its abstract)", interactive=False, wrap=True)
            abstract = gr.Markdown()
            go.click(search, [query, mode, since, until, k], [results, pmids, note], api_name="search")
            query.submit(search, [query, mode, since, until, k], [results, pmids, note], api_visibility="private")
            results.select(show_article, [pmids], abstract, api_visibility="private")

        with gr.Tab("Links"):
            links_tab.build_tab()
    app.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return app


def chat_turn_fn(models: ChatModels):
    def chat(message: str, history: list[dict[str, Any]], model: str):
        yield from chat_turn(models, message, history, model)

    return chat


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, auth: tuple[str, str] | None = None,
           factory: ChatModelFactory | None = None, prevent_thread_lock: bool = False, default_model: str = "0.5b",
           endpoints: list[ChatEndpoint] | None = None, **kwargs: Any):
    """Build and serve the app; returns the Blocks (its `.local_url` once running). `endpoints`: the
    chat models a browser may pick (default: the local ones and LITMOL_UI_ENDPOINTS)."""
    app = build_app(factory, default_model, endpoints)
    app.launch(server_name=host, server_port=port, share=share, auth=auth, prevent_thread_lock=prevent_thread_lock,
               theme=gr.themes.Soft(), css=CSS, show_error=True, quiet=prevent_thread_lock,
               max_file_size=f"{MAX_UPLOAD_MB}mb", **kwargs)
    return app
