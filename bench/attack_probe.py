"""Replays the reliability and security defects of issue 32 as a hostile caller and an unlucky user would,
against this tree and (with --before DIR) against another checkout, and prints one table.

Every probe runs the real code in subprocesses (servers on loopback, the CLI, short Python snippets), on a
home built from the committed 320-abstract slice (index and link table, built by the code measured):

 1 serve llm        bad GBNF grammars -> status codes, server alive, latency of a normal request after
 2 long names       MCP: 1 MB find_links name -> reply seconds, tools/list seconds while it runs;
                    app: 2 MB body -> status, /search seconds beside a 140 KB /links name;
                    service: small request seconds while a 1 MB name is in flight
 4 SMILES           a bracketed SMILES (chloramphenicol) through the answer checks -> parses to the tool's
 5 look-alike       predict_properties("ССO") (Cyrillic С) -> logged ok?
 6 injection        held-out planted abstracts (corpora/injection/heldout.jsonl): attack sentences that
                    reach the model uncut
 7 Ctrl-C           SIGINT to a running `litmol propose` -> seconds to exit, rows written
 8 design           Design tab without objectives; `qed>=1e999`; propose_candidates over MCP vs its stop
 9 CSV              a formula-like input name in `predict --output x.csv` -> escaped?
10 --index          `../../x`, `/etc`, a 300-character name -> exit status
11 echoes           1 MB property name -> characters of the error; MCP non-ASCII refusal -> isError
12 Ray              listening sockets of a local Ray cluster on 0.0.0.0

Item 3 (a links build killed at three points) is bench/links_kill.py; the LLM-driven figures (SMILES in
the dev batch's structure answers, planted instructions obeyed) come from `litmol eval` and
bench/injection_eval.py (bench/README.md).

    python bench/attack_probe.py --before /tmp/before     # a `git worktree` of main before the fixes
    python bench/attack_probe.py --only 1,2,5             # some probes
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, arg_parser, free_port, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(__file__).resolve().parent / "code_site"
PROBE_TIMEOUT_S = 240


def code_env(code: Path, home: Path) -> dict[str, str]:
    """The environment that runs litmol from `code` with this venv, on `home`."""
    env = {k: v for k, v in os.environ.items() if k not in ("LITMOL_PREDICTOR_URL", "PYTHONPATH")}
    env.update(LITMOL_HOME=str(home), PYTHONPATH=str(SITE), LITMOL_CODE=str(code), PYTHONUNBUFFERED="1")
    return env


def snippet(code: Path, home: Path, source: str, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Run a Python snippet that prints one JSON object on its last line; {"error": ...} if it did not."""
    try:
        out = subprocess.run([sys.executable, "-c", source], env=code_env(code, home), cwd=code, capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result in {timeout:.0f} s"}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1][:200]}
    return json.loads(lines[-1])


def cli(code: Path, home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "litmol.cli", *args], env=code_env(code, home), cwd=code,
                          capture_output=True, text=True, timeout=timeout)


def build_home(code: Path, home: Path) -> None:
    """The slice index and its link table, built once per checkout by that checkout's code."""
    if (home / "ready").exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    models = Path(os.environ.get("LITMOL_HOME") or Path.home() / ".litmol") / "models"
    if models.exists() and not (home / "models").exists():
        (home / "models").symlink_to(models)  # the joined GGUF and dequantized weights: not rebuilt
    for args in (["index", "build", "--corpus", str(ROOT / "tests" / "data" / "pubmed_slice.xml.gz"), "-q"],
                 ["links", "build", "-q"]):
        done = cli(code, home, *args, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()[-300:]}")
    (home / "ready").touch()


def row(item: str, check: str, value: Any, ok: bool | None) -> dict[str, Any]:
    return {"item": item, "check": check, "value": value, "ok": ok}


