"""Question-batch evaluation with a fake chat model: validation, resume after a kill, crash
records, metrics on hand-made results, the HTML report, paired comparison, parallel workers."""

from __future__ import annotations

import argparse
import json
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from tests.agent.test_loop import ScriptedModel, call
from tests.conftest import session_for

LOCK = threading.Lock()


class KeyedModel(ScriptedModel):
    """Replies by question and turn, so it is thread-safe and order-free. A reply that is a
    BaseException class is raised; every reply carries token usage (input 10·turn+7, output 3).
    `busy` counts the calls in progress and the most at once."""

    replies: dict[str, list] = {}
    delay: dict[str, float] = {}
    seen: list = []
    busy: dict[str, int] = {}

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        question = next(m.content for m in messages if isinstance(m, HumanMessage))
        turn = sum(isinstance(m, AIMessage) for m in messages)
        with LOCK:
            self.seen.append(question)
            self.busy["now"] = self.busy.get("now", 0) + 1
            self.busy["peak"] = max(self.busy.get("peak", 0), self.busy["now"])
        try:
            time.sleep(self.delay.get(question, 0.0))
            return self._reply(question, turn)
        finally:
            with LOCK:
                self.busy["now"] -= 1

    def _reply(self, question: str, turn: int) -> ChatResult:
        script = self.replies.get(question, [AIMessage("No idea.")])
        reply = script[min(turn, len(script) - 1)]
        if isinstance(reply, type) and issubclass(reply, BaseException):
            raise reply("scripted failure")
        message = reply.model_copy(deep=True)
        message.usage_metadata = {"input_tokens": 10 * turn + 7, "output_tokens": 3, "total_tokens": 10 * turn + 10}
        return ChatResult(generations=[ChatGeneration(message=message)])


def model(replies: dict[str, list], **kw) -> KeyedModel:
    return KeyedModel(messages=iter([]), replies=replies, seen=[], busy={}, **kw)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def parse(*argv: str) -> argparse.Namespace:
    from litmol.cli.main import build_parser

    return build_parser().parse_args(["eval", *argv])


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture()
def no_index(tmp_path, monkeypatch):
    """An empty LITMOL_HOME: no index, so nothing reads the user's own; its settings."""
    from litmol.settings import Settings

    monkeypatch.setenv("LITMOL_HOME", str(tmp_path / "empty-home"))
    return Settings.load()


YES = {"y1": ("Does aspirin inhibit COX-1?", True), "y2": ("Is caffeine a sedative?", False),
       "y3": ("Does metformin lower glucose?", True)}
GOOD = [{"id": k, "question": q, "type": "yesno", "gold": "yes" if g else "no"} for k, (q, g) in YES.items()]
RIGHT = {q: [AIMessage("Yes, it does." if g else "No, it is not.")] for q, g in YES.values()}


