"""A name longer than any drug, disease or target name is refused before any matching: a 1 MB name costs
well under a second wherever it enters (LinkTable, the vocabulary, the thesaurus, the CLI, the agent's
find_links tool), and the error quotes at most its first 60 characters."""

from __future__ import annotations

import time

import pytest

from litmol.retrieval import RetrievalSettings
from tests.cli.test_cli import litmol

HUGE = ("angina pectoris " * 65_536)[:-1] + "."  # 1 MiB of real words: every matcher would walk it


def refused_fast(call, *args, **kwargs) -> str:
    from litmol.links.errors import NameTooLongError

    start = time.perf_counter()
    with pytest.raises(NameTooLongError) as err:
        call(*args, **kwargs)
    assert time.perf_counter() - start < 1.0
    return str(err.value)


def test_a_1_mb_name_is_refused_at_once_everywhere_in_the_table(links_home):
    from litmol.links.table import LinkTable

    table = LinkTable.open(RetrievalSettings(home=links_home))
    for kind in ("disease", "drug", "target"):
        message = refused_fast(table.resolve, HUGE, kind)
        assert message.startswith(f"{kind} name too long (1,048,576 characters; at most 200)")
        assert HUGE[:60] in message and HUGE[:61] not in message
    refused_fast(table.links, disease=HUGE)
    refused_fast(table.links, drug=HUGE, relation="treats")
    refused_fast(table.links, target=HUGE)
    refused_fast(table.links, drug="nifedipine", disease=HUGE)
    refused_fast(table.hypotheses, HUGE)
    refused_fast(table.vocab.lookup, HUGE, ("disease",))


def test_names_up_to_the_limit_still_match(links_home):
    from litmol.links.errors import NameTooLongError
    from litmol.links.table import LinkTable
    from litmol.predictors.chem.lexicon import MAX_NAME_CHARS
    from litmol.retrieval import BadQueryError

    table = LinkTable.open(RetrievalSettings(home=links_home))
    padded = " " * 5000 + "angina pectoris" + " " * 5000  # surrounding blanks do not count
    assert table.name(table.resolve(padded, "disease")) == "Angina Pectoris"
    at_limit = ("angina pectoris " * 20)[:MAX_NAME_CHARS]
    with pytest.raises(BadQueryError) as err:  # matched (and not found), not refused for its length
        table.resolve(at_limit, "disease")
    assert not isinstance(err.value, NameTooLongError)
    refused_fast(table.resolve, at_limit + "x", "disease")


def test_the_thesaurus_refuses_a_1_mb_name():
    from litmol.links.mesh import Thesaurus

    thesaurus = Thesaurus.load()
    assert thesaurus is not None
    refused_fast(thesaurus.lookup, HUGE)
    assert thesaurus.lookup("heart attack")[0].name == "Myocardial Infarction"


def test_cli_exits_2_with_one_line_for_a_huge_name(links_home, tmp_path, monkeypatch, capsys):
    from litmol.cli.main import main

    monkeypatch.setenv("LITMOL_HOME", str(links_home))
    start = time.perf_counter()
    assert main(["links", "--disease", "x" * 200_000]) == 2  # 200 KB: more than one argv string may hold
    assert time.perf_counter() - start < 1.0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "name too long (200,000 characters" in err and "x" * 61 not in err
    assert main(["links", "hypotheses", "--disease", HUGE]) == 2
    capsys.readouterr()
    # a real process: Linux caps one argument at 128 KiB, so 120 KB is the most a shell can pass
    out = litmol(links_home, "links", "--drug", "y" * 120_000, "--json")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "drug name too long" in out.stderr
    assert out.stdout == ""
    out = litmol(tmp_path / "no-table", "links", "--disease", "z" * 120_000)  # no table needed to refuse it
    assert out.returncode == 2 and "disease name too long" in out.stderr


def test_find_links_tool_refuses_a_1_mb_name_at_once(links_home, index_home):
    from litmol.agent.session import AgentSession

    session = AgentSession(index_home)
    session.call_tool("find_links", name="angina")  # the table is open: time the refusal alone
    start = time.perf_counter()
    out = session.call_tool("find_links", name=HUGE)
    assert time.perf_counter() - start < 1.0
    assert out.startswith("find_links failed: disease name too long") and len(out) < 400
