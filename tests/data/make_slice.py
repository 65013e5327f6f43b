"""Cut the committed test slice from the default corpus (deterministic).

Copies the original <PubmedArticle> XML of 160 abstracts + 20 abstract-less citations from
each default corpus file into tests/data/pubmed_slice.xml.gz (real MEDLINE XML, unmodified).

    python tests/data/make_slice.py
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from lxml import etree

from litmol.retrieval.corpus import default_corpus_paths

OUT = Path(__file__).parent / "pubmed_slice.xml.gz"
N_ABSTRACT, N_BARE, SEED = 160, 20, 11


def main() -> None:
    chunks: list[bytes] = []
    for path in default_corpus_paths():
        with_abs, bare = [], []
        with gzip.open(path, "rb") as fh:
            for _, elem in etree.iterparse(fh, tag="PubmedArticle"):
                has_abs = elem.find(".//Abstract/AbstractText") is not None
                (with_abs if has_abs else bare).append(etree.tostring(elem))
                elem.clear()
        rng = random.Random(SEED)
        chunks += rng.sample(with_abs, N_ABSTRACT) + rng.sample(bare, N_BARE)
    body = b"\n".join(chunks)
    xml = b'<?xml version="1.0" encoding="utf-8"?>\n<PubmedArticleSet>\n' + body + b"\n</PubmedArticleSet>\n"
    OUT.write_bytes(gzip.compress(xml, mtime=0))
    print(f"{OUT}: {len(chunks)} citations, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