def test_every_bad_line_is_reported_and_nothing_runs(tmp_path, capsys, no_index):
    from litmol.cli.evaluation import cmd_eval_run
    from litmol.cli.main import _exit_status

    batch = write_jsonl(tmp_path / "batch.jsonl", [
        GOOD[0],
        '{"id": "b1", "question": "unterminated"',                             # 2 bad JSON
        {"question": "Where is my id?", "gold": "x"},                           # 3 missing id
        {"id": "b3", "question": "q", "type": "essay", "gold": "x"},            # 4 unknown type
        GOOD[1],
        {"id": "y1", "question": "Duplicate?", "gold": "x"},                     # 6 duplicate id
        "",
        {"id": "b5", "question": "Is it?", "type": "yesno"},                     # 8 gold missing
        {"id": "b6", "question": "Which?", "type": "list", "gold": "aspirin"},   # 9 wrong gold shape
        {"id": "b7", "question": "q", "gold_pmids": ["12a"]},                   # 10 bad PMID
        {"id": "b8", "question": "q", "gold": "x", "answer": "y"},              # 11 unknown field
        GOOD[2],
    ])
    fake = model(RIGHT)
    out = tmp_path / "run"
    with pytest.raises(Exception) as info:
        cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q"), chat_model=fake)
    assert _exit_status(info.value) == 2 and "8 invalid line(s)" in str(info.value)
    err = capsys.readouterr().err
    for line, reason in [(2, "bad JSON"), (3, "missing id"), (4, "unknown type 'essay'"),
                         (6, "duplicate id 'y1' (first on line 1)"), (8, "type yesno needs gold"),
                         (9, "type list needs gold as a non-empty list"), (10, "gold_pmids: PMIDs must be digits, got '12a'"),
                         (11, "unknown field 'answer'")]:
        assert f"batch.jsonl: line {line}: {reason}" in err
    assert "line 1:" not in err and "line 5:" not in err and "line 12:" not in err
    assert fake.seen == [] and not out.exists()

    assert cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q", "--skip-invalid"), chat_model=fake) == 0
    assert sorted(r["id"] for r in read(out / "results.jsonl")) == ["y1", "y2", "y3"]
    run = json.loads((out / "run.json").read_text())
    assert [i["line"] for i in run["skipped_invalid"]] == [2, 3, 4, 6, 8, 9, 10, 11]
    assert run["status"] == "complete" and run["config"]["n_questions"] == 3
    assert json.loads((out / "metrics.json").read_text())["overall"]["accuracy"] == 1.0


class Killed(BaseException):
    """Stands for the process dying (SIGKILL, Ctrl-C) in the middle of question 3."""


def test_resume_after_a_kill_keeps_every_record_once(tmp_path, no_index):
    from litmol.agent.evaluation import load_questions, run_batch
    from litmol.agent.evaluation.runner import RunMismatchError
    from litmol.cli.evaluation import cmd_eval_run

    rows = [{"id": f"q{i}", "question": f"Is drug {i} safe?", "type": "yesno", "gold": "yes"} for i in range(1, 7)]
    batch = write_jsonl(tmp_path / "batch.jsonl", rows)
    answers = {r["question"]: [AIMessage(f"Yes, drug {r['id']} is safe.")] for r in rows}
    out = tmp_path / "run"
    dying = model(answers | {"Is drug 3 safe?": [Killed]})
    with pytest.raises(Killed):
        cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q"), chat_model=dying)
    results = out / "results.jsonl"
    before = read(results)
    assert [r["id"] for r in before] == ["q1", "q2"]
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    with results.open("a") as fh:  # the kill cut the next record mid-line
        fh.write('{"id": "q3", "answer": "Yes, dr')

    healthy = model(answers)
    assert cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q"), chat_model=healthy) == 0
    after = read(results)  # every line parses: the truncated one is gone
    assert sorted(r["id"] for r in after) == [f"q{i}" for i in range(1, 7)]
    assert after[:2] == before  # earlier records unchanged
    assert sorted(set(healthy.seen)) == [f"Is drug {i} safe?" for i in range(3, 7)]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and [s["status"] for s in run["sessions"]] == ["interrupted", "complete"]
    assert run["sessions"][1]["already_done"] == 2 and run["sessions"][1]["completed"] == 4

    again = model(answers)  # nothing left: no model call, no new line
    assert cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q"), chat_model=again) == 0
    assert again.seen == [] and read(results) == after

    questions = load_questions(batch).questions
    other = json.loads((out / "run.json").read_text())["config"] | {"model": "1.5b"}
    from litmol.agent.evaluation import RunConfig

    with pytest.raises(RunMismatchError, match="model None .now '1.5b'.*use a new --out"):
        run_batch(questions, session_for(no_index, again), out, RunConfig(**other), progress=False)


