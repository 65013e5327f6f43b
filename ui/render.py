"""What the app shows, as plain functions: citations as PubMed links, the cited passages, molecule
structures, property tables with units, uncertainty and applicability domain, and exports."""

from __future__ import annotations

import base64
import functools
import re
from typing import TYPE_CHECKING, Any

from litmol.agent.evidence import passages_from

if TYPE_CHECKING:
    from litmol.predictors.rows import PredictionRow

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
CITATION = re.compile(r"\[PMID:(\d{1,9})\]")
SMILES_IN_TOOL = re.compile(r"SMILES (\S+?)(?=\):|;|\s|$)")
# the properties the Molecules tab and the chat table show (with _std and _in_domain when a model gives them)
TABLE_PROPERTIES = ("mw", "clogp", "tpsa", "hbd", "hba", "qed", "lipinski_pass", "logs", "logd", "bbb")


def link_citations(text: str) -> str:
    """Markdown links to PubMed for each verified [PMID:n] in an answer, and its SMILES as code: Markdown
    would read "[C@H](O)" as a link and eat the backslashes of "F/C=C\\F"."""
    return CITATION.sub(lambda m: f"[[PMID:{m.group(1)}]]({PUBMED.format(m.group(1))})", code_structures(text or ""))


def code_structures(text: str) -> str:
    """`text` with each SMILES it holds (a token that parses as one) in a Markdown code span."""
    from litmol.agent.structures import SMILES_SIGNS, SMILES_TOKEN, canonical

    def wrap(match: re.Match) -> str:
        token = match.group(0).rstrip(".,;:")
        while token.endswith(")") and token.count(")") > token.count("("):
            token = token[:-1]
        if not SMILES_SIGNS.search(token) or canonical(token) is None:
            return match.group(0)
        return f"`{token}`" + match.group(0)[len(token):]

    return SMILES_TOKEN.sub(wrap, text)


def sources_markdown(citations: list[dict[str, Any]], years: dict[str, Any] | None = None) -> str:
    if not citations:
        return ""
    years = years or {}
    lines = ["**Sources**"]
    for c in citations:
        year = f" ({years[c['pmid']]})" if years.get(c["pmid"]) else ""
        lines.append(f"- [PMID:{c['pmid']}]({PUBMED.format(c['pmid'])}) {c.get('title') or ''}{year}")
    return "\n".join(lines)


def evidence_markdown(citations: list[dict[str, Any]], messages: list[Any], years: dict[str, Any]) -> str:
    """The passage each cited article contributed, as the model saw it, for checking claims."""
    if not citations:
        return "_No article cited in the last answer._"
    by_pmid: dict[str, str] = {}
    for p in passages_from(messages):
        by_pmid.setdefault(p.pmid, p.text)
    blocks = []
    for c in citations:
        year = f" ({years.get(c['pmid'])})" if years.get(c["pmid"]) else ""
        text = by_pmid.get(c["pmid"], "")
        blocks.append(f"**[PMID:{c['pmid']}]({PUBMED.format(c['pmid'])})**{year} {c.get('title') or ''}\n\n"
                      f"> {text}")
    return "\n\n".join(blocks)


