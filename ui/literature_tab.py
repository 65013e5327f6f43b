"""The Literature tab: search the index the app serves (hybrid, dense or lexical, with years) and read
an abstract by clicking its row."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from . import render

MODES = ["hybrid", "dense", "lexical"]


def search(context: Any, query: str, mode: str, since: float | None, until: float | None, k: int) -> tuple[Any, list[str], str]:
    query = (query or "").strip()
    if not query:
        raise gr.Error("Type a question or keywords to search.")
    since_y = int(since) if since else None
    until_y = int(until) if until else None
    if since_y and until_y and since_y > until_y:
        raise gr.Error(f"'from' year {since_y} is after 'to' year {until_y}")
    try:
        hits = context.index.search(query, k=int(k), mode=mode, since=since_y, until=until_y)
    except Exception as exc:
        raise gr.Error(str(exc)) from None
    frame = pd.DataFrame([{"PMID": f"[{p.pmid}]({render.PUBMED.format(p.pmid)})", "year": p.year,
                           "title": p.title, "score": round(p.score, 4)} for p in hits],
                         columns=["PMID", "year", "title", "score"])
    note = f"{len(hits)} results" + ("" if hits else ": try other words, another mode or a wider year range")
    return gr.update(value=frame, datatype=["markdown", "number", "str", "number"]), [p.pmid for p in hits], note


def show_article(context: Any, pmids: list[str], evt: gr.SelectData) -> str:
    row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    if not pmids or row is None or row >= len(pmids):
        return ""
    a = context.index.get_article(pmids[row])
    return (f"### {a['title']}\n*{a['journal']}* ({a['year'] or 'n.d.'}) · "
            f"[PMID:{a['pmid']}]({render.PUBMED.format(a['pmid'])})\n\n{a['abstract']}")


def build_tab(context: Any) -> None:
    """The tab's components and events (call inside a gr.Blocks); `context` is the agent session's
    ToolContext, whose index the tab searches."""

    def on_search(query: str, mode: str, since: float | None, until: float | None, k: int):
        return search(context, query, mode, since, until, k)

    def on_select(pmids: list[str], evt: gr.SelectData) -> str:
        return show_article(context, pmids, evt)

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
    go.click(on_search, [query, mode, since, until, k], [results, pmids, note], api_name="search")
    query.submit(on_search, [query, mode, since, until, k], [results, pmids, note], api_visibility="private")
    results.select(on_select, [pmids], abstract, api_visibility="private")