def test_a_crash_becomes_that_questions_error_and_the_batch_goes_on(tmp_path, no_index):
    from litmol.agent.evaluation import compute_metrics, load_questions, run_batch
    from litmol.agent.evaluation.questions import Question
    from litmol.agent.evaluation.runner import RunConfig

    batch = write_jsonl(tmp_path / "batch.jsonl", GOOD)
    questions: list[Question] = load_questions(batch).questions
    config = RunConfig(input_path=str(batch), input_sha256="x", n_questions=3, backend="local", max_steps=4)
    fake = model(RIGHT | {YES["y2"][0]: [RuntimeError]})
    records = run_batch(questions, session_for(no_index, fake), tmp_path / "run", config, progress=False)
    assert [r["id"] for r in records] == ["y1", "y2", "y3"]
    by_id = {r["id"]: r for r in records}
    assert by_id["y2"]["error"] == "RuntimeError: scripted failure" and by_id["y2"]["answer"] == ""
    assert by_id["y2"]["score"]["correct"] is False
    assert by_id["y1"]["error"] is None and by_id["y1"]["answer"] == "Yes, it does."
    assert by_id["y3"]["score"]["correct"] is True
    assert by_id["y1"]["tokens_in"] == 7 and by_id["y1"]["tokens_out"] == 3
    m = compute_metrics(records)["overall"]
    assert (m["n"], m["answered"], m["errors"]) == (3, 2, 1)
    assert m["accuracy"] == pytest.approx(2 / 3)

    healthy = model(RIGHT)  # --retry-errors: only the failed question runs again, and replaces its record
    records = run_batch(questions, session_for(no_index, healthy), tmp_path / "run", config, retry_errors=True, progress=False)
    assert healthy.seen == [YES["y2"][0]] and [r["error"] for r in records] == [None, None, None]
    assert sorted(r["id"] for r in read(tmp_path / "run" / "results.jsonl")) == ["y1", "y2", "y3"]


def rec(id_, type_, answer, latency, gold=None, gold_pmids=None, retrieved=(), cited=(), error=None,
        tool_calls=(), tokens_in=100, meta=None, invalid_calls=0) -> dict:
    return {"id": id_, "type": type_, "question": f"question {id_}", "answer": answer,
            "citations": [{"pmid": p, "title": "", "year": None} for p in cited], "removed_citations": [],
            "tool_calls": list(tool_calls), "invalid_tool_calls": invalid_calls, "retrieved_pmids": list(retrieved),
            "tokens_in": tokens_in, "tokens_out": 20, "latency_s": latency, "timing": {}, "gold": gold,
            "gold_pmids": gold_pmids, "meta": meta, "error": error, "score": {}}


SEARCH = {"name": "search_literature", "args": {"query": "x"}, "ok": True, "valid": True}
BAD_CALL = {"name": "predict_properties", "args": {"molecule": 3}, "ok": False, "valid": False}
HAND_MADE = [
    rec("y1", "yesno", "Yes, it does [PMID:11].", 1.0, True, ["11"], ["11", "12"], ["11"], tool_calls=[SEARCH]),
    rec("y2", "yesno", "No. It is not associated.", 2.0, False),
    rec("y3", "yesno", "No, there is no evidence.", 3.0, True),
    rec("y4", "yesno", "", 0.5, False, error="RuntimeError: boom"),
    rec("s1", "short", "Its molecular weight is 194.0 g/mol.", 4.0, 194.19, meta={"tolerance": 0.5},
        tool_calls=[BAD_CALL], invalid_calls=1),
    rec("s2", "short", "It is ASA [PMID:1].", 5.0, ["acetylsalicylic acid", "ASA"], cited=["1"]),
    rec("s3", "short", "Metforminic acid.", 6.0, "metformin", tokens_in=210),
    rec("l1", "list", "Aspirin, Advil and naproxen. Also paracetamol.", 7.0,
        ["aspirin", ["ibuprofen", "Advil"], "naproxen", "celecoxib"]),
    rec("l2", "list", "MRI", 8.0, ["x-ray", "MRI"]),
    rec("p1", "pmids", "See the articles.", 9.0, None, ["3", "7"], ["5", "3", "9", "7"]),
    rec("p2", "pmids", "See the articles.", 10.0, None, ["1"], ["2", "4", "6", "8", "10", "1"]),
    rec("o1", "open", "Whatever.", 11.0),
]


