"""Run a question batch through the agent: one record per question, appended as it finishes, resumable.

DIR/results.jsonl gets one JSON object per question, flushed and fsynced when it finishes, so a
killed run loses at most the questions in flight; re-running with the same DIR drops a truncated
last line, skips the ids already recorded and never writes an id twice. DIR/run.json records
what ran (input file hash, model, backend, settings, git commit, index manifest, sessions); a
DIR holding a run of another file or model is refused. A question that raises becomes that
question's error record and the batch goes on; only BaseExceptions (Ctrl-C) stop it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litmol.paths import SOURCE_ROOT

from .metrics import answer_polarity, flipped, score_record
from .questions import InvalidLine, Question

logger = logging.getLogger(__name__)

RESULTS, RUN, METRICS = "results.jsonl", "run.json", "metrics.json"
LITERATURE_TOOLS = ("search_literature", "get_article")
REWORDING = "Answer yes or no first, then explain briefly. {question}"


class RunMismatchError(ValueError):
    """The output folder holds a run of another batch or model (exit status 2)."""


class CorruptResultsError(ValueError):
    """results.jsonl has a bad line that a killed run cannot have left (exit status 2)."""


class RunConfig(BaseModel):
    """What a run is: a resumed run must match on IDENTITY, the rest may change between sessions."""

    model_config = ConfigDict(extra="forbid")

    input_path: str = Field(description="The question file as given.")
    input_sha256: str = Field(description="SHA-256 of the question file's bytes.")
    n_questions: int = Field(ge=0, description="Valid questions in the file.")
    backend: str = Field(description="Chat-model backend: local or openai.")
    model: str | None = Field(default=None, description="Model name or path given to the backend (None: default).")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, when given.")
    engine: str | None = Field(default=None, description="Local inference engine (llama-cpp, transformers); None: a server.")
    quantization: str | None = Field(default=None, description="llama-cpp weights: shipped, q4_0, q8_0 or iq4_nl.")
    adapter: str | None = Field(default=None, description="LoRA adapter of the local model, when given.")
    max_steps: int = Field(ge=1, description="Model calls per question at most.")
    self_consistency: bool = Field(default=False, description="Yes/no questions are also asked reworded.")
    seed: int = Field(default=0, description="Seed for Python's and torch's random generators.")


IDENTITY = ("input_sha256", "backend", "model", "engine", "quantization", "adapter", "max_steps", "self_consistency")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _write_json_lines(path: Path, records: list[dict[str, Any]]) -> None:
    """Rewrite a JSONL file atomically (durable before it replaces the old one)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_results(path: Path, repair: bool = False) -> list[dict[str, Any]]:
    """The records of results.jsonl. An unreadable last line (a kill mid-write) is dropped, and with
    `repair` the file is rewritten without it; a bad line elsewhere raises CorruptResultsError."""
    if not path.exists():
        return []
    raw = path.read_text(encoding="utf-8", errors="replace")
    lines = raw.split("\n")
    records, dropped = [], False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "id" not in record:
                raise ValueError("not a result record")
        except ValueError:
            if any(rest.strip() for rest in lines[number:]):
                raise CorruptResultsError(f"{path}: line {number} is not a result record; fix or remove it") from None
            dropped = True
            logger.warning("%s: dropped the truncated last line %d (an interrupted write)", path, number)
            continue
        records.append(record)
    if repair and (dropped or (raw and not raw.endswith("\n"))):
        _write_json_lines(path, records)
    return records


