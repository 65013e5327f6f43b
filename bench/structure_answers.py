"""SMILES in the agent's answers parse, to the molecule asked about: structure questions about approved
drugs whose SMILES carry bracket atoms (stereocentres, charges), asked as `litmol ask` asks them with the
real local model.

The drugs are drawn with a fixed seed from the packaged approved-drug lexicon (those with a `[` in their
SMILES and a single-word name), each asked in one of three phrasings. Per answer: every SMILES-like token
shown parses with RDKit (`parse`), and one of them has the asked drug's InChIKey (`right`). With --before
DIR the same questions are asked of the code in DIR first (a worktree of main), in a subprocess.

    python bench/structure_answers.py --before /tmp/before -n 12
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHRASINGS = ("What is the SMILES of {}?", "Can you give me the structure of {} as SMILES?", "{} smiles string please")


def questions(n: int, seed: int = 0) -> list[dict[str, str]]:
    from litmol.predictors import default_lexicon

    drugs = [e for e in default_lexicon().entries if "[" in e.smiles and e.name.isalpha() and len(e.smiles) < 90]
    picked = random.Random(seed).sample(drugs, n)
    return [{"drug": e.name.lower(), "inchikey": e.inchikey, "question": PHRASINGS[i % 3].format(e.name.lower())}
            for i, e in enumerate(picked)]


def looks_like_smiles(token: str) -> bool:
    """A token that can only be a SMILES: a bond, branch or bracket mark, and outside brackets nothing but
    atom symbols, ring digits and bond marks ("(confidence" and "(n=12)" are not; "OC@@(CO)" is)."""
    import re

    if not re.search(r"[\[\]()=#@]", token):
        return False
    outside = re.sub(r"\[[^\]]*\]", "", token)
    letters = re.sub(r"[^A-Za-z]+", " ", outside).split()
    atom = re.compile(r"(?:Cl|Br|[BCNOPSFIH]|[bcnops])+")
    return bool(letters or "[" in token) and all(atom.fullmatch(w) for w in letters)


def score(answer: str, inchikey: str) -> dict[str, Any]:
    """Every SMILES-like token parses, and one of them is the asked drug."""
    import re

    from rdkit import Chem

    from litmol.predictors.chem.mol import quiet_rdkit

    tokens = []
    for t in re.findall(r"[A-Za-z0-9@+\-\[\]\(\)=#%/\\.`]{5,}", answer):
        t = t.strip(".,;:`")
        while t.endswith(")") and t.count(")") > t.count("("):
            t = t[:-1]
        if looks_like_smiles(t):
            tokens.append(t)
    keys = []
    for t in tokens:
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(t)
        keys.append(Chem.MolToInchiKey(mol) if mol is not None else None)
    return {"smiles_shown": len(tokens), "parse": all(k is not None for k in keys), "right": inchikey in keys}


def ask_all(items: list[dict[str, str]], model: str) -> list[dict[str, Any]]:
    from tqdm import tqdm

    from litmol.agent.backends import make_chat_model
    from litmol.agent.session import AgentSession
    from litmol.settings import Settings

    settings = Settings.load()
    session = AgentSession(settings, make_chat_model("local", model, settings=settings.agent))
    out = []
    for item in tqdm(items, desc="structure questions"):
        answer = session.ask(item["question"])
        out.append({**item, "answer": answer.answer, "tools": [c["name"] for c in answer.tool_calls],
                    **score(answer.answer, item["inchikey"])})
    return out


def run_side(code: Path | None, items: list[dict[str, str]], model: str) -> list[dict[str, Any]]:
    if code is None:
        return ask_all(items, model)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(items))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "bench" / "code_site"), "LITMOL_CODE": str(code)}
        script = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.structure_answers import ask_all; "
                  f"json.dump(ask_all(json.load(open({str(src)!r})), {model!r}), open({str(dst)!r}, 'w'))")
        subprocess.run([sys.executable, "-c", script], env=env, cwd=code, check=True)
        return json.loads(dst.read_text())


def main() -> int:
    parser = arg_parser(__doc__)
    parser.add_argument("-n", type=int, default=12, help="questions (default 12)")
    parser.add_argument("--model", default="0.5b")
    parser.add_argument("--before", type=Path, help="another checkout to ask first (a worktree of main)")
    parser.add_argument("--rescore", action="store_true", help="score the saved answers again (no model run)")
    args = parser.parse_args()
    if args.rescore:
        saved = json.loads((ROOT / "bench" / "results" / "structure_answers.json").read_text())["results"]
        sides = {name: [{**r, **score(r["answer"], r["inchikey"])} for r in results] for name, results in saved.items()}
    else:
        items = questions(args.n)
        sides = {}
        if args.before:
            sides["before"] = run_side(args.before.resolve(), items, args.model)
        sides["after"] = run_side(None, items, args.model)
    rows = []
    for name, results in sides.items():
        shown = [r for r in results if r["smiles_shown"]]
        rows.append({"code": name, "questions": len(results), "answers with SMILES": len(shown),
                     "all parse": f"{sum(r['parse'] for r in shown)}/{len(shown)}",
                     "asked drug shown": f"{sum(r['right'] for r in results)}/{len(results)}"})
    print(table(rows, ["code", "questions", "answers with SMILES", "all parse", "asked drug shown"]))
    print(f"saved {save('structure_answers', {'summary': rows, 'results': sides})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