def test_metrics_on_hand_made_results_are_exact(tmp_path):
    from litmol.agent.evaluation import write_report

    write_jsonl(tmp_path / "results.jsonl", HAND_MADE)
    metrics = write_report(tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["overall"] == metrics["overall"]
    t, m = metrics["by_type"], metrics["overall"]
    assert list(t) == ["yesno", "short", "list", "pmids", "open"]
    assert t["yesno"]["accuracy"] == 0.5 and t["yesno"]["errors"] == 1 and t["yesno"]["answered"] == 3
    assert t["short"]["accuracy"] == pytest.approx(2 / 3)
    assert t["list"]["list_precision"] == pytest.approx((0.75 + 1.0) / 2)
    assert t["list"]["list_recall"] == pytest.approx((0.75 + 0.5) / 2) and t["list"]["accuracy"] == 0.0
    assert t["pmids"]["accuracy"] == 1.0 and t["open"]["accuracy"] is None and t["open"]["scored"] == 0
    assert t["pmids"]["recall@1"] == 0.0 and t["pmids"]["recall@5"] == 0.5 and t["pmids"]["recall@10"] == 1.0
    assert t["pmids"]["mrr"] == pytest.approx((1 / 2 + 1 / 6) / 2)
    assert m["with_gold_pmids"] == 3
    assert m["recall@1"] == pytest.approx(1 / 3) and m["recall@5"] == pytest.approx(2 / 3) and m["recall@10"] == 1.0
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 6 + 1) / 3)
    assert m["accuracy"] == pytest.approx(6 / 11) and m["scored"] == 11
    assert (m["n"], m["errors"]) == (12, 1) and m["error_rate"] == pytest.approx(1 / 12)
    assert m["latency_p50_s"] == 6.0 and m["latency_p95_s"] == pytest.approx(10.5)  # answered 1..11 s
    assert m["tokens_in_mean"] == pytest.approx(110.0) and m["tokens_out_mean"] == 20.0
    assert m["citations_valid"] == 0.5 and m["cited_in_gold"] == 1.0 and m["cited_in_index"] is None
    assert m["tool_calls"] == 3 and m["tool_call_validity"] == pytest.approx(1 / 3)
    assert "flip_rate" not in m