class ResultsWriter:
    """Appends records to results.jsonl, one line each, durable before `write` returns; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


class IndexProbe:
    """The literature index, when one opens: its manifest and whether a PMID is in it."""

    def __init__(self, session: Any) -> None:
        try:
            self.index: Any = session.index
        except Exception as exc:  # no index here: the checks that need one are recorded as null
            logger.info("no index for citation checks (%s)", exc)
            self.index = None
        self.lock = threading.Lock()

    @property
    def manifest(self) -> dict[str, Any] | None:
        return dict(self.index.manifest) if self.index is not None else None

    def all_exist(self, pmids: list[str]) -> bool | None:
        if self.index is None or not pmids:
            return None
        with self.lock:
            for pmid in pmids:
                try:
                    self.index.get_article(pmid)
                except Exception:
                    return False
        return True


def retrieved_in_order(messages: list[Any]) -> list[str]:
    """PMIDs the literature tools returned, in retrieval order, each once."""
    from ..tools import PMID_RE

    seen: dict[str, None] = {}
    for m in messages:
        if getattr(m, "type", None) == "tool" and getattr(m, "name", None) in LITERATURE_TOOLS:
            seen.update(dict.fromkeys(PMID_RE.findall(str(m.content))))
    return list(seen)


def _prefilled(messages: list[Any]) -> int | None:
    """Prompt tokens the local model actually computed (the rest came from its KV cache); None for
    models that do not report it (servers)."""
    counts = [m.response_metadata.get("prefilled_tokens") for m in messages if getattr(m, "type", None) == "ai"]
    counts = [c for c in counts if c is not None]
    return int(sum(counts)) if counts else None


def _tokens(messages: list[Any]) -> tuple[int, int]:
    used_in = used_out = 0
    for m in messages:
        usage = getattr(m, "usage_metadata", None) if getattr(m, "type", None) == "ai" else None
        if usage:
            used_in += int(usage.get("input_tokens") or 0)
            used_out += int(usage.get("output_tokens") or 0)
    return used_in, used_out


def _runtime(session: Any) -> dict[str, Any] | None:
    """{backend, model, engine, quantization} of the session's chat model (None if it cannot load)."""
    from ..backends import describe_chat_model

    try:
        return describe_chat_model(session.chat_model)
    except Exception as exc:  # a model that fails to load fails every question; the run records that
        logger.info("no runtime description (%s)", exc)
        return None


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]


def _ask(question: str, session: Any, max_steps: int) -> tuple[dict[str, Any], str | None]:
    """The answer fields of one agent run (`session.ask`), or empty fields and the error text."""
    from ..scoring import call_is_valid

    started = time.perf_counter()
    try:
        result = session.ask(question, max_model_calls=max_steps)
    except Exception as exc:  # this question's failure is its record; the batch goes on
        logger.info("question failed: %s", _error_text(exc))
        return {"answer": "", "citations": [], "removed_citations": [], "tool_calls": [], "invalid_tool_calls": 0,
                "retrieved_pmids": [], "tokens_in": 0, "tokens_out": 0,
                "latency_s": round(time.perf_counter() - started, 3), "timing": {}}, _error_text(exc)
    tokens_in, tokens_out = _tokens(result.messages)
    return {
        "answer": result.answer,
        "citations": [dict(c) for c in result.citations],
        "removed_citations": list(result.removed_citations),
        "tool_calls": [dict(c, valid=call_is_valid(c["name"], c.get("args"))) for c in result.tool_calls],
        "invalid_tool_calls": sum(len(getattr(m, "invalid_tool_calls", None) or []) for m in result.messages
                                  if getattr(m, "type", None) == "ai"),
        "retrieved_pmids": retrieved_in_order(result.messages),
        "tokens_in": tokens_in, "tokens_out": tokens_out, "tokens_prefilled": _prefilled(result.messages),
        "latency_s": round(result.latency_s, 3),
        "timing": {k: round(float(v), 3) for k, v in result.timing.items()},
    }, None


def reword(question: str) -> str:
    """The deterministic rewording a yes/no question is asked again with (--self-consistency)."""
    return REWORDING.format(question=question.strip())


def run_question(question: Question, session: Any, max_steps: int, self_consistency: bool = False) -> dict[str, Any]:
    """One question's result record (answer, trace, retrieval, tokens, timing, scores, error)."""
    q = question.model_dump()
    fields, error = _ask(question.question, session, max_steps)
    record: dict[str, Any] = {"id": q["id"], "type": q["type"], "question": q["question"], **fields,
                              "gold": q["gold"], "gold_pmids": q["gold_pmids"], "meta": q["meta"], "error": error}
    record["score"] = score_record(q, record)
    if self_consistency and q["type"] == "yesno":
        variant = reword(question.question)
        other, other_error = _ask(variant, session, max_steps)
        second = None if other_error else answer_polarity(other["answer"])
        record["consistency"] = {
            "question": variant, "answer": other["answer"], "polarity": second, "error": other_error,
            "latency_s": other["latency_s"], "tokens_in": other["tokens_in"], "tokens_out": other["tokens_out"],
            "flipped": flipped(record["score"]["polarity"], second)}
    return record


def _git_state() -> tuple[str | None, bool | None]:
    root = SOURCE_ROOT
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litmol")
    except PackageNotFoundError:
        return None


