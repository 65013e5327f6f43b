"""`litmol predict --input LIBRARY --output OUT --ray [ADDRESS]`: a molecule library scored on a Ray cluster.

The driver reads the library with Arrow (Parquet; CSV, SMILES and SDF files through the reader the
in-process path uses), numbers its rows and puts it into the cluster's object store in blocks of
`batch_rows`. Ray Data hands the blocks to a pool of actors: each loads the predictors once (on a GPU when
the cluster has one: the trained models and admet-ai run there) and returns its block with the result
columns. A block that fails as a whole is redone row by row, so a molecule that breaks a predictor costs
only its own row, which keeps the error. The driver streams the blocks back in input order into one
Parquet, CSV or JSONL file, written under a temporary name and renamed when complete; the row numbers are
checked on the way, so every input row comes back exactly once, valid or not. CSV and JSONL go through
the in-process path's writer (files.TableWriter): the same file, byte for byte, whichever path scored it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litmol.cluster import actor_shares, ray_errors, ray_init

from .files import (
    MoleculeFileError,
    TableWriter,
    flatten_result,
    input_name,
    read_molecule_file,
    smiles_column,
)

logger = logging.getLogger(__name__)

ROW = "__litmol_row"  # the input position, carried through the cluster and dropped on output
PROBE = "CCO"  # a molecule every predictor scores: its result fixes the output columns and their types


def _arrow_type(value: Any) -> Any:
    import pyarrow as pa

    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return pa.string()


class PredictBatch:
    """A Ray Data actor: predicts one batch of rows (a pyarrow Table) and returns it with the results."""

    def __init__(self, column: str, properties: list[str] | None, predictors: list[str] | None, alerts: str,
                 threads: int) -> None:
        import pyarrow as pa
        import torch

        from litmol.settings import PredictorSettings

        from .api import predict_inputs

        torch.set_num_threads(threads)  # the CPUs Ray gave this actor
        self.column, self.properties, self.predictors, self.alerts = column, properties, predictors, alerts
        # one process per actor: Ray is the parallelism (device auto: the GPU Ray assigned, if any)
        self.settings = PredictorSettings(workers=1)
        self.predict = predict_inputs
        probe = flatten_result(self._predict([PROBE])[0])
        self.schema = [(name, _arrow_type(value)) for name, value in probe.items() if name != "alerts"]
        self.schema.append(("alerts", pa.string()))

    def _predict(self, texts: list[str]) -> list[Any]:
        return self.predict(texts, self.properties, self.predictors, self.alerts, settings=self.settings)

    def _rows(self, texts: list[str]) -> list[dict[str, Any]]:
        try:
            return [flatten_result(r) for r in self._predict(texts)]
        except Exception as exc:  # one bad molecule must not take its batch with it: redo row by row
            if len(texts) == 1:
                return [{"smiles_std": "", "valid": False, "error": f"prediction failed: {exc}"[:500],
                         "resolved_name": ""}]
            logger.warning("a batch of %d failed (%s): predicting its rows one by one", len(texts), exc)
            return [row for text in texts for row in self._rows([text])]

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        texts = ["" if t is None else str(t) for t in batch.column(self.column).to_pylist()]
        rows = self._rows(texts)
        for name, kind in self.schema:
            values = [row.get(name) for row in rows]
            if kind == pa.string():
                values = [None if v is None else str(v) for v in values]
            batch = batch.append_column(pa.field(name, kind), pa.array(values, type=kind))
        return batch


def _open_library(path: Path, smiles_col: str | None, batch_rows: int) -> tuple[Any, str, list[str]]:
    """(Ray dataset with a row-number column, in blocks of `batch_rows`; the molecule column; the input's
    column names as the output keeps them: an SDF's MOL blocks travel in a `molblock` column that the
    in-process path does not write, so it is left out)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    if path.suffix.lower() == ".parquet":
        try:
            names = pq.read_schema(path).names
            rows = pq.ParquetFile(path).metadata.num_rows
        except (OSError, pa.ArrowInvalid) as exc:
            raise MoleculeFileError(f"{path}: not a readable Parquet file ({exc})") from None
        column = smiles_column(path, names, smiles_col)
        table = pq.read_table(path)  # the row numbers must follow the file's order: numbered here, in Arrow
        table = table.append_column(ROW, pa.array(range(rows), type=pa.int64()))
    else:
        records, texts, column = read_molecule_file(path, smiles_col)
        names = list(records[0]) if records else [column]
        if column == "molblock":
            records = [{**r, "molblock": t} for r, t in zip(records, texts, strict=True)]
        table = pa.Table.from_pylist([{**r, ROW: i} for i, r in enumerate(records)])
    blocks = [table.slice(start, batch_rows) for start in range(0, max(1, table.num_rows), batch_rows)]
    return ray.data.from_arrow(blocks), column, names


