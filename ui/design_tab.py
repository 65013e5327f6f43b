"""The Design tab: seeds and objective sliders -> the design engine (predictors/design) with progress ->
a grid of structures with their scores, the ranked table, a Pareto plot of any two objectives, and the
shortlist as CSV and SDF."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from . import render

MAX_SEEDS = 5
MAX_BUDGET = 5000  # oracle calls per app run (the CLI takes any budget)
MAX_SPEC_CHARS = 200
MAX_OBJECTIVES = 10
_PROP = re.compile(r"\s*([A-Za-z][\w\-]*)")


def _objectives(qed: float, sa: float, logs: float, bbb: float, tpsa: float, extra: str) -> list[str]:
    specs = []
    if qed > 0:
        specs.append(f"qed>={qed:g}")
    if sa < 10:
        specs.append(f"sa<={sa:g}")
    if logs > -10:
        specs.append(f"logs>={logs:g}")
    if bbb > 0:
        specs.append(f"bbb>={bbb:g}")
    if tpsa < 200:
        specs.append(f"tpsa<={tpsa:g}")
    lines = [line.strip() for line in (extra or "").splitlines() if line.strip()]
    if any(len(line) > MAX_SPEC_CHARS for line in lines) or len(lines) > MAX_OBJECTIVES:
        raise gr.Error(f"at most {MAX_OBJECTIVES} objectives of {MAX_SPEC_CHARS} characters each")
    from litmol.predictors.api import known_properties
    from litmol.predictors.registry import list_predictors

    known = list(known_properties(list_predictors()))
    given = {_column(m.group(1), known) for line in lines if (m := _PROP.match(line))}
    return [s for s in specs if _column(_PROP.match(s).group(1), known) not in given] + lines  # typed ones win


def _column(name: str, known: list[str]) -> str:
    """The registry column a property name means (so "solubility" and the logS slider are one objective)."""
    from litmol.predictors.design.objectives import ObjectiveError, resolve_property

    try:
        return resolve_property(name, known)
    except ObjectiveError:
        return name.lower()  # the engine says what is wrong with it


def run_design(seeds_text: str, qed: float, sa: float, logs: float, bbb: float, tpsa: float, similarity: float,
               extra: str, n: float, budget: float, random_seed: float,
               progress=gr.Progress(), settings: Any = None) -> tuple[Any, ...]:  # noqa: B008
    """One design run from the tab's controls: gallery, table, files, status, plot data and axis choices.
    `settings`: the session's predictor settings (in process, or its predictor service)."""
    from litmol.predictors.design import DesignConfig, DesignError, ObjectiveError, propose
    from litmol.predictors.design.export import write_candidates

    seeds = [line.strip() for line in (seeds_text or "").splitlines() if line.strip()]
    if len(seeds) > MAX_SEEDS:
        raise gr.Error(f"{len(seeds)} seeds; at most {MAX_SEEDS}")
    budget = int(min(max(budget or 100, 50), MAX_BUDGET))
    config = DesignConfig(n=int(min(max(n or 10, 1), 50)), budget=budget,
                          min_similarity=similarity if seeds and similarity > 0 else None,
                          random_seed=int(random_seed or 0) % 2**31)
    progress(0, desc="starting population")

    def on_generation(info: Any) -> None:
        progress(min(1.0, info.calls / budget), desc=f"{info.calls:,}/{budget:,} scored, {info.feasible} feasible")

    try:
        result = propose(seeds, _objectives(qed, sa, logs, bbb, tpsa, extra), config, settings=settings,
                         on_generation=on_generation)
    except (DesignError, ObjectiveError) as exc:
        raise gr.Error(str(exc)) from None
    rows = [c.to_dict() for c in result.candidates]
    status = (f"**{len(rows)} candidates** from {result.feasible:,} feasible of {result.evaluated:,} molecules scored "
              f"({result.calls:,} predictor calls, {result.seconds:.0f} s). Objectives: "
              + ", ".join(f"`{o.label}`" for o in result.objectives)
              + ". These are model predictions, not measurements; * = outside a model's applicability domain.")
    if not result.objectives:
        status += ("\n\nNo objective was set: the candidates are the seeds' analogues ranked by similarity. Set a "
                   "slider or type one (e.g. `qed>=0.6`) to optimise a property.")
    if not rows:
        status += "\n\nNo molecule met every constraint: loosen one, lower the similarity or raise the budget."
    gallery = [(render.structure_image(r["smiles"], 260), f"#{r['rank']} score {r['score']:.3f}") for r in rows]
    table = pd.DataFrame([{"#": r["rank"], "structure": render.thumbnail_markdown(r["smiles"]), "score": r["score"],
                           **{k + ("*" if k in r["out_of_domain"] else ""): render._fmt(v)
                              for k, v in r["properties"].items()},
                           "similarity": r["seed_similarity"], "nearest seed": r["nearest_seed"] or "",
                           "nearest drug": f"{r['nearest_drug']} ({r['drug_similarity']:.2f})",
                           "novelty": r["novelty"], "alerts": ", ".join(r["alerts"]) or "none",
                           "pareto front": r["pareto_front"], "smiles": r["smiles"], "why": r["why"]} for r in rows])
    folder = Path(tempfile.mkdtemp(prefix="litmol-design-"))
    files = []
    if rows:
        for name in ("litmol-candidates.csv", "litmol-candidates.sdf"):
            write_candidates(folder / name, result)
            files.append(str(folder / name))
    plot_frame = trade_off_frame(result)
    numeric = [c for c in plot_frame.columns if c not in ("candidate", "set")
               and pd.api.types.is_numeric_dtype(plot_frame[c])]
    x, y = default_axes(result, numeric)
    datatypes = ["markdown" if c == "structure" else "number" if pd.api.types.is_numeric_dtype(table[c]) else "str"
                 for c in table.columns] if rows else None
    return (gallery, gr.update(value=table, datatype=datatypes) if rows else gr.update(value=None), files or None,
            status, plot_frame, gr.update(choices=numeric, value=x), gr.update(choices=numeric, value=y),
            pareto_plot(plot_frame, x, y))


