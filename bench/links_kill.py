"""Kill `litmol links build --rebuild` with SIGKILL early, in the middle and late, and check what readers
see and that a resumed build ends with the rows of a clean build.

Setup: the default index under LITMOL_HOME when it and its link table are built (the index is linked
read-only into a temporary home, the table copied; nothing of the real home is written), else the test
slice (tests/data/pubmed_slice.xml.gz, 320 abstracts, lexical index) in a temporary home. There:
  * clean: `links build --rebuild` once, uninterrupted: its content digest (links/store.py) is the answer;
  * old:   `links build --rebuild --text-only`: another table (no PubMed indexing), the one readers hold
           while the killed builds run.
Each kill point starts from the old table and runs `links build --rebuild` (committing every
`--checkpoint` articles):
  early   the moment its building file appears (the vocabulary is still loading);
  middle  once half of the articles are committed in the building file;
  late    once every article is committed (the indexing and names passes are running).
A reader thread hashes the published table all the while; after the kill, `litmol links --disease
angina --json` runs; then a plain `litmol links build` resumes. Reported per point: when the kill came,
the articles committed by then, the reader's observations (old / half / new), the CLI's answer, where the
resume picked up, and whether its digest equals the clean build's. Two more rows: a first build killed
with no table before (readers must get a "not built" error, exit 2) and a table an older build left
half-written in place (meta `complete` missing: refused, exit 2; the next build gives the clean table).

    python bench/links_kill.py                  # ~1 min on the test slice
    python bench/links_kill.py --slice          # the test slice even when the default index exists
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

SLICE = Path(__file__).resolve().parents[1] / "tests" / "data" / "pubmed_slice.xml.gz"


def litmol(home: Path, *args: str, checkpoint: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "litmol.cli", *args], capture_output=True, text=True,
                          env=_env(home, checkpoint), timeout=3600)


def _env(home: Path, checkpoint: int | None) -> dict[str, str]:
    env = dict(os.environ, LITMOL_HOME=str(home))
    if checkpoint:
        env["LITMOL_CHECKPOINT_ROWS"] = str(checkpoint)
    return env


class Reader(threading.Thread):
    """Hashes the published table over and over; records each digest it saw (or the error)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.seen, self.stop = path, [], threading.Event()

    def run(self) -> None:
        from litmol.links.store import COMPLETE, content_digest, read_meta

        while not self.stop.is_set():
            try:
                self.seen.append(content_digest(self.path) if read_meta(self.path).get(COMPLETE) else "incomplete")
            except (sqlite3.DatabaseError, OSError) as exc:
                self.seen.append(f"error: {exc}")
            time.sleep(0.005)


