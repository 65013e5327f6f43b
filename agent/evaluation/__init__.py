"""Scripted question batches: validate a JSONL batch, run it through the agent (resumable, in
parallel), score it, report it (HTML + Markdown), and compare two runs with paired tests.

Public API (modules load on first use, so the CLI's --help stays instant; the command is in cli/):
    load_questions, Question, InvalidBatchError      questions.py
    run_batch, RunConfig, read_results               runner.py
    compute_metrics                                  metrics.py
    write_report                                     report.py
    compare_runs, format_comparison                  compare.py
"""

from __future__ import annotations

from litmol.lazy import lazy_getattr

_LAZY = {
    "load_questions": "questions", "Question": "questions", "InvalidBatchError": "questions",
    "run_batch": "runner", "RunConfig": "runner", "read_results": "runner", "RunMismatchError": "runner",
    "compute_metrics": "metrics", "write_report": "report", "compare_runs": "compare",
    "format_comparison": "compare",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = list(_LAZY)