# -- 1: serve llm ------------------------------------------------------------------------------
def probe_serve_llm(code: Path, home: Path) -> list[dict[str, Any]]:
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "serve", "llm", "--port", str(port), "-q"],
                            env=code_env(code, home), cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    rows = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(1)
        small = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0}
        for grammar in ("root ::= (", "root ::= foo"):
            try:
                status = httpx.post(url, json={**small, "grammar": grammar}, timeout=60).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            time.sleep(1)
            rows.append(row("1", f"grammar {grammar!r}: status, server alive", f"{status}, alive={proc.poll() is None}",
                            status == 400 and proc.poll() is None))
        started = time.monotonic()
        try:
            ok = httpx.post(url, json=small, timeout=120).status_code == 200
        except httpx.HTTPError:
            ok = False
        rows.append(row("1", "normal request after them: answered, seconds",
                        f"{ok}, {time.monotonic() - started:.2f}", ok))
    finally:
        proc.kill()
        proc.wait(30)
    return rows


# -- 2: long names -------------------------------------------------------------------------------
MCP_LONG_NAME = '''
import json, sys, time, anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
import os
params = StdioServerParameters(command=sys.executable, args=["-m", "litmol.cli", "mcp"], env=dict(os.environ))
out = {}
async def main():
    async with Client(params, read_timeout_seconds=600) as client:
        await client.call_tool("resolve_molecule", {"name": "aspirin"})
        async def long_call():
            t = time.monotonic()
            r = await client.call_tool("find_links", {"name": "angina" * 170000})
            out["name_s"] = round(time.monotonic() - t, 2); out["name_error"] = bool(r.is_error)
        async def listing():
            await anyio.sleep(1)
            t = time.monotonic(); await client.list_tools(); out["list_s"] = round(time.monotonic() - t, 2)
        with anyio.move_on_after(LIMIT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(long_call); tg.start_soon(listing)
anyio.run(main)
print(json.dumps(out))
'''

APP = '''
import json, threading, time, httpx, sys
from litmol.agent.session import AgentSession
from litmol.settings import Settings
from litmol.ui.app import launch
app = launch(AgentSession(Settings.load()), port=None, prevent_thread_lock=True)
base = app.local_url.rstrip("/")
def call(api, data, timeout=120):
    r = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, timeout=timeout)
    if r.status_code != 200:
        return r.status_code
    eid = r.json()["event_id"]
    with httpx.stream("GET", f"{base}/gradio_api/call/{api}/{eid}", timeout=timeout) as s:
        for line in s.iter_lines():
            if line.startswith("event:") and line.split(":", 1)[1].strip() in ("complete", "error"):
                return line.split(":", 1)[1].strip()
out = {}
out["body_2mb"] = httpx.post(f"{base}/gradio_api/call/links", json={"data": ["x" * 2000000, "disease", "all", 1]},
                             timeout=60).status_code
call("search", ["angina", "lexical", None, None, 3])
t = time.monotonic(); call("search", ["angina", "lexical", None, None, 3]); out["search_alone_s"] = round(time.monotonic() - t, 2)
name = "angina" * 23000
def links():
    t = time.monotonic(); out["links"] = call("links", [name, "disease", "all", 1], 600); out["links_s"] = round(time.monotonic() - t, 2)
th = threading.Thread(target=links); th.start(); time.sleep(0.5)
t = time.monotonic(); call("search", ["angina", "lexical", None, None, 3]); out["search_beside_s"] = round(time.monotonic() - t, 2)
th.join(600)
print(json.dumps(out)); sys.stdout.flush()
app.close()
'''


def probe_long_names(code: Path, home: Path) -> list[dict[str, Any]]:
    mcp = snippet(code, home, MCP_LONG_NAME.replace("LIMIT", "120"), timeout=200)
    app = snippet(code, home, APP, timeout=900)
    return [
        row("2", "MCP: 1 MB find_links name -> reply seconds (limit 120)", mcp.get("name_s", "no reply"),
            mcp.get("name_s") is not None and mcp["name_s"] < 5),
        row("2", "MCP: tools/list seconds while it runs", mcp.get("list_s", "no reply"),
            mcp.get("list_s") is not None and mcp["list_s"] < 2),
        row("2", "app: 2 MB request body -> status", app.get("body_2mb", app.get("error")), app.get("body_2mb") == 413),
        row("2", "app: 138 KB /links name -> seconds", app.get("links_s"),
            app.get("links_s") is not None and app["links_s"] < 2),
        row("2", "app: /search seconds after a 2 MB /links body / beside a 138 KB /links name",
            f"{app.get('search_alone_s')} / {app.get('search_beside_s')}",
            app.get("search_beside_s") is not None and app["search_beside_s"] < 2),
    ]