def kill_at(home: Path, point: str, total: int, checkpoint: int | None, tries: int = 3) -> dict:
    """Start a rebuild, SIGKILL it at `point`; a try whose build published first is retried."""
    from litmol.links.store import committed_articles, staging_path

    path = home / "links" / "default.sqlite"
    staging = staging_path(path)
    for attempt in range(1, tries + 1):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "litmol.cli", "links", "build", "--rebuild", "--quiet"],
                                env=_env(home, checkpoint), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        n = -1
        while proc.poll() is None:
            n = committed_articles(staging)
            if (point == "early" and staging.is_file()) or (point == "middle" and n >= total // 2) or \
                    (point == "late" and n >= total):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return {"killed_after_s": round(time.perf_counter() - t0, 2), "committed_at_kill": max(n, 0),
                        "tries": attempt}
            time.sleep(0.002)
        print(f"{point}: the build ended before the kill (try {attempt}): {proc.stderr.read()[-200:]}")
        shutil.copy2(home / "old.sqlite", path)
    return {"killed_after_s": None, "committed_at_kill": None, "tries": tries}


def angina(home: Path) -> tuple[int, int | None, str]:
    out = litmol(home, "links", "--disease", "angina", "--json")
    rows = json.loads(out.stdout) if out.returncode == 0 else None
    return out.returncode, len(rows) if rows is not None else None, out.stderr.strip()[:160]


def refusal(err: str) -> str:
    """A reader's error in a table cell: what it said, without the path."""
    for said in ("no link table", "is incomplete"):
        if said in err:
            return f"refused: {said.removeprefix('is ')}, run `litmol links build`"
    return f"error: {err[:60]}"


def resume(home: Path, checkpoint: int | None) -> dict:
    from litmol.links.store import content_digest

    t0 = time.perf_counter()
    out = litmol(home, "links", "build", "--quiet", checkpoint=checkpoint)
    marker = "resumed an interrupted build at "
    at = out.stderr.split(marker)[1].split(" ")[0].replace(",", "") if marker in out.stderr else "no (fresh)"
    return {"resume_rc": out.returncode, "resumed_at": at, "resume_s": round(time.perf_counter() - t0, 2),
            "digest": content_digest(home / "links" / "default.sqlite") if out.returncode == 0 else None}


def prepare(use_default: bool, work: Path, checkpoint: int | None) -> tuple[Path, str]:
    home = work / "home"
    (home / "indexes").mkdir(parents=True)
    if use_default:
        from litmol.settings import RetrievalSettings

        real = RetrievalSettings().home
        os.symlink(real / "indexes" / "default", home / "indexes" / "default")  # read only: never written
        return home, f"default index ({real})"
    out = litmol(home, "index", "build", "--corpus", str(SLICE), "--stage", "lexical", "--quiet")
    if out.returncode:
        raise SystemExit(out.stderr)
    return home, f"test slice {SLICE.name}"


def main() -> None:
    parser = arg_parser(__doc__)
    parser.add_argument("--slice", action="store_true", help="the test slice even when the default index exists")
    parser.add_argument("--checkpoint", type=int, default=0,
                        help="articles per commit (default: 64 on the slice, the setting's 1024 otherwise)")
    args = parser.parse_args()
    from litmol.links.store import COMPLETE, content_digest, read_meta, staging_path
    from litmol.settings import RetrievalSettings

    real_table = RetrievalSettings().home / "links" / "default.sqlite"
    use_default = not args.slice and (RetrievalSettings().index_root / "current").exists() and \
        bool(read_meta(real_table).get(COMPLETE))
    if not use_default and not args.slice:
        print("no built default index with a complete link table under LITMOL_HOME: measuring on the test slice")
    checkpoint = args.checkpoint or (None if use_default else 64)
    work = Path(tempfile.mkdtemp(prefix="links-kill-"))
    try:
        home, corpus = prepare(use_default, work, checkpoint)
        path = home / "links" / "default.sqlite"
        t0 = time.perf_counter()
        out = litmol(home, "links", "build", "--rebuild", "--quiet", checkpoint=checkpoint)
        clean_s = round(time.perf_counter() - t0, 2)
        assert out.returncode == 0, out.stderr
        clean = content_digest(path)
        total = int(sqlite3.connect(path).execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        clean_angina = angina(home)
        shutil.copy2(path, work / "clean.sqlite")
        assert litmol(home, "links", "build", "--rebuild", "--text-only", "--quiet").returncode == 0
        old = content_digest(path)
        old_angina = angina(home)
        shutil.copy2(path, home / "old.sqlite")
        rows = []

        def verdict(seen: list[str]) -> str:
            kinds = {"old" if s == old else "new" if s == clean else "half" for s in seen}
            return "/".join(sorted(kinds)) + f" ({len(seen)} reads)"

        for point in ("early", "middle", "late"):
            shutil.copy2(home / "old.sqlite", path)
            reader = Reader(path)
            reader.start()
            kill = kill_at(home, point, total, checkpoint)
            reader.stop.set()
            reader.join()
            rc, n, _ = angina(home)
            after = content_digest(path)
            res = resume(home, checkpoint)
            rows.append({"case": f"rebuild killed {point}", **kill, "reader_during": verdict(reader.seen),
                         "reader_after": "old" if after == old else "half" if after != clean else "new",
                         "angina_links_after": f"{n} (old {old_angina[1]}), exit {rc}",
                         "resumed_at": res["resumed_at"], "resume_s": res["resume_s"],
                         "resume_equals_clean": res["digest"] == clean})
        # a first build, killed midway: no table to serve
        path.unlink()
        staging_path(path).unlink(missing_ok=True)
        kill = kill_at(home, "middle", total, checkpoint)
        rc, n, err = angina(home)
        res = resume(home, checkpoint)
        rows.append({"case": "first build killed middle", **kill, "reader_during": "-",
                     "reader_after": refusal(err), "reader_error": err, "angina_links_after": f"{n}, exit {rc}",
                     "resumed_at": res["resumed_at"], "resume_s": res["resume_s"],
                     "resume_equals_clean": res["digest"] == clean})
        # a table an older build left half-written in place: articles cut to 40 %, no indexing links, no mark
        conn = sqlite3.connect(path)
        keep = int(total * 0.4)
        conn.execute("DELETE FROM articles WHERE rowid NOT IN (SELECT rowid FROM articles ORDER BY rowid LIMIT ?)",
                     (keep,))
        for name in ("pairs", "mentions"):
            conn.execute(f"DELETE FROM {name} WHERE pmid NOT IN (SELECT pmid FROM articles)")
        conn.executescript("DELETE FROM indexed; DELETE FROM names; DELETE FROM trees; "
                           f"DELETE FROM meta WHERE key = '{COMPLETE}';")
        conn.close()
        rc, n, err = angina(home)
        res = resume(home, checkpoint)
        rows.append({"case": "old-code half table", "committed_at_kill": keep, "reader_after": refusal(err),
                     "reader_error": err,
                     "angina_links_after": f"{n}, exit {rc}", "resumed_at": res["resumed_at"],
                     "resume_s": res["resume_s"], "resume_equals_clean": res["digest"] == clean})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    columns = ["case", "killed_after_s", "committed_at_kill", "reader_during", "reader_after",
               "angina_links_after", "resumed_at", "resume_s", "resume_equals_clean"]
    print(f"{corpus}: {total:,} articles; clean build {clean_s} s; angina links: clean {clean_angina[1]}, "
          f"old (text only) {old_angina[1]}; checkpoint every {checkpoint or 'setting'} articles")
    print(table(rows, columns))
    path_out = save("links_kill", {"corpus": corpus, "articles": total, "clean_build_s": clean_s,
                                   "checkpoint": checkpoint, "angina_links": {"clean": clean_angina[1],
                                                                              "old": old_angina[1]},
                                   "rows": rows})
    print(f"-> {path_out}")


if __name__ == "__main__":
    main()
