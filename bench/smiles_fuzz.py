"""Fuzz the molecule parser with adversarial strings (issue 15): no crash, no input over 1 s, no look-alike
SMILES accepted.

Seeds are real: the SMILES of tests/data/molecules.csv and of the drug lexicon (~2,800 approved drugs),
and the lexicon's names. Each generator mutates a seed: Unicode look-alikes (Cyrillic, Greek, full-width),
zero-width and bidi marks, emoji, huge or impossible isotopes, ring closures with conflicting bonds,
unbalanced brackets, very long strings, random byte noise (lone surrogates included, as JSON can carry
them), deep branch nesting, MOL blocks with non-ASCII atoms or huge sizes, and names with Greek letters.
Every string goes through `resolve_input`, the entry point `predict_inputs` (CLI, service, app) uses.

Reported: exceptions that escape (crashes), p50/p99/max seconds per input, non-ASCII inputs accepted
(by generator: from a SMILES seed any acceptance is a failure; a drug name with Greek or look-alike
letters may resolve by name), and counts by rejection reason. Deterministic for a given --seed.

    python bench/smiles_fuzz.py [--n 12000] [--seed 15]
"""

from __future__ import annotations

import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import arg_parser, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOOKALIKE_TWINS = {"C": "СϹＣ", "O": "ОΟＯ", "N": "ΝＮ", "H": "НΗ", "c": "сｃ", "o": "оοｏ", "S": "ЅＳ",
                   "P": "РΡ", "B": "ВΒ", "1": "１", "=": "＝", "(": "（", ")": "）", "#": "＃", "a": "аａ",
                   "e": "еｅ", "i": "іι", "p": "рｐ", "x": "хｘ", "y": "уｙ"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
             "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad", "\u00a0", "\u2060", "\u3000"]
EMOJI = ["🧪", "💊", "⚗️", "🔬", "😀", "☃", "★", "→", "✓", "🇺🇸", "👨‍🔬"]
GREEK = "αβγδεκλμωΔΩ"
MASS_NUMBERS = [0, 1, 2, 3, 8, 11, 13, 14, 18, 22, 30, 99, 123, 125, 238, 294, 300, 301, 999, 1000, 65536 + 13,
                999999, 10**12, 10**40]
BONDS = "-=#$:/\\"
SMILES_ALPHABET = "CNOSPFIBrcnos()[]=#@+-1234567890%/\\.:*Hl"


def seeds() -> tuple[list[str], list[str]]:
    """(SMILES, names): tests/data/molecules.csv plus every drug of the lexicon."""
    from litmol.predictors.chem.lexicon import default_lexicon

    with (ROOT / "tests" / "data" / "molecules.csv").open() as fh:
        smiles = [row["smiles"] for row in csv.DictReader(fh) if row["smiles"]]
    entries = default_lexicon().entries
    smiles += [e.smiles for e in entries]
    names = [n for e in entries for n in e.names[:2]]
    return smiles, names


def _positions(rng: random.Random, text: str, k: int) -> list[int]:
    return sorted(rng.sample(range(len(text)), min(k, len(text))), reverse=True) if text else []


def lookalike(rng: random.Random, smiles: str) -> str:
    chars = list(smiles)
    spots = [i for i, c in enumerate(chars) if c in LOOKALIKE_TWINS]
    for i in rng.sample(spots, min(len(spots), rng.randint(1, 3))) if spots else []:
        chars[i] = rng.choice(LOOKALIKE_TWINS[chars[i]])
    return "".join(chars) if spots else "С" + smiles


def fullwidth(rng: random.Random, smiles: str) -> str:
    start = rng.randrange(len(smiles))
    end = rng.randint(start + 1, len(smiles))
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in smiles[start:end])
    return smiles[:start] + wide + smiles[end:]


def invisible(rng: random.Random, smiles: str) -> str:
    text = smiles
    for i in [0, len(text)] if rng.random() < 0.3 else [rng.randint(0, len(text))]:
        text = text[:i] + rng.choice(INVISIBLE) + text[i:]
    return text


def emoji(rng: random.Random, smiles: str) -> str:
    mark = rng.choice(EMOJI)
    where = rng.choice(["start", "end", "middle"])
    if where == "start":
        return mark + smiles
    if where == "end":
        return smiles + rng.choice(["", " "]) + mark
    i = rng.randint(0, len(smiles))
    return smiles[:i] + mark + smiles[i:]


def isotope(rng: random.Random, smiles: str) -> str:
    spots = [i for i, c in enumerate(smiles) if c in "CNOSPF" and (i == 0 or smiles[i - 1] != "[")]
    mass = rng.choice(MASS_NUMBERS)
    if not spots:
        return f"[{mass}C]" + smiles
    i = rng.choice(spots)
    return smiles[:i] + f"[{mass}{smiles[i]}]" + smiles[i + 1:]