def default_axes(result: Any, numeric: list[str]) -> tuple[str | None, str | None]:
    """Two different columns to plot: the first two objectives, then similarity to the seeds, then score
    (without objectives: similarity against score)."""
    axes = list(dict.fromkeys([*(o.prop for o in result.objectives), "similarity", "score"]))
    axes = [c for c in axes if c in numeric]
    return (axes[0] if axes else None), (axes[1] if len(axes) > 1 else None)


MAX_PLOTTED = 2000  # feasible molecules drawn (the best by score)


def trade_off_frame(result: Any) -> pd.DataFrame:
    """Every feasible molecule scored (the best MAX_PLOTTED), marked shortlist / Pareto front / feasible; the
    front is computed over all of them (each objective's desirability and the seed similarity)."""
    import numpy as np

    from litmol.predictors.design.ranking import pareto_fronts

    ranks = {c.smiles: c.rank for c in result.candidates}
    feasible = sorted((e for e in result.evaluations if e.valid and e.feasible), key=lambda e: -e.score)[:MAX_PLOTTED]
    if not feasible:
        return pd.DataFrame(columns=["candidate", "set", "score"])
    vectors = np.array([[*e.desirability.values(), *([e.similarity] if e.similarity is not None else [])] or [e.score]
                        for e in feasible])
    fronts = pareto_fronts(vectors)
    props = [o.prop for o in result.objectives]
    return pd.DataFrame([{"candidate": f"#{ranks[e.smiles]}" if e.smiles in ranks else e.smiles,
                          "set": "shortlist" if e.smiles in ranks else "Pareto front" if f == 1 else "feasible",
                          "score": round(e.score, 4), "similarity": e.similarity,
                          **{p: e.properties.get(p) for p in props}} for e, f in zip(feasible, fronts, strict=True)])


def pareto_plot(frame: pd.DataFrame | None, x: str | None, y: str | None):
    if frame is None or not len(frame) or not x or not y or x not in frame or y not in frame:
        return gr.update(value=None)
    data = frame[list(dict.fromkeys(["candidate", "set", x, y]))].dropna()  # x == y: one column, not two
    return gr.update(value=data, x=x, y=y, color="set", tooltip=["candidate", x, y],
                     title=f"{y} vs {x}: every feasible molecule, the Pareto front and the shortlist")


def build_tab(predictor_settings: Any = None) -> None:
    """The tab's components and events (call inside a gr.Blocks); design scores with `predictor_settings`."""
    frame_state = gr.State(None)
    with gr.Row():
        seeds = gr.Textbox(label=f"Seed molecules: drug names or SMILES, one per line (≤ {MAX_SEEDS}; empty: ZINC)",
                           lines=4, placeholder="imatinib\nnilotinib")
        extra = gr.Textbox(label="More objectives, one per line (PROP>=X, PROP<=X, PROP LO..HI, PROP max|min, PROP>=seed)",
                           lines=4, placeholder="hERG<=0.3\nmw 250..450\nlogd max")
    with gr.Row():
        qed = gr.Slider(0, 1, value=0.5, step=0.05, label="QED ≥ (0: off)")
        sa = gr.Slider(1, 10, value=4, step=0.5, label="SA score ≤ (10: off)")
        logs = gr.Slider(-10, 0, value=-5, step=0.5, label="logS ≥ (-10: off)")
        bbb = gr.Slider(0, 1, value=0, step=0.05, label="BBB probability ≥ (0: off)")
        tpsa = gr.Slider(20, 200, value=200, step=5, label="TPSA ≤ (200: off)")
    with gr.Row():
        similarity = gr.Slider(0, 1, value=0.4, step=0.05, label="Similarity to a seed ≥ (Tanimoto; 0: off)")
        n = gr.Slider(1, 50, value=10, step=1, label="Candidates")
        budget = gr.Slider(100, MAX_BUDGET, value=800, step=100, label="Budget (molecules scored)")
        random_seed = gr.Number(value=0, precision=0, label="Random seed")
    run = gr.Button("Design", variant="primary")
    status = gr.Markdown()
    gallery = gr.Gallery(label="Shortlist", columns=5, height=360, object_fit="contain")
    table = gr.Dataframe(label="Candidates (click a header to sort)", wrap=False, interactive=False, max_height=420)
    files = gr.File(label="Download the shortlist (CSV, SDF)", file_count="multiple")
    with gr.Row():
        x = gr.Dropdown(label="x", choices=[])
        y = gr.Dropdown(label="y", choices=[])
    plot = gr.ScatterPlot(label="Trade-off between two objectives", height=360)
    def design(seeds_text: str, qed: float, sa: float, logs: float, bbb: float, tpsa: float, similarity: float,
               extra: str, n: float, budget: float, random_seed: float,
               progress=gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        return run_design(seeds_text, qed, sa, logs, bbb, tpsa, similarity, extra, n, budget, random_seed,
                          progress, settings=predictor_settings)

    run.click(design, [seeds, qed, sa, logs, bbb, tpsa, similarity, extra, n, budget, random_seed],
              [gallery, table, files, status, frame_state, x, y, plot], api_name="design")
    for dropdown in (x, y):
        dropdown.change(pareto_plot, [frame_state, x, y], plot, api_visibility="private")