class TagChecker(HTMLParser):
    VOID = {"meta", "br", "rect", "line", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: set[str] = set()
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.add(tag)
        self.links += [v for k, v in attrs if k in {"src", "href"} and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.add(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_report_is_self_contained_valid_and_escaped(tmp_path):
    from litmol.agent.evaluation import write_report

    hostile = rec("x1", "yesno", 'Yes <b onmouseover="steal()">really</b> & more', 2.5, True,
                  tool_calls=[{"name": "search_literature", "args": {"query": "</pre><script>x</script>"},
                               "ok": False, "valid": True}])
    hostile["question"] = "Is <script>alert('pwned')</script> safe?"
    wrong = rec("x2", "yesno", "", 0.1, False, error="RuntimeError: <img src=x onerror=alert(1)>")
    write_jsonl(tmp_path / "results.jsonl", [*HAND_MADE, hostile | {"gold": False}, wrong])
    write_report(tmp_path)
    page = (tmp_path / "report.html").read_text()
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.problems == [] and checker.stack == []
    assert {"table", "svg", "rect", "style"} <= checker.seen
    assert "script" not in checker.seen and "img" not in checker.seen and "b" not in checker.seen
    assert checker.links == [] and "url(" not in page and "@import" not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;/pre&gt;&lt;script&gt;" in page
    assert page.index("<strong>x2</strong>") < page.index("<strong>x1</strong>")  # errors lead the failures
    md = (tmp_path / "report.md").read_text()
    assert "| type | n | errors | accuracy |" in md and "| yesno | 6 | 2 | 33.3% |" in md
    assert "`x2` (yesno)" in md


def flips_dir(path: Path, outcomes: dict[str, bool]) -> Path:
    """A run folder whose yes/no questions (gold yes) are right or wrong as given."""
    path.mkdir()
    write_jsonl(path / "results.jsonl", [rec(i, "yesno", "Yes." if ok else "No.", 1.0, True)
                                         for i, ok in outcomes.items()])
    return path


def test_compare_lists_flips_and_the_exact_mcnemar_p(tmp_path, capsys):
    from litmol.agent.evaluation import compare_runs
    from litmol.agent.evaluation.compare import mcnemar_exact
    from litmol.cli.evaluation import cmd_eval_compare

    a = {"r2w": True, **{f"w2r{i}": False for i in range(6)}, "rr1": True, "rr2": True, "rr3": True,
         "ww1": False, "ww2": False, "only_a": True}
    b = {k: v for k, v in a.items() if k != "only_a"} | {"r2w": False, **{f"w2r{i}": True for i in range(6)}}
    da, db = flips_dir(tmp_path / "a", a), flips_dir(tmp_path / "b", b)
    result = compare_runs(da, db)
    assert result["right_to_wrong"] == ["r2w"] and result["wrong_to_right"] == [f"w2r{i}" for i in range(6)]
    assert result["only_in_a"] == ["only_a"] and result["only_in_b"] == []
    m = result["overall"]
    assert (m["n"], m["right_to_wrong"], m["wrong_to_right"]) == (12, 1, 6)
    assert m["p_mcnemar"] == pytest.approx(2 * (1 + 7) / 2**7)  # 0.125
    assert m["accuracy_a"] == pytest.approx(4 / 12) and m["delta"] == pytest.approx(5 / 12)
    lo, hi = m["ci95_delta"]
    assert lo < 5 / 12 < hi and compare_runs(da, db)["overall"]["ci95_delta"] == [lo, hi]
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(0, 10) == pytest.approx(2 / 1024)
    assert mcnemar_exact(5, 5) == 1.0

    out = tmp_path / "cmp.json"
    assert cmd_eval_compare(parse("compare", str(da), str(db), "--json", "--out", str(out))) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text()) and printed["right_to_wrong"] == ["r2w"]
    assert cmd_eval_compare(parse("compare", str(da), str(db))) == 0
    table = capsys.readouterr().out
    assert "right in A, wrong in B (1): r2w" in table and "0.125" in table


def test_two_workers_give_the_same_records_as_one(tmp_path, no_index):
    from litmol.agent.evaluation import load_questions, run_batch
    from litmol.agent.evaluation.runner import RunConfig

    rows = [{"id": f"q{i}", "question": f"Is drug {i} safe?", "type": "yesno", "gold": "yes" if i % 2 else "no"}
            for i in range(8)]
    replies = {r["question"]: [AIMessage("Yes, it is." if i % 3 else "No, it is not.")] for i, r in enumerate(rows)}
    replies["Is drug 5 safe?"] = [RuntimeError]
    delay = {r["question"]: 0.05 * (8 - i) for i, r in enumerate(rows)}  # finish out of order
    questions = load_questions(write_jsonl(tmp_path / "b.jsonl", rows)).questions
    config = RunConfig(input_path="b.jsonl", input_sha256="x", n_questions=8, backend="local", max_steps=3)
    runs = {}
    for workers in (1, 2):
        shared = model(replies, delay=delay)  # one instance for all workers
        run_batch(questions, session_for(no_index, shared), tmp_path / f"w{workers}", config, workers=workers, progress=False)
        assert shared.busy["peak"] == workers
        lines = read(tmp_path / f"w{workers}" / "results.jsonl")
        runs[workers] = sorted(json.dumps({k: v for k, v in r.items() if k not in {"latency_s", "timing"}},
                                           sort_keys=True) for r in lines)
    assert len(runs[1]) == 8 and runs[1] == runs[2]


def test_retrieval_citations_and_self_consistency_with_the_real_index(tmp_path, index_home, monkeypatch):
    from litmol.agent import tools
    from litmol.cli.evaluation import cmd_eval_run

    query = "flagella trypanosomatids"
    shown = tools.PMID_RE.findall(session_for(index_home, None).call_tool("search_literature", query=query))
    assert len(shown) >= 2
    question = "Were flagella isolated from trypanosomatids?"
    variant = f"Answer yes or no first, then explain briefly. {question}"
    fake = model({question: [call("search_literature", query=query),
                             AIMessage(f"Yes, flagella were isolated [PMID:{shown[1]}] [PMID:99999999].")],
                  variant: [AIMessage("No.")]})
    batch = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "f1", "question": question, "type": "yesno", "gold": "yes", "gold_pmids": [shown[1], "1"]}])
    out = tmp_path / "run"
    monkeypatch.setenv("LITMOL_HOME", str(index_home.home))  # the command reads its settings as a user's would
    assert cmd_eval_run(parse("run", str(batch), "--out", str(out), "-q", "--self-consistency"),
                        chat_model=fake) == 0
    (r,) = read(out / "results.jsonl")
    assert r["retrieved_pmids"] == list(dict.fromkeys(shown))
    assert [c["pmid"] for c in r["citations"]] == [shown[1]] and r["removed_citations"] == ["99999999"]
    assert r["cited_in_index"] is True and r["tool_calls"] == [
        {"name": "search_literature", "args": {"query": query}, "ok": True, "valid": True}]
    assert (r["tokens_in"], r["tokens_out"]) == (7 + 17, 6)
    assert r["score"]["rr"] == 0.5 and r["score"]["recall@1"] == 0.0 and r["score"]["recall@5"] == 0.5
    assert r["consistency"]["polarity"] is False and r["consistency"]["flipped"] is True
    metrics = json.loads((out / "metrics.json").read_text())["overall"]
    assert metrics["flip_rate"] == 1.0 and metrics["citations_valid"] == 1.0 and metrics["accuracy"] == 1.0
    run = json.loads((out / "run.json").read_text())
    assert run["index_manifest"]["count"] > 0 and run["config"]["self_consistency"] is True


