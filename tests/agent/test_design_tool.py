"""The propose_candidates tool as the agent calls it: a bounded design run whose shortlist carries its
numbers and says they are predictions, and failures the model can act on."""

from __future__ import annotations

import re
import time

from langchain_core.messages import ToolMessage

from litmol.agent.design_tool import CHAT_BUDGET, MAX_CANDIDATES
from litmol.agent.session import AgentSession
from litmol.agent.tools import tool_failed


def test_a_design_call_lists_candidates_that_meet_the_targets_with_their_numbers():
    out = AgentSession().call_tool("propose_candidates", objectives=["qed>=0.5", "sa<=4"], seeds=["aspirin"], n=12,
                                   min_similarity=0.3)
    assert out.startswith("<candidates>") and "model predictions, not measurements" in out
    assert "molecules scored" in out and int(re.search(r"\((\d+) molecules scored", out).group(1)) <= CHAT_BUDGET
    assert f"at most {MAX_CANDIDATES} per call, 12 were asked" in out  # the cap is said, not silent
    lines = [line for line in out.splitlines()[1:] if re.match(r"\d+\. ", line)]
    assert 1 <= len(lines) <= MAX_CANDIDATES
    for line in lines:
        qed = float(re.search(r"qed (\d\.\d+)", line).group(1))
        sim = float(re.search(r"similarity (\d\.\d+) to", line).group(1))
        assert qed >= 0.5 and sim >= 0.3 and "nearest approved drug" in line


def test_bad_seeds_and_objectives_come_back_as_failures_to_fix():
    session = AgentSession()
    bad_seed = session.call_tool("propose_candidates", objectives=["qed>=0.5"], seeds=["notadrugxyz"])
    bad_spec = session.call_tool("propose_candidates", objectives=["qed>>0.5"], seeds=["aspirin"])
    infinite = session.call_tool("propose_candidates", objectives=["qed>=1e999"], seeds=["aspirin"])
    out_of_range = session.call_tool("propose_candidates", objectives=["hERG<=3"], seeds=["aspirin"])
    for out in (bad_seed, bad_spec, infinite, out_of_range):
        assert out.startswith("propose_candidates failed:") and "call it again" in out
        assert tool_failed(ToolMessage(out, tool_call_id="c0", name="propose_candidates"))
    assert "is not a molecule" in bad_seed and "bad objective" in bad_spec
    assert "1e999 is not a finite number" in infinite and "hERG is between 0 and 1" in out_of_range


TIME_MARGIN_S = 3.0  # over the limit: one batch's misestimate on 2 busy cores (measured up to 1.2 s)


def test_a_call_ends_within_its_time_limit_ranking_included(monkeypatch):
    """The limit held only between generations: a 5 s call ran 10-35 s (one starting batch of 133
    molecules, admet-ai loading), a 35 s one up to 48.7 s over MCP."""
    from litmol.agent import design_tool
    from litmol.predictors.design import DesignConfig, propose

    specs = ["bbb>=0.7", "logs>=-4", "qed>=0.6", "sa<=4"]
    propose(["imatinib"], specs, DesignConfig(n=3, budget=20))  # pools and models loaded, as in a running server
    monkeypatch.setattr(design_tool, "TIME_LIMIT_S", 5.0)
    session = AgentSession()
    started = time.monotonic()
    out = session.call_tool("propose_candidates", objectives=specs, seeds=["imatinib"], n=5)
    seconds = time.monotonic() - started
    assert seconds <= 5.0 + TIME_MARGIN_S, (seconds, out)
    assert "stopped at the 5 s limit" in out and "model predictions, not measurements" in out
    assert 0 < int(re.search(r"\((\d+) molecules scored", out).group(1)) < CHAT_BUDGET
    assert "propose_candidates failed" not in out
