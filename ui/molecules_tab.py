"""The Molecules tab: batch predictions for pasted SMILES / names or an uploaded CSV or SDF file, with
structures, a sortable table, a CSV download and a scatter plot of two properties."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from . import render

MAX_MOLECULES = 2000  # rows per Molecules-tab run (the CLI takes files of any size)
MAX_UPLOAD_MB = 20
THUMBNAILS = 200  # structure thumbnails drawn in the table (the rest: SMILES only)
UPLOAD_TYPES = [".csv", ".tsv", ".smi", ".txt", ".sdf", ".sd", ".mol"]


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


def predict_table(text: str, upload: str | None, progress=gr.Progress(),  # noqa: B008
                  settings: Any = None) -> tuple[Any, ...]:
    """Predictions for pasted lines or an uploaded file: one row per input, errors kept in place.
    `settings`: the session's predictor settings (in process, or its predictor service)."""
    from litmol.predictors.api import predict
    from litmol.predictors.files import chunks, write_results
    from litmol.predictors.rows import PredictionRow

    rows, texts = _inputs_from(text, upload)
    if not texts:
        raise gr.Error("Paste SMILES or drug names (one per line) or upload a CSV/SDF file.")
    if len(texts) > MAX_MOLECULES:
        raise gr.Error(f"{len(texts):,} molecules; the app takes at most {MAX_MOLECULES:,} per run "
                       "(use `litmol predict --input FILE --output OUT.csv` for more)")
    results: list[PredictionRow] = []
    for part in progress.tqdm(list(chunks(texts, 128)), desc="predicting"):
        results += predict(part, properties=render.wanted_properties(), settings=settings)
    table = []
    for i, (row, res) in enumerate(zip(rows, results, strict=True)):
        props = res.properties
        label = row.get("title") or f"record {row['record']}" if "record" in row else res.input or ""
        item = {"#": i + 1, "input": label[:80],
                "structure": render.thumbnail_markdown(res.smiles) if res.valid and i < THUMBNAILS else "",
                "name": res.name or "", "error": res.error or ""}
        for key in render.TABLE_PROPERTIES:
            value = props.get(key)
            item[key] = render._fmt(value) if value is not None else None
            if f"{key}_std" in props:
                item[f"{key} ±"] = round(props[f"{key}_std"], 2)
            if props.get(f"{key}_in_domain") is False:
                item[key + " domain"] = "outside"
        item["alerts"] = ", ".join(a.label for a in res.alerts)
        item["smiles"] = res.smiles or ""
        table.append(item)
    frame = pd.DataFrame(table)
    for col in [c for c in frame.columns if c.endswith(" domain")]:
        frame[col] = frame[col].fillna("in")
    folder = Path(tempfile.mkdtemp(prefix="litmol-predict-"))
    out = folder / "litmol-predictions.csv"
    write_results(out, rows, results)
    numeric = [c for c in frame.columns if c in render.TABLE_PROPERTIES and pd.api.types.is_numeric_dtype(frame[c])]
    bad = sum(not r.valid for r in results)
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


def build_tab(predictor_settings: Any = None) -> None:
    """The tab's components and events (call inside a gr.Blocks); predicts with `predictor_settings`."""
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
    def predict_here(text: str, upload: str | None, progress=gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        return predict_table(text, upload, progress, settings=predictor_settings)

    run.click(predict_here, [text, upload], [table, csv_file, status, frame_state, x, y, plot],
              api_name="predict")
    for dropdown in (x, y):
        dropdown.change(scatter, [frame_state, x, y], plot, api_visibility="private")