def test_cli_reports_a_bad_batch_in_one_line_per_error_and_exits_2(tmp_path, capsys):
    from litmol.cli.main import main

    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"id": "a", "question": "ok?", "type": "yesno", "gold": "yes"}\n{"id": "a", "question": "dup"}\n'
                     "not json\n")
    assert main(["eval", "run", str(batch), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "results.jsonl").exists()


def test_right_tool_and_arguments_follow_the_key_of_a_generated_question():
    import json

    from litmol.agent.evaluation.questions import parse_questions
    from litmol.agent.evaluation.routing import routing_scores
    from litmol.paths import CORPORA

    rows = {r["id"]: r for r in map(json.loads, (CORPORA / "eval" / "batch_dev.jsonl").read_text().splitlines())}
    q = parse_questions([json.dumps(rows["approval-0019"])])[0][0].model_dump()  # ponatinib
    facts = {"name": "drug_facts", "args": {"name": "ponatinib"}, "ok": True}
    assert routing_scores(q, {"tool_calls": [facts]}) == {"right_tool": True, "right_args": True}
    assert routing_scores(q, {"tool_calls": [dict(facts, args={"name": "imatinib"})]}) == \
        {"right_tool": True, "right_args": False}
    assert routing_scores(q, {"tool_calls": [{"name": "find_links", "args": {"name": "ponatinib"}, "ok": True}]}) == \
        {"right_tool": False, "right_args": False}
    cls = parse_questions([json.dumps(rows["atc-class-0014"])])[0][0].model_dump()
    assert routing_scores(cls, {"tool_calls": [{"name": "drug_facts", "args": {"name": "prostaglandins"}, "ok": True}]}) \
        == {"right_tool": True, "right_args": True}
    lit = parse_questions([json.dumps(rows["mesh-treats-0001"])])[0][0].model_dump()
    search = {"name": "search_literature", "args": {"query": "phenobarbital seizures"}, "ok": True}
    assert routing_scores(lit, {"tool_calls": [search], "retrieved_pmids": lit["gold_pmids"][:1]})["right_args"]
    assert routing_scores({"question": "hi", "type": "open", "meta": {}}, {"tool_calls": []}) == \
        {"right_tool": None, "right_args": None}