# -- 4, 5, 11: the agent's answer checks and tools -------------------------------------------------
AGENT = '''
import json, re
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from rdkit import Chem
from litmol.agent.loop import summarize_run
from litmol.agent.session import AgentSession
from litmol.agent.tools import tool_failed
from litmol.settings import Settings
out = {}
s = AgentSession(Settings.load())
smiles = s.call_tool("resolve_molecule", name="chloramphenicol").split("SMILES ")[1].split(";")[0]
msgs = [HumanMessage("What is the SMILES of chloramphenicol?"),
        AIMessage("", tool_calls=[{"name": "resolve_molecule", "args": {"name": "chloramphenicol"}, "id": "c1"}]),
        ToolMessage(s.call_tool("resolve_molecule", name="chloramphenicol"), tool_call_id="c1", name="resolve_molecule"),
        AIMessage(f"The SMILES of chloramphenicol is {smiles}.")]
answer = summarize_run(msgs, 0.0, lambda p: {"title": "", "abstract": "", "year": None}).answer
tokens = [t.strip(".") for t in answer.split() if "(" in t]
canon = lambda x: (m := Chem.MolFromSmiles(x)) and Chem.MolToSmiles(m)
out["smiles_shown"] = tokens[0] if tokens else ""
out["smiles_ok"] = bool(tokens) and canon(tokens[0]) == canon(smiles)
class M:
    status = None
    def __init__(self, c): self.content = c
reply = s.call_tool("predict_properties", molecule="\\u0421\\u0421O")
out["lookalike_ok_logged"] = not tool_failed(M(reply))
out["lookalike_reply"] = reply[:80]
print(json.dumps(out))
'''

ECHO = '''
import json, sys, time, anyio, os
from mcp import Client
from mcp.client.stdio import StdioServerParameters
params = StdioServerParameters(command=sys.executable, args=["-m", "litmol.cli", "mcp"], env=dict(os.environ))
out = {}
async def main():
    async with Client(params, read_timeout_seconds=300) as client:
        r = await client.call_tool("predict_properties", {"molecule": "\\u0421\\u0421O"})
        out["nonascii_is_error"] = bool(r.is_error)
        t = time.monotonic()
        r = await client.call_tool("propose_candidates", {"objectives": ["bbb>=0.7", "qed>=0.6"], "seeds": ["imatinib"]})
        out["propose_s"] = round(time.monotonic() - t, 1)
anyio.run(main)
print(json.dumps(out))
'''


def probe_agent(code: Path, home: Path) -> list[dict[str, Any]]:
    got = snippet(code, home, AGENT)
    echo = cli(code, home, "predict", "CCO", "--properties", "q" * 120_000, timeout=120)  # Linux caps one argument at 128 KiB
    mcp = snippet(code, home, ECHO, timeout=400)
    from litmol.agent.design_tool import TIME_LIMIT_S
    return [
        row("4", "chloramphenicol SMILES after the answer checks parses to the tool's", got.get("smiles_ok", got),
            got.get("smiles_ok") is True),
        row("5", "predict_properties('ССO', Cyrillic) logged ok", got.get("lookalike_ok_logged", got),
            got.get("lookalike_ok_logged") is False),
        row("11", "120 KB property name: characters of it echoed on stderr, exit",
            f"{max((len(m) for m in re.findall('q+', echo.stderr)), default=0):,}, {echo.returncode}",
            max((len(m) for m in re.findall("q+", echo.stderr)), default=0) <= 61 and echo.returncode == 2),
        row("11", "MCP non-ASCII refusal isError", mcp.get("nonascii_is_error", mcp), mcp.get("nonascii_is_error")),
        row("8", f"MCP propose_candidates seconds (stated stop {TIME_LIMIT_S:.0f} s)", mcp.get("propose_s", mcp),
            isinstance(mcp.get("propose_s"), float) and mcp["propose_s"] <= TIME_LIMIT_S + 5),
    ]