def prepare_run_dir(out_dir: Path, config: RunConfig) -> dict[str, Any] | None:
    """Create DIR, or check that the run it holds is this one; returns the existing run.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_path, results = out_dir / RUN, out_dir / RESULTS
    if not run_path.exists():
        if results.exists() and results.stat().st_size:
            raise RunMismatchError(f"{out_dir} holds results.jsonl but no run.json; use a new --out")
        return None
    try:
        previous = json.loads(run_path.read_text(encoding="utf-8"))
        before = previous["config"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RunMismatchError(f"{run_path} is unreadable ({exc}); use a new --out") from None
    now = config.model_dump()
    differ = [f"{k} {before.get(k)!r} (now {now[k]!r})" for k in IDENTITY if before.get(k) != now[k]]
    if differ:
        raise RunMismatchError(f"{out_dir} holds another run ({'; '.join(differ)}); use a new --out")
    return previous


def _seed(seed: int) -> None:
    random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def run_batch(questions: list[Question], session: Any, out_dir: str | Path, config: RunConfig, *,
              workers: int = 1, limit: int | None = None, skipped_invalid: list[InvalidLine] | None = None,
              retry_errors: bool = False, progress: bool = True, ray: str | None = None,
              ray_workers: int = 0) -> list[dict[str, Any]]:
    """Answer the questions not yet in DIR/results.jsonl and return every record of the batch.

    All workers share the agent `session` (its index, and its chat model: the local model serializes
    generation itself). With `ray` (local or a cluster address) the questions go to `ray_workers` actors
    instead, each with a session of its own made from `session.settings` (distributed.py); this process
    still writes every record, once. A KeyboardInterrupt marks the run interrupted and propagates.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    previous = prepare_run_dir(out_dir, config)
    results_path = out_dir / RESULTS
    records = read_results(results_path, repair=True)
    if retry_errors and any(r.get("error") for r in records):
        records = [r for r in records if not r.get("error")]
        _write_json_lines(results_path, records)
    wanted = questions[:limit] if limit else list(questions)
    known = {q.id for q in questions}
    done = {r["id"] for r in records}
    stray = done - known
    if stray:
        raise RunMismatchError(f"{results_path} has ids not in the batch ({', '.join(sorted(stray)[:3])}); "
                               "use a new --out")
    pending = [q for q in wanted if q.id not in done]
    git_commit, git_dirty = _git_state()
    probe = IndexProbe(session)
    run = (previous or {}) | {
        "config": config.model_dump(), "status": "running", "litmol_version": _version(),
        "git_commit": git_commit, "git_dirty": git_dirty, "index_manifest": probe.manifest,
        "runtime": _runtime(session),
        "skipped_invalid": [i.to_dict() for i in skipped_invalid or []],
        "started": (previous or {}).get("started") or _now(), "finished": None}
    sitting = {"started": _now(), "finished": None, "workers": workers, "limit": limit,  # this invocation
               "ray": ray, "ray_workers": ray_workers if ray else None,
               "already_done": len(done & {q.id for q in wanted}), "to_run": len(pending), "completed": 0,
               "status": "running"}
    run["sessions"] = [*(previous or {}).get("sessions", []), sitting]
    _write_json(out_dir / RUN, run)
    _seed(config.seed)

    writer = ResultsWriter(results_path)
    scored = [(r.get("score") or {}).get("correct") for r in records]
    scored = [c for c in scored if c is not None]
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(pending), desc="eval", unit="q", disable=not progress)

    written = set(done)

    def finish(record: dict[str, Any]) -> None:
        if record["id"] in written:  # a question re-run elsewhere (a restarted actor) is kept once
            logger.warning("a second record for %s was dropped", record["id"])
            return
        written.add(record["id"])
        record["cited_in_index"] = probe.all_exist([c["pmid"] for c in record["citations"]])
        writer.write(record)
        records.append(record)
        sitting["completed"] += 1
        if record["score"]["correct"] is not None:
            scored.append(record["score"]["correct"])
        bar.set_postfix(acc=f"{sum(scored) / len(scored):.2f}" if scored else "-",
                        errors=sum(r.get("error") is not None for r in records), refresh=False)
        bar.update(1)

    status = "interrupted"
    try:
        if ray:
            from .distributed import run_on_ray

            for record in run_on_ray(pending, session.settings, config.max_steps, config.self_consistency, ray,
                                     ray_workers):
                finish(record)
        elif workers <= 1:
            for q in pending:
                finish(run_question(q, session, config.max_steps, config.self_consistency))
        else:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="litmol-eval")
            try:
                futures = [pool.submit(run_question, q, session, config.max_steps, config.self_consistency)
                           for q in pending]
                for future in as_completed(futures):
                    finish(future.result())
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
        status = "complete" if {r["id"] for r in records} >= known else "partial"
    finally:
        bar.close()
        sitting.update(finished=_now(), status=status)
        run.update(status=status, finished=_now())
        _write_json(out_dir / RUN, run)
    order = {q.id: i for i, q in enumerate(questions)}
    return sorted(records, key=lambda r: order.get(r["id"], len(order)))
