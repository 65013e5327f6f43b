"""The Gradio app launched on loopback and driven through gradio_client: chat turns (a scripted chat
model over the real tools and test index; once with the real 0.5B model), the Molecules tab with bad
rows, uploads, the Literature tab, export."""

from __future__ import annotations

import contextlib
import csv
import os

import pytest
from langchain_core.messages import AIMessage

from tests.agent.test_loop import StreamingScriptedModel, call

pytestmark = pytest.mark.integration

SCRIPTS = {
    "fake-literature": lambda: [call("search_literature", 0, query="flagella of trypanosomatids"),
                                AIMessage("Flagella were isolated from trypanosomatids and their structure was "
                                          "studied; see also [PMID:12345678].")],
    "fake-molecule": lambda: [call("predict_properties", 0, molecule="caffeine", properties=["bbb"]),
                              AIMessage("Caffeine likely crosses the blood-brain barrier.")],
}


def factory(backend: str, model: str | None, base_url: str | None):
    if model not in SCRIPTS:
        raise RuntimeError(f"no model named {model!r} here")
    script = []
    for _ in range(20):  # enough turns for every test that uses this model
        script += SCRIPTS[model]()
    return StreamingScriptedModel(messages=iter(script))


@contextlib.contextmanager
def serving(home, factory, **kwargs):
    """The app on loopback over an agent session whose settings point at `home` (no environment)."""
    from litmol.agent.session import AgentSession
    from litmol.settings import Settings
    from litmol.ui.app import launch

    session = AgentSession(Settings.load(retrieval={"home": home}))
    app = launch(session, port=None, factory=factory, prevent_thread_lock=True, **kwargs)
    try:
        yield app
    finally:
        app.close()


def scripted_endpoints():
    from litmol.ui.settings import ChatEndpoint

    return [ChatEndpoint(name=name, backend="local", model=name) for name in [*SCRIPTS, "no-such-model"]]


@pytest.fixture(scope="module")
def client(links_home):
    from gradio_client import Client

    with serving(links_home, factory, endpoints=scripted_endpoints()) as app:
        yield Client(app.local_url, verbose=False)


def text_of(message: dict) -> str:
    content = message["content"]
    return "".join(part.get("text", "") for part in content) if isinstance(content, list) else str(content)


def chat(client, question: str, model: str, history=None):
    return client.predict(question, history or [], model, api_name="/chat")


def test_chat_turn_shows_the_tool_step_and_a_verified_linked_answer(client):
    history, box, evidence, _gallery, _props, record = chat(client, "What is known about trypanosome flagella?",
                                                             "fake-literature")
    assert box == ""
    step = history[1]
    assert step["metadata"]["title"] == "Tool · search_literature" and step["metadata"]["status"] == "done"
    assert "flagella of trypanosomatids" in text_of(step) and "pubmed.ncbi.nlm.nih.gov" in text_of(step)
    answer = text_of(history[-1])
    pmid = record["citations"][0]["pmid"]
    assert f"[[PMID:{pmid}]](https://pubmed.ncbi.nlm.nih.gov/{pmid}/)" in answer and "**Sources**" in answer
    assert "12345678" not in answer and record["removed_citations"] == ["12345678"]
    assert f"PMID:{pmid}" in evidence and "> " in evidence  # the cited passage, quoted
    assert record["tool_calls"][0]["name"] == "search_literature"


def test_chat_turn_with_a_prediction_draws_the_molecule_and_tabulates_it(client):
    history, _, evidence, gallery, props, record = chat(client, "Does caffeine cross the BBB?", "fake-molecule")
    assert "Caffeine likely crosses" in text_of(history[-1]) and record["citations"] == []
    assert len(gallery) == 1 and gallery[0]["caption"] == "Caffeine"
    rows = {r[1]: r for r in props["data"]}
    assert 0 <= float(rows["bbb"][2]) <= 1 and rows["bbb"][3].startswith("± ")
    assert "structural alerts" in rows and "No article cited" in evidence