# -- 6: planted instructions that reach the model -----------------------------------------------------
INJECTION = '''
import json
from pathlib import Path
from litmol.agent.untrusted import sanitize
cases = [json.loads(l) for l in Path("CORPUS").read_text().splitlines()]
uncut = []
for c in cases:
    seen = sanitize(c["article"]["title"] + " " + c["article"]["abstract"]).text
    if any(" ".join(i.split()) in seen for i in c["instruction"]):
        uncut.append(c["id"])
print(json.dumps({"cases": len(cases), "uncut": uncut}))
'''


def probe_injection(code: Path, home: Path) -> list[dict[str, Any]]:
    rows = []
    for name, what in (("heldout", "set 1 (blind; seen after the first round)"), ("heldout2", "set 2 (blind, new)")):
        got = snippet(code, home, INJECTION.replace("CORPUS", str(ROOT / "corpora" / "injection" / f"{name}.jsonl")))
        uncut = got.get("uncut")
        rows.append(row("6", f"held-out planted instructions reaching the model uncut, {what}",
                        f"{len(uncut)} of {got['cases']}" if uncut is not None else got, None))
    return rows


# -- 9, 10: CSV formulas and index names ----------------------------------------------------------------
def probe_cli(code: Path, home: Path, tmp: Path) -> list[dict[str, Any]]:
    rows = []
    hostile = tmp / "hostile.csv"
    hostile.write_text('name\n"=HYPERLINK(""http://x.example"",""y"")"\naspirin\n')
    out = tmp / "out.csv"
    done = cli(code, home, "predict", "--input", str(hostile), "--output", str(out))
    text = out.read_text() if out.exists() else ""
    rows.append(row("9", "formula-like name in predict --output CSV written unescaped",
                    "=HYPERLINK" in text.replace("'=HYPERLINK", ""), "=HYPERLINK" not in text.replace("'=HYPERLINK", "")
                    and bool(text) and done.returncode == 0))
    escape = home.parent / "probe-escape"
    done = cli(code, home, "index", "build", "--stage", "lexical", "--index", "../../probe-escape", "--corpus",
               str(ROOT / "tests" / "data" / "pubmed_slice.xml.gz"), "-q", timeout=300)
    outside = escape.exists()
    if outside:
        import shutil

        shutil.rmtree(escape)
    rows.append(row("10", "index build --index ../../probe-escape: exit status, wrote outside LITMOL_HOME",
                    f"{done.returncode}, {outside}", done.returncode == 2 and not outside))
    for name in ("/etc", "n" * 300):
        done = cli(code, home, "search", "angina", "--index", name, timeout=60)
        rows.append(row("10", f"--index {name[:12]!r}{'…' if len(name) > 12 else ''}: exit status", done.returncode,
                        done.returncode == 2))
    return rows


# -- 7, 8: design ---------------------------------------------------------------------------------------
DESIGN_TAB = '''
import json
try:
    import gradio as gr
    from litmol.ui.design_tab import run_design
    out = run_design("imatinib\\nnilotinib", 0.0, 10.0, -10.0, 0.0, 200.0, 0.4, "", 5, 100, 0)
    plot = out[-1]  # rendered as the app renders it: the ScatterPlot's own postprocess
    gr.ScatterPlot(**{k: v for k, v in plot.items() if k not in ("__type__", "value")}).postprocess(plot["value"])
    print(json.dumps({"ok": True, "status": "ran and plotted: " + str(out[3])[:60]}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:80]}"}))
'''


def probe_design(code: Path, home: Path) -> list[dict[str, Any]]:
    import signal

    rows = []
    proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "propose", "--seed", "imatinib", "--objective",
                             "bbb>=0.7", "--objective", "logs>=-4", "-n", "5", "--budget", "4000", "--json"],
                            env=code_env(code, home), cwd=code, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal's job
    time.sleep(45)  # past the first predictions (model loading), into the search
    sent = time.monotonic()
    for _ in range(3):  # three Ctrl-C over the next 60 s, as the report did
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            continue
    exited = proc.poll() is not None
    seconds = time.monotonic() - sent
    if not exited:
        os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    try:
        n = len(json.loads(out)) if out.strip() else 0
    except json.JSONDecodeError:
        n = 0
    rows.append(row("7", "SIGINT to a running propose: exited, seconds, candidates written",
                    f"{exited}, {seconds:.1f}, {n}", exited and seconds < 20 and n > 0))
    tab = snippet(code, home, DESIGN_TAB)
    rows.append(row("8", "Design tab with seeds and every objective off", tab.get("status") or tab.get("error"),
                    tab.get("ok") is True))
    done = cli(code, home, "propose", "--seed", "aspirin", "--objective", "qed>=1e999", "--budget", "50", timeout=300)
    rows.append(row("8", "propose --objective qed>=1e999: exit status", done.returncode, done.returncode == 2))
    return rows