class _Sink:
    """One output file (.parquet, .csv, .jsonl), written batch by batch under a temporary name."""

    def __init__(self, path: Path) -> None:
        self.path, self.kind = path, path.suffix.lower().lstrip(".")
        if self.kind not in ("parquet", "csv", "jsonl", "json"):
            raise MoleculeFileError(f"{path}: --output must end in .parquet, .csv or .jsonl")
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.writer: Any = None

    def write(self, table: Any) -> None:
        import pyarrow.parquet as pq

        if self.kind == "parquet":
            self.writer = self.writer or pq.ParquetWriter(self.tmp, table.schema)
            self.writer.write_table(table)
        else:  # Python values, as the in-process path writes them (Arrow's CSV writer prints 126.0 as 126)
            self.writer = self.writer or TableWriter(self.path, table.column_names, target=self.tmp)
            self.writer.write(table.to_pylist())

    def close(self, complete: bool) -> None:
        if self.writer is not None:
            self.writer.close()
        if complete and self.tmp.exists():
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


@ray_errors()
def predict_file_on_ray(input_path: str | Path, output_path: str | Path, properties: Sequence[str] | None = None,
                        predictors: Sequence[str] | None = None, alerts: str = "core", smiles_col: str | None = None,
                        address: str | None = "local", workers: int = 0, batch_rows: int = 512,
                        progress: bool = True) -> dict[str, Any]:
    """Predict every row of a molecule library on Ray and write input columns + results to `output_path`.

    Returns {rows, invalid, column, workers, gpus_per_worker, wall_s}. Unknown predictor or property names
    fail before the cluster starts (UnknownPredictorError); an unreadable file raises MoleculeFileError.
    """
    import ray

    from .api import alert_mode, known_properties
    from .registry import get_predictor, list_predictors

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise MoleculeFileError(f"{input_path}: no such file")
    mode = alert_mode(alerts)
    for name in predictors or []:
        get_predictor(name)
    if properties:  # the in-process checks, before any cluster work
        table = known_properties(list(predictors or list_predictors()))
        from .errors import UnknownPredictorError, known_names_hint, quoted_names

        unknown = [p for p in properties if p not in table]
        if unknown:
            raise UnknownPredictorError(f"unknown properties: {quoted_names(unknown)}; {known_names_hint(unknown, table)}")
    sink = _Sink(output_path)
    t0 = time.perf_counter()
    started = ray_init(address)
    complete = False
    report: dict[str, Any] = {"rows": 0, "invalid": 0}
    try:
        ray.data.DataContext.get_current().execution_options.preserve_order = True  # before the dataset exists
        dataset, column, names = _open_library(input_path, smiles_col, batch_rows)
        total = dataset.count()
        actors, cpus, per_actor, per_gpu = actor_shares(workers, max(1, -(-total // batch_rows)))
        report.update(column=column, workers=actors, gpus_per_worker=per_gpu)
        results = dataset.map_batches(
            PredictBatch, batch_size=batch_rows, batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=cpus, num_gpus=per_gpu,
            fn_constructor_kwargs={"column": column, "properties": list(properties or []) or None,
                                   "predictors": list(predictors or []) or None, "alerts": mode,
                                   "threads": per_actor})
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=f"predicting on Ray ({actors} workers)", unit="mol", smoothing=0.05)
        expected, waiting = 0, {}  # blocks that came back early, by their first row
        for block in results.iter_batches(batch_size=None, batch_format="pyarrow"):
            rows = block.column(ROW).to_pylist()
            if not rows:
                continue
            if rows != list(range(rows[0], rows[0] + len(rows))) or rows[0] < expected or rows[0] in waiting:
                raise RuntimeError(f"a block of rows {rows[0]}..{rows[-1]} came back broken or twice")
            waiting[rows[0]] = block
            while expected in waiting:  # write in input order: every row exactly once
                block = waiting.pop(expected)
                expected += block.num_rows
                block = block.drop_columns([ROW] + (["molblock"] if column == "molblock" else []))
                sink.write(_unique_names(block, len(names)))
                report["invalid"] += block.num_rows - sum(block.column("valid").to_pylist())
            if bar:
                bar.update(len(rows))
        if bar:
            bar.close()
        if expected != total or waiting:
            raise RuntimeError(f"{expected:,} of {total:,} rows came back in order")
        report["rows"] = expected
        complete = True
    finally:
        sink.close(complete)
        if started:
            ray.shutdown()
    report["wall_s"] = round(time.perf_counter() - t0, 2)
    return report


def _unique_names(batch: Any, inputs: int) -> Any:
    """The batch with its input columns renamed `input_NAME` where a result column has the same name, so
    nothing of the input is lost."""
    names = batch.column_names
    results = set(names[inputs:])
    return batch.rename_columns([input_name(n, results) if i < inputs else n for i, n in enumerate(names)])
