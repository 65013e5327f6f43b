"""Every SMILES an answer shows parses to a structure a tool returned (agent/structures.py), and the
answer checks leave bracket atoms alone: "[C@H](O)" is chemistry, not a markdown link."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from rdkit import Chem

from litmol.agent.loop import summarize_run
from litmol.agent.structures import UNREADABLE, UNRETURNED, check_structures, smiles_in
from litmol.agent.untrusted import check_answer

# real approved drugs with bracket atoms: stereocentres, charges, isotopes of none
CHLORAMPHENICOL = "O=C(N[C@H](CO)[C@H](O)c1ccc([N+](=O)[O-])cc1)C(Cl)Cl"
BRACKETED = {
    "chloramphenicol": CHLORAMPHENICOL,
    "metoprolol tartrate": "COCCc1ccc(OCC(O)CNC(C)C)cc1.O=C(O)[C@H](O)[C@@H](O)C(=O)O",
    "cisplatin": "N.N.[Cl-].[Cl-].[Pt+2]",
    "ampicillin": "CC1(C)S[C@@H]2[C@H](NC(=O)[C@@H](N)c3ccccc3)C(=O)N2[C@H]1C(=O)O",
}


def _same(a: str, b: str) -> bool:
    return Chem.MolToSmiles(Chem.MolFromSmiles(a)) == Chem.MolToSmiles(Chem.MolFromSmiles(b))


def _turn(name: str, smiles: str) -> list:
    return [HumanMessage(f"What is the SMILES of {name}?"),
            AIMessage("", tool_calls=[{"name": "resolve_molecule", "args": {"name": name}, "id": "c1"}]),
            ToolMessage(f"{name} = {name.title()}; SMILES {smiles}; match exact (confidence 1.00)",
                        tool_call_id="c1", name="resolve_molecule")]


@pytest.mark.parametrize("name", list(BRACKETED))
def test_bracketed_smiles_survive_the_answer_checks(name):
    smiles = BRACKETED[name]
    answer = f"The SMILES of {name} is {smiles}."
    checked = check_answer(answer, {})
    assert checked == answer  # on main the link pattern ate "[C@H](CO)" -> "C@H"
    shown = smiles_in(check_structures(checked, f"What is the SMILES of {name}?", _turn(name, smiles)[1:]))
    assert len(shown) == 1 and _same(next(iter(shown.values())), smiles)


def test_the_whole_answer_path_shows_a_parsable_smiles():
    messages = [*_turn("chloramphenicol", CHLORAMPHENICOL),
                AIMessage(f"The SMILES of chloramphenicol is {CHLORAMPHENICOL}.")]
    final = summarize_run(messages, 0.0, lambda p: {"title": "", "abstract": "", "year": None})
    shown = smiles_in(final.answer)
    assert list(shown) and all(_same(s, CHLORAMPHENICOL) for s in shown.values())


def test_a_garbled_copy_is_replaced_by_the_tools_smiles():
    broken = "The SMILES of chloramphenicol is O=C(NC@HC@Hc1ccc(N+[O-])cc1)C(Cl)Cl."
    assert Chem.MolFromSmiles("O=C(NC@HC@Hc1ccc(N+[O-])cc1)C(Cl)Cl") is None
    fixed = check_structures(broken, "What is the SMILES of chloramphenicol?", _turn("chloramphenicol", CHLORAMPHENICOL))
    assert CHLORAMPHENICOL in fixed and fixed.endswith("C(Cl)Cl.")


def test_structures_no_tool_returned_are_removed_and_words_are_kept():
    text = ("Caffeine is Cn1cnc2c1c(=O)n(C)c(=O)n2C; it is in ATC N06BC01, a CYP1A2 substrate (n=12, HR=0.78, "
            "ICC=0.8) with IC50s in the micromolar range, and C1CC(=O")
    out = check_structures(text, "Is caffeine a CYP1A2 substrate?", [])
    assert UNRETURNED in out and "Cn1cnc2" not in out
    for kept in ("N06BC01", "CYP1A2", "(n=12, HR=0.78,", "IC50s"):
        assert kept in out
    # the user's own SMILES may be shown back
    asked = "Is CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21 brain-penetrant?"
    assert check_structures("Yes: CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21 crosses.", asked, []) == \
        "Yes: CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21 crosses."
    # unreadable chemistry with no tool structure to repair it from
    assert UNREADABLE in check_structures("It is CC(=O)Oc1ccccc1C(=O", "q", [])


def test_a_smiles_cut_where_the_answer_ran_out_is_completed_from_the_tool():
    digoxin = ("C[C@H]1O[C@@H](O[C@H]2[C@@H](O)C[C@H](O[C@H]3[C@@H](O)C[C@H](O[C@H]4CC[C@@]5(C)[C@H](CC[C@@H]6[C@@H]5C"
               "[C@@H](O)[C@]5(C)[C@@H](C7=CC(=O)OC7)CC[C@]65O)C4)O[C@@H]3C)O[C@@H]2C)C[C@H](O)[C@@H]1O")
    turn = [ToolMessage(f"Digoxin (SMILES {digoxin}): molecular weight 780.95 g/mol", tool_call_id="c1",
                        name="predict_properties")]
    cut = "digoxin (SMILES " + digoxin[:60]  # max_new_tokens reached inside the SMILES
    assert Chem.MolFromSmiles(digoxin[:60]) is None
    assert check_structures(cut, "Does digoxin cross the blood-brain barrier?", turn) == f"digoxin (SMILES {digoxin}"