# -- 12: Ray ---------------------------------------------------------------------------------------------
RAY = '''
import json, psutil, ray
from litmol.cluster import ray_init
ray_init("local", num_cpus=1)
@ray.remote
def f():
    return 1
ray.get(f.remote())
procs = {p.pid: p.name() for p in psutil.Process().children(recursive=True)}
procs[psutil.Process().pid] = "driver"
listening = [(procs[c.pid], c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
             if c.pid in procs and c.status == psutil.CONN_LISTEN]
print(json.dumps({"outside": sorted({f"{n} {ip}" for n, ip, _ in listening
                                     if not ip.endswith(("127.0.0.1", "::1"))}), "n": len(listening)}))
ray.shutdown()
'''


def probe_ray(code: Path, home: Path) -> list[dict[str, Any]]:
    got = snippet(code, home, RAY, timeout=300)
    outside = got.get("outside")
    return [row("12", "local Ray cluster: listening sockets not on loopback",
                f"{len(outside)} ({', '.join(outside)[:70]})" if outside is not None else got, outside == [])]


PROBES = {"1": probe_serve_llm, "2": probe_long_names, "4": probe_agent, "6": probe_injection, "7": probe_design,
          "12": probe_ray}


def measure(code: Path, base: Path, only: set[str], tmp: Path) -> list[dict[str, Any]]:
    home = base / code.name
    build_home(code, home)
    rows: list[dict[str, Any]] = []
    for key, probe in PROBES.items():
        if key in only:
            print(f"probe {key} on {code}", file=sys.stderr)
            try:
                rows += probe(code, home)
            except Exception as exc:  # a probe that cannot run is a row that says so, not a lost table
                rows.append(row(key, f"probe {probe.__name__}", f"could not run: {type(exc).__name__}: {exc}"[:120],
                                False))
    if "9" in only:
        rows += probe_cli(code, home, tmp)
    return rows


def main() -> int:
    parser = arg_parser(__doc__)
    parser.add_argument("--before", type=Path, help="another checkout to measure first (a worktree of main)")
    parser.add_argument("--only", default="1,2,4,6,7,9,12", help="probes to run (default: all: 1,2,4,6,7,9,12)")
    parser.add_argument("--home", type=Path, help="where the probe homes live (default $LITMOL_HOME/bench-attack)")
    args = parser.parse_args()
    import tempfile

    only = set(args.only.split(","))
    base = args.home or Path(os.environ.get("LITMOL_HOME") or Path.home() / ".litmol") / "bench-attack"
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            runs["before"] = measure(args.before.resolve(), base, only, Path(tmp))
        runs["after"] = measure(ROOT, base, only, Path(tmp))
    merged = []
    before_rows = {(r["item"], r["check"]): r for r in runs.get("before", [])}
    for after in runs["after"]:
        before = before_rows.get((after["item"], after["check"]))
        merged.append({"item": after["item"], "check": after["check"],
                       "before": before["value"] if before else "", "after": after["value"],
                       "fixed": {True: "yes", False: "NO", None: "-"}[after["ok"]]})
    print(table(merged, ["item", "check", "before", "after", "fixed"]))
    saved = RESULTS / "attack_probe.json"  # runs of some probes update their rows, keeping the others
    earlier = json.loads(saved.read_text()).get("rows", []) if saved.exists() else []
    fresh = {(r["item"], r["check"]) for r in merged}
    rows = [r for r in earlier if (r["item"], r["check"]) not in fresh] + merged
    rows.sort(key=lambda r: int(r["item"]))
    print(f"saved {save('attack_probe', {'rows': rows, 'runs': runs, 'probes': sorted(only, key=int)})}")
    return 0 if all(r["ok"] is not False for r in runs["after"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
