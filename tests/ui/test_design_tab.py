"""The Design tab's handler called as Gradio calls it: seeds with every objective slider off run (ranked by
similarity, and said so) and the trade-off plot renders."""

from __future__ import annotations

import gradio as gr
from rdkit import Chem

from litmol.ui.design_tab import pareto_plot, run_design

OFF = {"qed": 0.0, "sa": 10.0, "logs": -10.0, "bbb": 0.0, "tpsa": 200.0}  # each slider's "off" end


def rendered(update: dict) -> object:
    """The plot update through the ScatterPlot's own postprocess, where Gradio renders it in the app."""
    plot = gr.ScatterPlot(**{k: v for k, v in update.items() if k not in ("__type__", "value")})
    return plot.postprocess(update["value"])


def test_seeds_without_objectives_give_analogues_ranked_by_similarity_and_a_plot():
    gallery, table, files, status, frame, x, y, plot = run_design(
        "imatinib\nnilotinib", OFF["qed"], OFF["sa"], OFF["logs"], OFF["bbb"], OFF["tpsa"], 0.4, "", 5, 100, 0)
    assert rendered(plot) is not None  # 'DataFrame' object has no attribute 'dtype' before (score vs score)
    assert "No objective was set" in status and "ranked by similarity" in status
    rows = table["value"]
    assert 1 <= len(rows) <= 5 and len(gallery) == len(rows) and len(files) == 2
    assert all(Chem.MolFromSmiles(s) is not None for s in rows["smiles"])
    assert all(s >= 0.4 for s in rows["similarity"])  # the similarity slider is a hard constraint
    assert list(rows["score"]) == sorted(rows["score"], reverse=True)
    assert (x["value"], y["value"]) == ("similarity", "score")  # two different axes
    same = pareto_plot(frame, "score", "score")  # a user may pick one column for both axes
    assert rendered(same) is not None and list(same["value"].columns) == ["candidate", "set", "score"]
