"""The Links tab: drug–disease and drug–target links of the index (text mining and PubMed indexing),
their evidence and its source, a neighbourhood network and a per-year trend for the link a user clicks."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from . import render

COLOURS = {"treats": "#2e7d32", "causes": "#c62828", "other": "#757575", "inhibits": "#6a1b9a",
           "activates": "#ef6c00", "acts_on": "#00838f"}
COLUMNS = ["drug", "relation", "disease or target", "score", "articles", "sources", "years", "PMIDs"]
ALL = "all"


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def network_plot(center: str, links: list[Any]):
    """The query's neighbourhood: one node per linked drug or disease, edges coloured by relation
    and as thick as the link's score."""
    if not links:
        return None
    import networkx as nx

    plt = _figure()
    g = nx.Graph()
    g.add_node(center)
    for lk in links:
        other = lk.drug if lk.disease == center else lk.disease
        if other == center:
            other = lk.drug
        g.add_edge(center, other, relation=lk.relation, score=lk.score)
    pos = nx.spring_layout(g, seed=7, k=1.2 / max(1, len(g) ** 0.5))
    fig, ax = plt.subplots(figsize=(7, 5.2), dpi=100)
    edges = list(g.edges(data=True))
    nx.draw_networkx_edges(g, pos, ax=ax, edgelist=[(a, b) for a, b, _ in edges],
                           edge_color=[COLOURS.get(d["relation"], "#999") for _, _, d in edges],
                           width=[1 + 5 * d["score"] for _, _, d in edges], alpha=0.8)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=[900 if n == center else 300 for n in g],
                           node_color=["#1565c0" if n == center else "#eceff1" for n in g], edgecolors="#455a64")
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=8)
    ax.margins(0.18)  # room for the labels of outer nodes
    for rel, colour in COLOURS.items():
        if any(d["relation"] == rel for _, _, d in edges):
            ax.plot([], [], color=colour, linewidth=3, label=rel)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.axis("off")
    fig.tight_layout()
    plt.close(fig)
    return fig


def trend_plot(title: str, counts: list[tuple[int, int]]):
    """Articles per year that co-mention a drug and a disease."""
    if not counts:
        return None
    plt = _figure()
    years = list(range(counts[0][0] - 1, counts[-1][0] + 2))  # a year of margin either side
    by_year = dict(counts)
    fig, ax = plt.subplots(figsize=(7, 2.8), dpi=100)
    ax.bar(years, [by_year.get(y, 0) for y in years], color="#1565c0", width=0.8)
    ax.set_ylabel("articles")
    ax.set_title(title, fontsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xticks(years[:: max(1, len(years) // 10)])
    fig.tight_layout()
    plt.close(fig)
    return fig


def find(context: Any, name: str, kind: str, relation: str, min_articles: float | None) -> tuple[Any, list[dict], str, Any]:
    """Links of a drug, disease or target (from the session context's link table) for the table, the state,
    a note and the network plot."""
    from litmol.retrieval import RetrievalError

    name = (name or "").strip()
    if not name:
        raise gr.Error("Type a drug, a disease or a target.")
    if kind not in ("disease", "drug", "target"):
        raise gr.Error("Choose disease, drug or target.")
    rel = None if relation == ALL else relation
    try:
        table = context.links
        links = table.links(**{kind: name}, relation=rel, min_articles=max(1, int(min_articles or 1)), limit=40)
    except RetrievalError as exc:
        raise gr.Error(str(exc)) from None
    rows = [{"drug": lk.drug, "relation": lk.relation, "disease or target": lk.disease, "score": lk.score,
             "articles": lk.n_articles, "sources": ", ".join(f"{k} {v}" for k, v in lk.sources.items()),
             "years": f"{lk.first_year}–{lk.last_year}" if lk.first_year else "",
             "PMIDs": " ".join(f"[{p}]({render.PUBMED.format(p)})" for p in lk.pmids[:6])
             + (" …" if len(lk.pmids) > 6 else "")} for lk in links]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    center = (links[0].drug if kind == "drug" else links[0].disease) if links else name
    plural = "" if len(links) == 1 else "s"
    note = (f"{len(links)} link{plural} in {table.n_articles:,} articles (their text, and their PubMed indexing where "
            "they have it); click a row for its evidence and trend"
            if links else f"No links for {name}: try another relation or fewer articles.")
    state = [lk.to_dict() for lk in links]
    return (gr.update(value=frame, datatype=["str", "str", "str", "number", "number", "str", "str", "markdown"]), state,
            note, network_plot(center, links))


def select(context: Any, state: list[dict], evt: gr.SelectData) -> tuple[str, Any]:
    """Evidence sentences and the per-year trend of the clicked link."""
    row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
    if not state or row is None or row >= len(state):
        return "", None
    lk = state[row]
    other, other_id = lk.get("disease", lk.get("target", "")), lk.get("disease_id", lk.get("target_id", ""))
    lines = [f"### {lk['drug']} {lk['relation']} {other}",
             f"score {lk['score']:.2f} · {lk['n_articles']} article(s) · "
             + ", ".join(f"{k}: {v}" for k, v in lk.get("sources", {}).items())]
    for ev in lk["evidence"]:
        text = ' '.join(ev['sentence'].split())
        shown = f"indexed as *{text}*" if ev.get("source") == "PubMed indexing" else text
        lines.append(f"> {shown} [PMID:{ev['pmid']}]({render.PUBMED.format(ev['pmid'])}) ({ev.get('source', '')})")
    trend = trend_plot(f"{lk['drug']} and {other}: articles per year", context.links.trend(lk["drug_id"], other_id))
    return "\n\n".join(lines), trend


def build_tab(context: Any) -> None:
    """The tab's components and events (call inside a gr.Blocks); `context` is the agent session's
    ToolContext, whose link table (of the index the app serves) the tab reads."""

    def on_find(name: str, kind: str, relation: str, min_articles: float | None):
        return find(context, name, kind, relation, min_articles)

    def on_select(state: list[dict], evt: gr.SelectData):
        return select(context, state, evt)

    state = gr.State([])
    with gr.Row():
        name = gr.Textbox(label="Drug, disease or target",
                          placeholder="angina, breast cancer, propranolol, dopamine receptors …", scale=4)
        kind = gr.Radio(["disease", "drug", "target"], value="disease", label="It is a", scale=1)
        relation = gr.Radio([ALL, "treats", "causes", "inhibits", "activates", "acts_on", "other"], value=ALL,
                            label="Relation", scale=2)
        min_articles = gr.Number(label="Min. articles", value=1, precision=0, minimum=1, scale=1)
    go = gr.Button("Find links", variant="primary")
    note = gr.Markdown()
    with gr.Row():
        with gr.Column(scale=3):
            results = gr.Dataframe(label="Links (click a row for evidence and trend)", interactive=False, wrap=True)
        with gr.Column(scale=2):
            network = gr.Plot(label="Neighbourhood (edge width = score)")
    evidence = gr.Markdown()
    trend = gr.Plot(label="Articles per year")
    go.click(on_find, [name, kind, relation, min_articles], [results, state, note, network], api_name="links")
    name.submit(on_find, [name, kind, relation, min_articles], [results, state, note, network],
                api_visibility="private")
    results.select(on_select, [state], [evidence, trend], api_visibility="private")
