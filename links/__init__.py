"""Drug–disease link mining: tag drugs and diseases in abstracts, score treats / causes per
article, aggregate into a link table with evidence, and rank unstated links (ABC model).

    vocab      the concept vocabulary (train-split MeSH, the drug lexicon, disease synonyms)
    tagger     dictionary tagging with abbreviations, offsets and sentence numbers
    relations  candidate pairs, features and the JSON logistic-regression model
    build      `litmol links build`: mine the index into a building table, publish it whole
    store      the table file: schema, fingerprint, lock, building file, atomic publish
    table      query / hypotheses / export (SQLite per index; only a complete table opens)
    errors     named errors and the name-length limit (MAX_NAME_CHARS, shared with predictors)
    key        the MeSH silver key, its split, and P/R/F1 (evaluation only)
    train      `litmol links train`
"""
