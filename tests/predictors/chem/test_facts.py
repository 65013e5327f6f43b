"""Drug facts from the packaged approved-drug tables: ATC paths with every level's name, first
approval years, and the drugs of an ATC class by code or name."""

from __future__ import annotations

import pytest

from litmol.predictors.chem.facts import UnknownClassError, atc_names, default_facts


def test_a_drug_has_its_atc_path_named_at_every_level_and_its_approval_year():
    facts = default_facts().facts("simvastatin")
    assert facts.name == "Simvastatin" and facts.first_approval == 1991
    c10aa = next(p for p in facts.atc if p.code == "C10AA")
    assert c10aa.levels == [("C", "Cardiovascular system"), ("C10", "Lipid modifying agents"),
                            ("C10A", "Lipid modifying agents, plain"), ("C10AA", "HMG CoA reductase inhibitors")]
    assert default_facts().facts("metformin hydrochloride").name == "Metformin"  # salt form
    assert default_facts().facts("simvastatn").name == "Simvastatin"  # a typo
    assert default_facts().facts("xyzzy") is None and default_facts().suggestions("xyzzy")


def test_a_class_is_found_by_code_or_name_and_lists_its_approved_drugs():
    table = default_facts()
    by_code = table.find_class("c10aa")
    assert by_code.code == "C10AA" and by_code.level == 4 and by_code.name == "HMG CoA reductase inhibitors"
    assert {"Atorvastatin", "Simvastatin", "Rosuvastatin", "Pravastatin"} <= set(by_code.drugs)
    assert table.find_class("HMG-CoA reductase inhibitors").code == "C10AA"  # punctuation and case ignored
    level1 = table.find_class("N")
    assert level1.level == 1 and level1.name == "Nervous system" and len(level1.drugs) > 300
    with pytest.raises(UnknownClassError):
        table.find_class("Z99ZZ")
    with pytest.raises(UnknownClassError):
        table.find_class("drugs that cure everything")


def test_names_of_codes_that_never_stand_alone_are_inferred_from_the_other_codes_of_a_row():
    # abacavir (DrugBank) lists J05AF;J05AR with its level-4 names sorted, not in code order
    rows = [(["J05AF"], {4: ["Nucleoside and nucleotide reverse transcriptase inhibitors"]}),
            (["J05AF", "J05AR"], {4: ["Antivirals for treatment of HIV infections, combinations",
                                      "Nucleoside and nucleotide reverse transcriptase inhibitors"]})]
    names = atc_names(rows)
    assert names["J05AR"] == "Antivirals for treatment of HIV infections, combinations"
    assert names["J05AF"] == "Nucleoside and nucleotide reverse transcriptase inhibitors"