def ring_conflict(rng: random.Random, smiles: str) -> str:
    digits = [i for i, c in enumerate(smiles) if c.isdigit() and "[" not in smiles[max(0, i - 4):i]]
    if len(digits) < 2:
        return f"C{rng.choice(BONDS)}1CCCCC{rng.choice(BONDS)}1"
    label = smiles[digits[0]]
    ends = [i for i in digits if smiles[i] == label][:2]
    if len(ends) < 2:
        return f"C{rng.choice(BONDS)}1CCCCC{rng.choice(BONDS)}1"
    first, second = rng.sample(BONDS, 2)
    text = smiles[:ends[1]] + second + smiles[ends[1]:]
    return text[:ends[0]] + first + text[ends[0]:]


def brackets(rng: random.Random, smiles: str) -> str:
    text = smiles
    for i in _positions(rng, text, rng.randint(1, 4)):
        text = text[:i] + rng.choice(["(", ")", "[", "]", "", "[[", "]]"]) + text[i + 1:]
    return text


def very_long(rng: random.Random, smiles: str) -> str:
    size = rng.choice([5_001, 6_000, 20_000, 100_000, 1_000_000])
    kind = rng.choice(["repeat", "carbon", "name", "digits"])
    unit = {"repeat": smiles + ".", "carbon": "C", "name": "aspirin ", "digits": "C1"}[kind]
    return (unit * (size // len(unit) + 1))[:size]


def byte_noise(rng: random.Random, smiles: str) -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 80)))
    how = rng.choice(["utf-8", "latin-1", "surrogate", "splice"])
    if how == "utf-8":
        return raw.decode("utf-8", errors="replace")
    if how == "latin-1":
        return raw.decode("latin-1")
    if how == "surrogate":
        return raw.decode("utf-8", errors="surrogateescape")
    i = rng.randint(0, len(smiles))
    return smiles[:i] + raw.decode("latin-1") + smiles[i:]


def ascii_noise(rng: random.Random, smiles: str) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(SMILES_ALPHABET) for _ in range(rng.randint(1, 120)))
    text = list(smiles)
    for i in _positions(rng, smiles, rng.randint(1, 3)):
        text[i] = rng.choice(SMILES_ALPHABET)
    return "".join(text)


def deep_nesting(rng: random.Random, smiles: str) -> str:
    depth = rng.choice([50, 200, 800, 1_600, 2_500, 10_000])
    if rng.random() < 0.5:
        return "C(" * depth + "C" + ")" * depth
    return "C" + "(" * depth + smiles + ")" * rng.choice([depth, depth - 1, 0])


def molblock(rng: random.Random, smiles: str) -> str:
    from rdkit import Chem

    from litmol.predictors.chem.mol import quiet_rdkit

    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles) or Chem.MolFromSmiles("CCO")
    block = Chem.MolToMolBlock(mol)
    lines = block.splitlines()
    how = rng.choice(["atom", "title", "huge", "iso"])
    if how == "atom" and len(lines) > 4:  # a look-alike element symbol in the atom block
        lines[4] = lines[4].replace(" C ", " С ").replace(" O ", " О ").replace(" N ", " Ν ")
        if lines[4].isascii():
            lines[4] = lines[4] + "\u200b"
    elif how == "title":  # allowed: a non-ASCII title
        lines[0] = rng.choice(["β-carotène", "化合物 1", "🧪 sample"])
    elif how == "huge":
        return block.replace("M  END", "M  END\n" + ("> <NOTE>\n" + "x" * 100 + "\n\n") * 12_000)
    else:
        lines.insert(len(lines) - 1, f"M  ISO  1   1 {rng.choice([300, 999, 1])}")
    return "\n".join(lines) + "\n"


def greek_name(rng: random.Random, name: str) -> str:
    if rng.random() < 0.5:
        return rng.choice(GREEK) + "-" + name.lower()
    return lookalike(rng, name)


# generator name -> (function, seed kind, weight)
GENERATORS: dict[str, tuple[Callable[[random.Random, str], str], str, int]] = {
    "lookalike": (lookalike, "smiles", 14), "fullwidth": (fullwidth, "smiles", 6), "invisible": (invisible, "smiles", 10),
    "emoji": (emoji, "smiles", 8), "isotope": (isotope, "smiles", 10), "ring_conflict": (ring_conflict, "smiles", 10),
    "brackets": (brackets, "smiles", 8), "very_long": (very_long, "smiles", 3), "byte_noise": (byte_noise, "smiles", 8),
    "ascii_noise": (ascii_noise, "smiles", 8), "deep_nesting": (deep_nesting, "smiles", 3),
    "molblock": (molblock, "smiles", 4), "greek_or_lookalike_name": (greek_name, "name", 8),
}


