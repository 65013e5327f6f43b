"""Drug–disease link mining: tag drugs and diseases in abstracts, score treats / causes per
article, aggregate into a link table with evidence, and rank unstated links (ABC model).

    vocab      the concept vocabulary (train-split MeSH, the drug lexicon, disease synonyms)
    tagger     dictionary tagging with abbreviations, offsets and sentence numbers
    relations  candidate pairs, features and the JSON logistic-regression model
    table      `litmol links build` / query / hypotheses / export (SQLite per index)
    key        the MeSH silver key, its split, and P/R/F1 (evaluation only)
    train      `litmol links train`
"""
