"""The drug_facts tool as the agent calls it: a drug's ATC path and approval year, a class's drugs,
and a failure the model can act on."""

from __future__ import annotations

from langchain_core.messages import ToolMessage

from litmol.agent.session import AgentSession
from litmol.agent.tools import tool_failed


def test_a_drug_gives_its_classes_and_year_and_a_class_gives_its_drugs():
    session = AgentSession()
    out = session.call_tool("drug_facts", name="aspirin")
    assert "aspirin = Acetylsalicylic acid" in out and "first approved in 1950" in out
    assert "ATC B01AC: B Blood and blood forming organs > B01 Antithrombotic agents" in out
    cls = session.call_tool("drug_facts", name="HMG CoA reductase inhibitors")
    assert "C10AA HMG CoA reductase inhibitors (level 4): 8 approved drug(s)" in cls and "Atorvastatin" in cls
    assert session.call_tool("drug_facts", name="C10AA") == cls
    big = session.call_tool("drug_facts", name="N")
    assert "(first 40 of" in big and big.count(",") < 45  # a level-1 class is cut, with its size said


def test_an_unknown_name_is_a_failure_with_suggestions_the_model_can_use():
    out = AgentSession().call_tool("drug_facts", name="simvastatine tablets forte")
    assert out.startswith("drug_facts: no approved drug or ATC class named") and "Did you mean" in out
    assert tool_failed(ToolMessage(out, tool_call_id="c0", name="drug_facts"))