def tool_summary(name: str, content: str, limit: int = 600) -> str:
    """A readable one-paragraph summary of a tool's output for the collapsible step."""
    content = str(content)
    if name == "search_literature":
        hits = re.findall(r"^\[PMID:(\d+)\] \((\d{4}|n\.d\.)\) (.{0,110})", content, re.M)
        if hits:
            return "\n".join(f"- [PMID:{p}]({PUBMED.format(p)}) ({y}) {t.strip()}…" for p, y, t in hits)
    text = " ".join(content.replace("<passages>", "").replace("</passages>", "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def molecules_in(messages: list[Any]) -> list[tuple[str, str]]:
    """(label, SMILES) for molecules resolved or predicted in a conversation, first mention first."""
    seen: dict[str, str] = {}
    for m in messages:
        if getattr(m, "type", None) != "tool" or getattr(m, "name", None) not in {"resolve_molecule",
                                                                                  "predict_properties"}:
            continue
        content = str(m.content)
        found = SMILES_IN_TOOL.search(content)
        if not found:
            continue
        smiles = found.group(1)
        label = content.split("(SMILES")[0].split(" = ")[-1].split(";")[0].strip() or smiles
        seen.setdefault(smiles, label)
    return [(label, smiles) for smiles, label in seen.items()]


@functools.lru_cache(maxsize=2048)
def structure_png(smiles: str, size: int = 300) -> bytes | None:
    """A 2D depiction (PNG bytes), or None when RDKit cannot read the SMILES."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem.Draw import rdMolDraw2D

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles or "")
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DCairo(size, size)
    drawer.drawOptions().clearBackground = True
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def structure_image(smiles: str, size: int = 300):
    """A PIL image of the structure for a gallery (None when unreadable)."""
    import io

    from PIL import Image

    png = structure_png(smiles, size)
    return Image.open(io.BytesIO(png)) if png else None


def thumbnail_markdown(smiles: str, size: int = 120) -> str:
    png = structure_png(smiles, size) if smiles else None
    if not png:
        return ""
    return f"![structure](data:image/png;base64,{base64.b64encode(png).decode()})"


@functools.lru_cache(maxsize=1)
def property_info() -> dict[str, tuple[str, str]]:
    """property -> (unit, description), over every registered predictor."""
    from litmol.predictors import get_predictor, list_predictors

    return {p.name: (p.unit, p.description) for name in list_predictors() for p in get_predictor(name).properties()}


def wanted_properties() -> list[str]:
    info = property_info()
    return [p for base in TABLE_PROPERTIES for p in (base, f"{base}_std", f"{base}_in_domain") if p in info]


def property_rows(result: PredictionRow) -> list[list[Any]]:
    """Rows [molecule, property, value, ± uncertainty, unit, in domain] for one prediction result."""
    info = property_info()
    label = result.name or result.input
    if not result.valid:
        return [[label, "error", result.error, "", "", ""]]
    props = result.properties
    rows = []
    for key, value in props.items():
        if key.endswith(("_std", "_in_domain", "_ad", "_drugbank_pct")):
            continue
        std = props.get(f"{key}_std")
        domain = props.get(f"{key}_in_domain")
        rows.append([label, key, _fmt(value), f"± {std:.2f}" if isinstance(std, float) else "",
                     info.get(key, ("", ""))[0], "" if domain is None else ("yes" if domain else "no: less reliable")])
    alerts = ", ".join(a.label for a in result.alerts) or "none"
    rows.append([label, "structural alerts", alerts, "", "", ""])
    return rows


def _fmt(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return round(value, 3) if isinstance(value, float) else value


def message_text(content: Any) -> str:
    """A chat message's text: Gradio 6 hands messages back with content as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("path") or "")
    return "" if content is None else str(content)


def plain_answer(shown: str) -> str:
    """The answer as the agent wrote it, from what the chat shows (no links, sources or timing)."""
    text = re.split(r"\n\n(?:\*\*Sources\*\*|<sub>)", shown, maxsplit=1)[0]
    text = re.sub(r"`([^`\s]+)`", r"\1", text)  # SMILES shown as code
    return re.sub(r"\[\[PMID:(\d+)\]\]\([^)]*\)", r"[PMID:\1]", text)


def export_markdown(history: list[dict[str, Any]]) -> str:
    """The conversation as Markdown: questions, tool steps (collapsed in the app) and answers."""
    out = ["# litmol conversation", ""]
    for m in history:
        meta = m.get("metadata") or {}
        content = message_text(m.get("content"))
        if m["role"] == "user":
            out += [f"**You:** {content}", ""]
        elif meta.get("title"):
            out += [f"> {meta['title']}" + (f" ({meta['duration']:.1f} s)" if meta.get("duration") else ""),
                    "> " + content.replace("\n", "\n> "), ""]
        else:
            out += [f"**litmol:** {content}", ""]
    return "\n".join(out)
