"""The agent session: typed turn events in order, one definition of a failed tool call, and sessions
on two indexes in one process that each answer from their own (no shared hidden state)."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from tests.agent.test_loop import StreamingScriptedModel, call
from tests.conftest import session_for


def _settings(home, index: str = "default"):
    from litmol.settings import Settings

    return Settings.load(retrieval={"home": home, "index_name": index})


def test_a_turn_yields_tokens_tool_steps_and_the_checked_answer_last(index_home):
    from litmol.agent.session import Final, Token, ToolFinished, ToolStarted

    script = [call("resolve_molecule", 0, name="caffeine"), call("get_article", 1, pmid="1"),
              AIMessage("Caffeine is 1,3,7-trimethylxanthine.")]
    events = list(session_for(index_home, StreamingScriptedModel(messages=iter(script))).run_turn("caffeine?"))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:4] == ["ToolStarted", "ToolFinished", "ToolStarted", "ToolFinished"] and kinds[-1] == "Final"
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(s.name, s.args) for s in started] == [("resolve_molecule", {"name": "caffeine"}),
                                                    ("get_article", {"pmid": "1"})]
    assert [s.call_id for s in started] == [f.call_id for f in finished]
    assert [f.ok for f in finished] == [True, False]  # no article 1 in the index: a failed call
    assert "Caffeine" in finished[0].output and finished[1].elapsed_s >= 0
    assert "".join(e.text for e in events if isinstance(e, Token)).strip() == "Caffeine is 1,3,7-trimethylxanthine."
    final = events[-1]
    assert isinstance(final, Final) and final.answer.answer.startswith("Caffeine is 1,3,7-trimethylxanthine.")
    # the trace in the answer (what `ask --json` prints) agrees with the events
    assert [(c["name"], c["ok"]) for c in final.answer.tool_calls] == [("resolve_molecule", True),
                                                                       ("get_article", False)]


def test_a_copied_answer_restarts_the_turn_without_history(index_home):
    from litmol.agent.session import Final, Restarted

    first = "Aspirin is acetylsalicylic acid, an NSAID used for pain."
    session = session_for(index_home, StreamingScriptedModel(messages=iter([
        AIMessage(first), AIMessage("Caffeine is a methylxanthine stimulant found in coffee.")])))
    history = [HumanMessage("What is aspirin?"), AIMessage(first)]
    events = list(session.run_turn("What is caffeine?", history))
    assert any(isinstance(e, Restarted) for e in events)
    assert isinstance(events[-1], Final) and events[-1].answer.answer.startswith("Caffeine is a methylxanthine")


def test_two_sessions_on_two_indexes_answer_from_their_own(small_index):
    """The --index bug: one process, two sessions, each search reads its own index."""
    from litmol.agent.tools import PMID_RE

    home, small_pmids = small_index
    small = session_for(_settings(home, "small"), None)
    default = session_for(_settings(home), None)
    query = "cells protein patients treatment"
    from_small = set(PMID_RE.findall(small.call_tool("search_literature", query=query, max_results=10)))
    from_default = set(PMID_RE.findall(default.call_tool("search_literature", query=query, max_results=10)))
    assert from_small and from_small <= small_pmids
    assert from_default - small_pmids  # the full slice has other articles
    assert small.index.stats()["name"] == "small" and small.index.stats()["articles"] == len(small_pmids)
    # an article only in the default index is not readable through the small session
    other = sorted(from_default - small_pmids)[0]
    assert "failed" in small.call_tool("get_article", pmid=other)
    assert other in default.call_tool("get_article", pmid=other)


def test_sessions_sharing_a_context_share_the_opened_index(index_home):
    base = session_for(index_home, None)
    other = base.with_chat_model(StreamingScriptedModel(messages=iter([])))
    assert other.context is base.context and other.index is base.index
    assert other.settings is base.settings