def test_follow_up_keeps_the_history_and_export_writes_json_and_markdown(client):
    first, *_ = chat(client, "Does caffeine cross the BBB?", "fake-molecule")
    second, *_ = chat(client, "And again?", "fake-molecule", history=first)
    assert second[:len(first)] == first and text_of(second[len(first)]) == "And again?"
    # the scripted model repeats its first answer word for word: the turn is asked again on its own,
    # so its tool step shows twice and one answer ends it
    assert [m["metadata"]["title"] for m in second[len(first):] if m.get("metadata")] == [
        "Tool · predict_properties"] * 2
    assert "Caffeine likely crosses" in text_of(second[-1])
    paths = client.predict(second, [], api_name="/export")
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["litmol-conversation.json", "litmol-conversation.md"]
    with open(next(p for p in paths if p.endswith(".md"))) as fh:
        md = fh.read()
    assert "**You:** And again?" in md and "> Tool · predict_properties" in md


def test_unavailable_backend_is_said_in_the_chat(client):
    history, *_ = chat(client, "hello", "no-such-model")
    assert "Backend unavailable" in text_of(history[-1]) and "no model named" in text_of(history[-1])


def test_molecules_csv_with_bad_rows_keeps_every_row_in_place(client, tmp_path):
    from gradio_client import handle_file

    src = tmp_path / "mols.csv"
    src.write_text("id,smiles\nm1,CC(=O)Oc1ccccc1C(=O)O\nm2,not_a_molecule\nm3,\nm4,Cn1c(=O)c2c(ncn2C)n(C)c1=O\n")
    table, download, status, x, y, plot = client.predict("", handle_file(str(src)), api_name="/predict")
    data = table["value"]["data"]
    headers = table["value"]["headers"]
    assert [r[headers.index("#")] for r in data] == [1, 2, 3, 4]
    errors = [r[headers.index("error")] for r in data]
    assert errors[0] == "" and errors[1] and errors[2] and errors[3] == ""
    assert data[0][headers.index("structure")].startswith("![structure](data:image/png;base64,")
    assert "4 rows, 2 could not be read" in status
    with open(download) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["m1", "m2", "m3", "m4"] and rows[1]["valid"] == "False"
    assert x["value"] == "clogp" and y["value"] == "tpsa" and len(plot["value"]["data"]) == 2


