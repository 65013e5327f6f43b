"""Answers that agree with their evidence: the fact a structured tool returned replaces an answer
that contradicts or omits it, hedges go from answers that rest on such a fact, literature answers
are left to grounding, and a follow-up that refers back names its drug."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from litmol.agent.consistency import (
    CAVEAT,
    answer_structures,
    asked_kind,
    designed_structures,
    reconcile,
)
from litmol.agent.evidence import NO_EVIDENCE
from litmol.agent.followup import drugs_named, resolve_referent
from litmol.agent.session import AgentSession


@pytest.fixture(scope="module")
def session():
    return AgentSession()


def turn(session, tool: str, answer: str, **args) -> list:
    """This turn's messages: one real tool call and its real result, then the model's answer."""
    result = session.call_tool(tool, **args)
    return [AIMessage("", tool_calls=[{"name": tool, "args": args, "id": "c0", "type": "tool_call"}]),
            ToolMessage(result, tool_call_id="c0", name=tool), AIMessage(answer)]


@pytest.mark.parametrize(("question", "kind"), [
    ("Does caffeine cross the blood-brain barrier?", "bbb"), ("Can morphine get into the brain?", "bbb"),
    ("When was imatinib first approved?", "approval"), ("Which ATC main group is metformin in?", "atc"),
    ("Name the approved drugs in ATC class C10AA.", "atc-class"), ("Does aspirin prevent stroke?", None)])
def test_the_fact_a_question_asks_for_is_recognized(question, kind):
    assert asked_kind(question) == kind


def test_a_yes_no_answer_that_contradicts_the_prediction_is_replaced_by_its_reading(session):
    q = "Does caffeine cross the blood-brain barrier?"
    text, rests = reconcile("No, caffeine does not cross the blood-brain barrier.", q,
                            turn(session, "predict_properties", "", molecule="caffeine", properties=["bbb"]))
    assert rests and text.startswith("Yes. Caffeine is predicted to cross") and "probability 0.86" in text


def test_an_answer_that_agrees_keeps_its_words_and_loses_its_hedge(session):
    q = "Is caffeine BBB permeable?"
    answer = "Yes, caffeine likely crosses the blood-brain barrier (probability 0.86). The evidence is insufficient."
    text, rests = reconcile(answer, q, turn(session, "predict_properties", "", molecule="caffeine", properties=["bbb"]))
    assert rests and text == "Yes, caffeine likely crosses the blood-brain barrier (probability 0.86)."


def test_a_wrong_year_or_group_or_a_short_list_is_replaced_by_the_table(session):
    text, _ = reconcile("Imatinib was approved in 1998.", "When was imatinib first approved?",
                        turn(session, "drug_facts", "", name="imatinib"))
    assert text == "Imatinib was first approved in 2001."
    text, _ = reconcile("Metformin is in the nervous system group.", "Which ATC main group is metformin in?",
                        turn(session, "drug_facts", "", name="metformin"))
    assert "Alimentary tract and metabolism" in text
    text, _ = reconcile("Atorvastatin.", "Name the approved drugs in ATC class C10AA.",
                        turn(session, "drug_facts", "", name="C10AA"))
    assert "Simvastatin" in text and "Rosuvastatin" in text
    right = "Imatinib was first approved in 2001, as a kinase inhibitor."
    assert reconcile(right, "When was imatinib first approved?", turn(session, "drug_facts", "", name="imatinib")) == \
        (right, True)


def test_literature_answers_and_failed_lookups_are_left_alone(session):
    answer = "Aspirin reduced stroke in one trial."
    assert reconcile(answer, "Does aspirin prevent stroke?", []) == (answer, False)
    failed = turn(session, "drug_facts", "", name="notadrugxyz")
    assert reconcile("I could not find it.", "When was notadrugxyz approved?", failed) == ("I could not find it.", False)


def test_an_answer_read_from_a_prediction_gets_no_literature_tail(index_home):
    from tests.agent.test_loop import call, run

    answer = run(index_home, [call("search_literature", 0, query="caffeine brain"),
                              call("predict_properties", 1, molecule="caffeine", properties=["bbb"]),
                              AIMessage("Yes, caffeine crosses the blood-brain barrier.")],
                 question="Does caffeine cross the blood-brain barrier?")
    assert answer.answer == "Yes, caffeine crosses the blood-brain barrier." and NO_EVIDENCE not in answer.answer


def test_a_follow_up_that_refers_back_names_the_drug_and_one_that_names_its_own_is_kept():
    history = [HumanMessage("Does caffeine cross the blood-brain barrier?"), AIMessage("Yes, it is predicted to.")]
    assert resolve_referent("And its logP?", history) == "And caffeine's logP?"
    assert resolve_referent("What is the solubility of this drug?", history) == "What is the solubility of caffeine?"
    assert resolve_referent("Is metformin associated with a lower risk of cancer?", history) == \
        "Is metformin associated with a lower risk of cancer?"
    assert resolve_referent("And its logP?", []) == "And its logP?"
    via_tool = [HumanMessage("Is the stuff in coffee brain-penetrant?"),
                AIMessage("", tool_calls=[{"name": "predict_properties", "args": {"molecule": "caffeine"}, "id": "c0",
                                           "type": "tool_call"}]), AIMessage("Yes.")]
    assert resolve_referent("What about its TPSA?", via_tool) == "What about caffeine's TPSA?"
    assert drugs_named("Compare aspirin and acetylsalicylic acid with metformin hydrochloride") == \
        ["aspirin", "acetylsalicylic acid", "metformin hydrochloride"]


def test_a_design_answer_shows_only_the_structures_the_tool_returned_and_says_they_are_predictions(session):
    import re

    design = turn(session, "propose_candidates", "", objectives=["qed>=0.5"], seeds=["aspirin"], n=3,
                  min_similarity=0.3)
    listed = re.findall(r"^\d+\. (\S+) score", str(design[1].content), re.MULTILINE)
    assert listed
    faithful = f"The best candidate is {listed[0]}, a predicted QED above 0.5 (model predictions)."
    assert designed_structures(faithful, design) == faithful
    bare = f"Try {listed[0]}."
    assert designed_structures(bare, design) == bare + "\n\n" + CAVEAT
    invented = f"Try {listed[0]} or CC(C)Cc1ccc(C(C)C(=O)O)cc1, both predicted soluble."  # ibuprofen: not proposed
    replaced = designed_structures(invented, design)
    assert "CC(C)Cc1ccc(C(C)C(=O)O)cc1" not in replaced and listed[0] in replaced and "predictions" in replaced
    assert answer_structures(replaced) <= answer_structures(str(design[1].content))
    other = turn(session, "predict_properties", "Try CCO.", molecule="caffeine", properties=["bbb"])
    assert designed_structures("Try CC(C)Cc1ccc(C(C)C(=O)O)cc1.", other) == "Try CC(C)Cc1ccc(C(C)C(=O)O)cc1."
