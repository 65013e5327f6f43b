"""Chemistry on one molecule at a time: text -> molecule -> descriptors and alerts.

    smiles_checks.py  what RDKit would accept silently or crash on: look-alike characters, limits
    mol.py            parse_molecule / to_mol: parse, check and standardize (SMILES or MOL block)
    lexicon.py        approved-drug names -> structures, exact and fuzzy (lexicon_build.py builds it)
    resolve.py        resolve_input: a SMILES, a MOL block or a drug name -> one row, never an exception
    descriptors.py    RDKit descriptors and rule checks (PropertyInfo: what a property means)
    alerts.py         PAINS/Brenk/NIH and medchem structural alerts behind a substructure screen
"""