def test_molecules_refuses_wrong_file_types_and_empty_input(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    with pytest.raises(AppError):
        client.predict("", handle_file(str(bad)), api_name="/predict")
    with pytest.raises(AppError, match="Paste SMILES or drug names"):
        client.predict("  \n ", None, api_name="/predict")


def test_design_tab_returns_a_shortlist_that_meets_its_sliders_and_files_rdkit_reads(client):
    from gradio_client.exceptions import AppError
    from rdkit import Chem

    gallery, table, files, status, x, y, plot = client.predict(
        "aspirin", 0.5, 10, -10, 0, 200, 0.3, "clogp 0..3", 4, 150, 1, api_name="/design")
    data, headers = table["value"]["data"], table["value"]["headers"]
    assert data and len(gallery) == len(data) and "candidates" in status and "model predictions" in status
    assert all(r[headers.index("qed")] >= 0.5 and 0 <= r[headers.index("clogp")] <= 3 for r in data)
    assert all(r[headers.index("similarity")] >= 0.3 for r in data)
    sdf = next(f for f in files if f.endswith(".sdf"))
    assert [Chem.MolToSmiles(m) for m in Chem.SDMolSupplier(sdf)] == \
        [Chem.MolToSmiles(Chem.MolFromSmiles(r[headers.index("smiles")])) for r in data]
    assert x["value"] == "qed" and y["value"] == "clogp" and plot["value"]["data"]
    assert "shortlist" in str(plot["value"]["data"])  # every feasible molecule, the shortlist marked
    with pytest.raises(AppError, match="is not a molecule"):
        client.predict("notadrugxyz", 0.5, 10, -10, 0, 200, 0.3, "", 4, 100, 0, api_name="/design")
    with pytest.raises(AppError, match="bad objective"):
        client.predict("aspirin", 0.5, 10, -10, 0, 200, 0.3, "qed>>1", 4, 100, 0, api_name="/design")


def test_a_typed_objective_replaces_the_slider_for_the_same_property_under_any_name():
    from litmol.ui.design_tab import _objectives

    specs = _objectives(0.5, 4, -5, 0, 200, "solubility>=-3\nsa_score<=3\nhERG<=0.3")
    assert specs == ["qed>=0.5", "solubility>=-3", "sa_score<=3", "hERG<=0.3"]


def test_literature_search_links_pmids_and_checks_years(client):
    from gradio_client.exceptions import AppError

    table, note = client.predict("flagella of trypanosomatids", "hybrid", None, None, 5, api_name="/search")
    data = table["value"]["data"]
    assert 1 <= len(data) <= 5 and note.startswith(f"{len(data)} results")
    assert data[0][0].startswith("[") and "pubmed.ncbi.nlm.nih.gov" in data[0][0]
    with pytest.raises(AppError, match="after 'to' year"):
        client.predict("flagella", "hybrid", 2000, 1990, 5, api_name="/search")


@pytest.mark.slow
def test_chat_with_the_real_local_model(built_home, tmp_path_factory):
    """One real question through the app with the shipped 0.5B model: a tool step and an answer."""
    from gradio_client import Client

    from litmol.agent.local_chat import LocalChatModel

    if not os.environ.get("LITMOL_HOME"):
        os.environ["LITMOL_HOME"] = str(tmp_path_factory.mktemp("llm-home"))  # weights dequantized here once
    model = LocalChatModel(model_name="0.5b", max_new_tokens=96)
    model.lm  # noqa: B018 - load now, from this home (the app's home below holds the test index)
    with serving(built_home, lambda *_: model) as app:
        history, *_rest, record = Client(app.local_url, verbose=False).predict(
            "Does caffeine cross the blood-brain barrier?", [], "0.5b", api_name="/chat")
    assert any((m.get("metadata") or {}).get("title", "").startswith("Tool · ") for m in history)
    assert record["tool_calls"] and text_of(history[-1]).strip()


def test_links_tab_tabulates_links_with_pmids_and_draws_the_network(client):
    from gradio_client.exceptions import AppError

    table, note, network = client.predict("angina", "disease", "treats", 1, api_name="/links")
    table = table.get("value", table)  # gr.update(value=..., datatype=...) comes back whole
    rows = table["data"]
    headers = table["headers"]
    assert headers[:3] == ["drug", "relation", "disease or target"]
    assert any(r[0] == "Nifedipine" and "417957" in r[headers.index("PMIDs")] for r in rows)
    assert all(r[1] == "treats" for r in rows)
    assert all(set(s.rsplit(" ", 1)[0] for s in r[headers.index("sources")].split(", ")) <= {"text mining", "PubMed indexing"}
               for r in rows)
    assert f"{len(rows)} link{'' if len(rows) == 1 else 's'} in 320 articles" in note
    assert network and network.get("type") == "matplotlib"
    with pytest.raises(AppError, match="not in the vocabulary"):
        client.predict("qwertyuiop", "disease", "all", 1, api_name="/links")


def test_links_tab_answers_a_target_with_indexed_links(client, links_home):
    import sqlite3

    conn = sqlite3.connect(links_home / "links" / "default.sqlite")
    target = conn.execute("SELECT c.name FROM indexed i JOIN concepts c ON c.id = i.other WHERE i.relation IN "
                          "('inhibits', 'acts_on') GROUP BY c.name ORDER BY COUNT(*) DESC").fetchone()[0]
    conn.close()
    table, note, _ = client.predict(target, "target", "all", 1, api_name="/links")
    table = table.get("value", table)
    headers, rows = table["headers"], table["data"]
    assert rows and all(r[headers.index("disease or target")] == target for r in rows)
    assert all(r[1] in ("inhibits", "activates", "acts_on") and "PubMed indexing" in r[headers.index("sources")]
               for r in rows)


def test_answers_show_smiles_as_code_so_markdown_keeps_their_brackets():
    """Markdown reads "[C@H](O)" as a link: the chat shows each SMILES of an answer as a code span, and what
    goes back to the agent as history is the answer as it was written."""
    from rdkit import Chem

    from litmol.ui import render

    smiles = "O=C(N[C@H](CO)[C@H](O)c1ccc([N+](=O)[O-])cc1)C(Cl)Cl"
    answer = f"The SMILES of chloramphenicol is {smiles} [PMID:1234567]; ATC J01BA01, a CYP2C19 inhibitor."
    shown = render.link_citations(answer)
    assert f"`{smiles}`" in shown and "J01BA01," in shown and "`CYP2C19`" not in shown
    assert Chem.MolFromSmiles(shown.split("`")[1]) is not None
    assert render.plain_answer(shown) == answer
