"""Multi-turn conversations: each turn is answered on its own terms (its own question, its own step
budget), an answer copied from an earlier turn is caught, and the terminal shows each answer once.
Fake chat models over the real tools and test index; one test drives the real 0.5B model."""

from __future__ import annotations

import io
import os

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from tests.agent.test_loop import ScriptedModel, StreamingScriptedModel, call
from tests.conftest import session_for


class RecordingModel(ScriptedModel):
    """A scripted model that records the tool_choice of every model call (the FinishGuard's decision)."""

    choices: list = []

    def bind_tools(self, tools, tool_choice=None, **kwargs):
        RecordingModel.choices.append(tool_choice)
        return self


def earlier_turns(n: int) -> list:
    out = []
    for i in range(n):
        out += [HumanMessage(f"question {i} about aspirin?"), AIMessage(f"Answer {i}: aspirin is an NSAID.")]
    return out


def test_earlier_turns_do_not_use_up_this_turns_tool_steps(index_home):
    from litmol.agent.session import Final

    RecordingModel.choices = []
    session = session_for(index_home, RecordingModel(messages=iter([call("resolve_molecule", 0, name="caffeine"),
                                                                   AIMessage("Caffeine is a xanthine.")])))
    events = list(session.run_turn("What is the SMILES of caffeine?", earlier_turns(6), tokens=False))
    assert RecordingModel.choices[0] != "none"  # the first step of turn 7 may still call a tool
    answer = events[-1].answer
    assert isinstance(events[-1], Final)
    assert answer.tool_calls == [{"name": "resolve_molecule", "args": {"name": "caffeine"}, "ok": True}]
    assert answer.answer.startswith("Caffeine is a xanthine.")


def test_evidence_is_chosen_for_the_current_question_not_the_first(index_home):
    """The second question's retrieved sentences back its answer (grounding used the first question)."""
    from litmol.agent.chat import chat_turn

    script = [call("search_literature", 0, query="trypanosomatids flagella"), AIMessage("Not sure."),
              call("search_literature", 1, query="pancreas position posture"), AIMessage("Not sure.")]
    agent = session_for(index_home, StreamingScriptedModel(messages=iter(script)))
    history: list = []
    chat_turn(agent, history, "Were flagella isolated from trypanosomatids?", io.StringIO())
    second = chat_turn(agent, history, "Does the position of the pancreas change with posture?", io.StringIO())
    assert "Evidence in the retrieved abstracts:" in second.answer
    evidence = second.answer.split("Evidence in the retrieved abstracts:")[1].lower()
    assert "pancreas" in evidence and "flagell" not in evidence


def test_an_answer_copied_from_an_earlier_turn_is_asked_again_on_its_own(index_home):
    from litmol.agent.chat import chat_turn

    first = "Aspirin is acetylsalicylic acid, an NSAID used for pain."
    script = [call("resolve_molecule", 0, name="aspirin"), AIMessage(first),
              call("resolve_molecule", 1, name="caffeine"), AIMessage(first),  # copied
              call("resolve_molecule", 2, name="caffeine"), AIMessage("Caffeine is 1,3,7-trimethylxanthine.")]
    agent = session_for(index_home, StreamingScriptedModel(messages=iter(script)))
    history: list = []
    out = io.StringIO()
    chat_turn(agent, history, "What is aspirin?", out)
    second = chat_turn(agent, history, "What is caffeine?", out)
    assert second.answer.startswith("Caffeine is 1,3,7-trimethylxanthine.")
    assert "repeated an earlier answer" in out.getvalue()
    assert history[-1].content == second.answer and len(history) == 4


def test_terminal_shows_a_grounded_answer_once(index_home):
    """Attribution adds [PMID:n] to the streamed sentence: the sentence is not printed a second time."""
    from litmol.agent.chat import chat_turn

    text = "Flagella were isolated from trypanosomatids and their structure was studied."
    agent = session_for(index_home, StreamingScriptedModel(messages=iter([call("search_literature", 0,
                                                                   query="flagella of trypanosomatids"),
                                                              AIMessage(text)])))
    out = io.StringIO()
    answer = chat_turn(agent, [], "What is known about trypanosome flagella?", out)
    assert "[PMID:" in answer.answer and answer.citations
    assert out.getvalue().count("Flagella were isolated from trypanosomatids") == 1


@pytest.mark.slow
def test_two_questions_with_the_real_model_get_two_answers(links_home, tmp_path_factory, monkeypatch):
    """`litmol chat` with the shipped 0.5B: the second question is not answered with the first answer."""
    from litmol.agent.chat import chat_loop
    from litmol.agent.local_chat import LocalChatModel
    from litmol.settings import Settings

    if not os.environ.get("LITMOL_HOME"):
        os.environ["LITMOL_HOME"] = str(tmp_path_factory.mktemp("llm-home"))  # weights dequantized here once
    model = LocalChatModel(model_name="0.5b", max_new_tokens=96)
    questions = iter(["Were flagella isolated from trypanosomatids?",
                      "Does the position of the pancreas change with posture?"])
    out = io.StringIO()
    answers: list = []
    agent = session_for(Settings.load(retrieval={"home": links_home}), model)
    import litmol.agent.chat as chat

    real_turn = chat.chat_turn

    def recording_turn(*args, **kwargs):
        answers.append(real_turn(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(chat, "chat_turn", recording_turn)
    def read(_prompt: str) -> str:
        try:
            return next(questions)
        except StopIteration:
            raise EOFError from None  # end of input, as a closed pipe

    assert chat_loop(agent, read, out) == 2
    first, second = (a.answer.split("\n\n")[0] for a in answers)
    assert first.strip() and second.strip() and first != second
    assert answers[1].tool_calls  # the second turn still had its tools


class ReadingModel(ScriptedModel):
    """Predicts on the drug its user message names (the last one), then answers: shows what it was asked."""

    asked: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.outputs import ChatGeneration, ChatResult

        from litmol.agent.followup import drugs_named

        question = next(str(m.content) for m in reversed(messages) if m.type == "human")
        if messages[-1].type == "tool":
            reply = AIMessage(f"Read: {str(messages[-1].content)[:60]}")
        else:
            ReadingModel.asked.append(question)
            named = drugs_named(question)
            reply = call("predict_properties", len(ReadingModel.asked), molecule=named[-1] if named else "unknown",
                         properties=["clogp"])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def test_a_follow_up_that_refers_back_reaches_the_model_with_its_drug_named(index_home):
    from litmol.agent.session import Final

    session = session_for(index_home, ReadingModel(messages=iter([])))
    ReadingModel.asked = []
    first = session.ask("Does caffeine cross the blood-brain barrier?")
    history = [HumanMessage("Does caffeine cross the blood-brain barrier?"), AIMessage(first.answer)]
    events = list(session.run_turn("And its logP?", history, tokens=False))
    answer = next(e.answer for e in events if isinstance(e, Final))
    assert ReadingModel.asked[-1] == "And caffeine's logP?"
    assert answer.tool_calls[0]["args"]["molecule"] == "caffeine" and "Caffeine" in answer.answer
    events = list(session.run_turn("Is metformin lipophilic?", history, tokens=False))
    assert ReadingModel.asked[-1] == "Is metformin lipophilic?"  # a question naming its own drug is kept