def generate(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    smiles, names = seeds()
    kinds = list(GENERATORS)
    weights = [GENERATORS[k][2] for k in kinds]
    out = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        function, seed_kind, _ = GENERATORS[kind]
        out.append((kind, function(rng, rng.choice(smiles if seed_kind == "smiles" else names))))
    return out


def non_ascii_in_chemistry(text: str) -> bool:
    """Non-ASCII where it changes chemistry: anywhere in a SMILES, in a MOL block's atom/bond lines."""
    from litmol.predictors.chem.mol import looks_like_molblock
    from litmol.predictors.chem.smiles_checks import molblock_non_ascii_message

    if looks_like_molblock(text):
        return molblock_non_ascii_message(text) is not None
    return not text.isascii()


def run(n: int, seed: int) -> dict[str, Any]:
    from litmol.predictors.chem.resolve import resolve_input

    cases = generate(n, seed)
    resolve_input("CCO")
    resolve_input("aspirin")  # load RDKit and the lexicon before timing
    times: list[float] = []
    crashes: list[dict[str, str]] = []
    reasons: Counter[str] = Counter()
    by_generator: dict[str, Counter[str]] = {k: Counter() for k in GENERATORS}
    accepted_non_ascii: list[dict[str, str]] = []
    names_resolved = Counter()
    slowest: list[tuple[float, str, str]] = []
    started = time.perf_counter()
    for kind, text in cases:
        t = time.perf_counter()
        try:
            resolved = resolve_input(text)
        except Exception as exc:  # noqa: BLE001 - a crash is what the fuzz looks for
            crashes.append({"generator": kind, "input": repr(text[:80]), "error": f"{type(exc).__name__}: {exc}"[:200]})
            by_generator[kind]["crash"] += 1
            continue
        elapsed = time.perf_counter() - t
        times.append(elapsed)
        slowest = sorted([*slowest, (elapsed, kind, repr(text[:60]))], reverse=True)[:5]
        outcome = "accepted" if resolved.valid else resolved.reason or "?"
        reasons[outcome] += 1
        by_generator[kind][outcome] += 1
        if resolved.valid and non_ascii_in_chemistry(text):
            if kind == "greek_or_lookalike_name" and (resolved.how or "").startswith("name"):
                names_resolved[resolved.how.split(" (")[0]] += 1
            else:
                accepted_non_ascii.append({"generator": kind, "input": repr(text[:80]), "smiles": resolved.smiles or ""})
    total = time.perf_counter() - started
    ordered = sorted(times)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {
        "seed": seed, "inputs": len(cases), "seconds": round(total, 1), "crashes": len(crashes),
        "crash_examples": crashes[:10], "p50_s": round(pct(0.50), 5), "p99_s": round(pct(0.99), 4),
        "max_s": round(ordered[-1], 4) if ordered else 0.0, "over_1s": sum(t > 1.0 for t in times),
        "non_ascii_inputs": sum(non_ascii_in_chemistry(t) for _, t in cases),
        "non_ascii_accepted": len(accepted_non_ascii), "non_ascii_accepted_examples": accepted_non_ascii[:10],
        "non_ascii_names_resolved_by_name": sum(names_resolved.values()),
        "outcomes": dict(reasons.most_common()),
        "by_generator": {k: dict(v.most_common()) for k, v in by_generator.items()},
        "slowest": [{"seconds": round(s, 4), "generator": k, "input": i} for s, k, i in slowest],
    }


def main() -> None:
    parser = arg_parser(__doc__)
    parser.add_argument("--n", type=int, default=12_000, help="Adversarial strings to generate.")
    parser.add_argument("--seed", type=int, default=15, help="Random seed (the run is deterministic).")
    args = parser.parse_args()
    result = run(args.n, args.seed)
    summary = [{"measure": k, "value": result[k]} for k in
               ("inputs", "seconds", "crashes", "p50_s", "p99_s", "max_s", "over_1s", "non_ascii_inputs",
                "non_ascii_accepted", "non_ascii_names_resolved_by_name")]
    print(table(summary, ["measure", "value"]))
    print()
    print(table([{"outcome": k, "count": v} for k, v in result["outcomes"].items()], ["outcome", "count"]))
    print()
    rows = [{"generator": k, **{o: c for o, c in v.items()}} for k, v in result["by_generator"].items()]
    columns = ["generator", *result["outcomes"]]
    print(table(rows, columns))
    print()
    print(table(result["slowest"], ["seconds", "generator", "input"]))
    path = save("smiles_fuzz", result)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
