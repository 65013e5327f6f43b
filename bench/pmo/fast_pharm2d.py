"""An exact, vectorised RDKit `Generate.Gen2DFingerprint` for the PMO hop oracles.

TDC's scaffold_hop and deco_hop score a molecule by its Gobbi 2D pharmacophore fingerprint.
RDKit builds that fingerprint in Python, one feature combination at a time: ~13 s for one of the
~190-atom molecules a GA run reaches, so two hop runs could not finish their 10,000 calls.

This version sets the same bits. It enumerates the same combinations (for each proto-pharmacophore,
matches of one family in increasing order, as `GetUniqueCombinations` sorts them), takes the same
shortest-path distance between two features (the smallest topological distance between their
atoms), drops the same combinations (a distance below the first bin or past the last), and asks
RDKit's own `SigFactory.GetBitIdx` for the bit of each distinct (features, distances) pair, so
binning and triangle ordering are RDKit's. Only the loops move to numpy. `check()` compares the
bits with RDKit's on molecules from a run's checkpoint; `bench/pmo/hop_oracle_speed.py` times it.
"""

from __future__ import annotations

import itertools

import numpy as np

_PAIRS = {2: ((0, 1),), 3: ((0, 1), (0, 2), (1, 2))}


_SUBSETS: dict[tuple[int, int], np.ndarray] = {}


def _index_combinations(n: int, size: int) -> np.ndarray:
    """All `size`-subsets (1 to 3) of range(n) as rows, increasing within a row, in itertools order."""
    if (n, size) not in _SUBSETS:
        if size == 1:
            rows = np.arange(n).reshape(-1, 1)
        elif size == 2:
            rows = np.stack(np.triu_indices(n, 1), axis=1)
        else:  # each pair i < j, followed by every k > j
            i, j = np.triu_indices(n, 1)
            counts = n - 1 - j
            first = np.repeat(np.cumsum(counts) - counts, counts)
            k = np.repeat(j + 1, counts) + np.arange(counts.sum()) - first
            rows = np.stack([np.repeat(i, counts), np.repeat(j, counts), k], axis=1)
        if size < 3:  # triples are too many to keep for every n
            _SUBSETS[(n, size)] = rows
        return rows
    return _SUBSETS[(n, size)]


def _combinations(groups: list[tuple[int, list[int]]]) -> np.ndarray:
    """Rows of match indices, one column per point: within a group of points of one family the
    matches increase (RDKit sorts them), and groups of different families vary independently."""
    parts = []
    for size, ids in groups:
        if len(ids) < size:
            return np.empty((0, sum(s for s, _ in groups)), dtype=np.int64)
        parts.append(np.asarray(ids, dtype=np.int64)[_index_combinations(len(ids), size)])
    rows = parts[0]
    for part in parts[1:]:
        rows = np.concatenate([np.repeat(rows, len(part), axis=0), np.tile(part, (len(rows), 1))], axis=1)
    return rows


def _triangle_order(perm: list[int], d: np.ndarray) -> np.ndarray:
    """RDKit's `Utils.OrderTriangle` for many triangles at once: the order in which each row's three
    distances are read (the feature indices keep their order, as `perm` is sorted)."""
    order = np.tile(np.arange(3), (len(d), 1))
    d0, d1, d2 = d[:, 0], d[:, 1], d[:, 2]
    if perm[0] == perm[1] == perm[2]:
        s0, s1, s2 = d0 + d1, d0 + d2, d1 + d2
        top = np.maximum(np.maximum(s0, s1), s2)
        first, second = s0 == top, (s0 != top) & (s1 == top)
        third = ~first & ~second
        order[first & ~(d0 > d1)] = (1, 0, 2)
        order[second & (d0 > d2)] = (0, 2, 1)
        order[second & ~(d0 > d2)] = (2, 0, 1)
        order[third & (d1 > d2)] = (1, 2, 0)
        order[third & ~(d1 > d2)] = (2, 1, 0)
    elif perm[0] == perm[1]:
        order[~(d1 > d2)] = (0, 2, 1)
    elif perm[1] == perm[2]:
        order[~(d0 > d1)] = (1, 0, 2)
    return order


def _base(factory, perm: list[int]) -> int:
    """The first bit of this proto-pharmacophore (SigFactory.GetBitIdx before the scaffold)."""
    from rdkit.Chem.Pharm2D import Utils

    n = len(perm)
    return factory._starts[n] + Utils.CountUpTo(factory._nFeats, n, perm) * len(factory._scaffolds[len(_PAIRS[n])])


_TABLES: dict[tuple, np.ndarray] = {}


def _scaffold_index(factory, n_points: int, binned: np.ndarray) -> np.ndarray:
    """Index of each row of distance bins among the factory's scaffolds (`scaffolds.index`)."""
    scaffolds = factory._scaffolds[len(_PAIRS[n_points])]
    n_bins = len(factory.GetBins())
    key = (id(factory), n_points, n_bins, len(scaffolds))
    if key not in _TABLES:
        table = np.full(n_bins ** binned.shape[1], -1, dtype=np.int64)
        for i, scaffold in enumerate(scaffolds):
            table[np.ravel_multi_index(scaffold, (n_bins,) * len(scaffold))] = i
        _TABLES[key] = table
    index = _TABLES[key][np.ravel_multi_index(binned.T, (n_bins,) * binned.shape[1])]
    if (index < 0).any():
        raise IndexError("distance bin not found")  # as SigFactory.GetBitIdx
    return index


UNIT_BINS = [(2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (8, 100)]  # Gobbi_Pharm2D.defaultBins


def _mol_feats(factory, mol) -> list[list[tuple[int, ...]]]:
    """`SigFactory.GetMolFeats` without its quadratic loop: RDKit's Python `GetFeaturesForMol` asks for
    feature i with recompute=True, matching every pattern again for each feature; one match per family
    is enough (the feature factory keeps the last list). Same features, same order."""
    features = factory.featFactory
    out = []
    for family in factory.GetFeatFamilies():
        n = features.GetNumMolFeatures(mol, includeOnly=family)
        out.append([features.GetMolFeature(mol, i, includeOnly=family, recompute=i == 0).GetAtomIds()
                    for i in range(n)])
    return out


def _bond_distances(mol, atoms: list[tuple[int, ...]]) -> np.ndarray:
    """match x atom: the fewest bonds from any atom of the match (RDKit's topological distance matrix
    row-minimum, by breadth-first search from the feature atoms instead of Floyd-Warshall over all
    atoms: seconds for the largest GA molecules). Unreachable atoms (another fragment) are inf."""
    from rdkit import Chem
    from scipy.sparse.csgraph import shortest_path

    adjacency = Chem.GetAdjacencyMatrix(mol, useBO=False)
    sources = sorted({a for m in atoms for a in m})
    rows = shortest_path(adjacency, unweighted=True, directed=False, indices=sources)
    where = {a: i for i, a in enumerate(sources)}
    return np.stack([rows[[where[a] for a in m]].min(axis=0) for m in atoms])


def _bin_index(bins, d: np.ndarray) -> np.ndarray:
    """Which of the (contiguous) bins each distance falls in, as SigFactory._findBinIdx."""
    return np.searchsorted(np.array([lo for lo, _ in bins] + [bins[-1][1]]), d, side="right") - 1


def _bits_by_bins(factory, perm: list[int], by_family: list[list[int]], binned: np.ndarray) -> np.ndarray:
    """The bits of one proto-pharmacophore from which distance bins occur together, not from every
    combination of matches (n^3 of them in the 300-1,300-atom molecules some GA runs grow).

    Exact for UNIT_BINS, which leave RDKit's triangle ordering two properties, checked on all 941,192
    distance triples in [2, 100)^3 (check_bin_properties): a triangle's bit depends only on its three
    bins (clipping every distance to 8 changes no bit), and not on which of two matches of one family
    sits at which point (so every ordered combination gives the bit of its sorted one). A combination
    with bins (x, y, z) exists iff some pair (i, j) in bin x has a k with bin(i, k) = y and
    bin(j, k) = z: one matrix product over one-hot bins. `binned`: match x match bin, -1 where RDKit
    drops the pair (0, below the first bin, past the last), which also keeps one match from being
    used twice."""
    n_bins = len(UNIT_BINS)
    groups = [by_family[f] for f in perm]
    if any(not g for g in groups):
        return np.empty(0, dtype=np.int64)

    def onehot(rows: list[int], cols: list[int]) -> np.ndarray:
        return (binned[np.ix_(rows, cols)][..., None] == np.arange(n_bins)).astype(np.float32)

    if len(perm) == 2:
        present = np.flatnonzero(onehot(*groups).any(axis=(0, 1)))[:, None]
    else:
        a, b, c = groups
        ab, ac, bc = onehot(a, b), onehot(a, c), onehot(b, c)
        # through[i, y, j, z]: how many k have bin(i, k) = y and bin(j, k) = z
        through = ac.transpose(0, 2, 1).reshape(len(a) * n_bins, len(c)) @ \
            bc.transpose(0, 2, 1).reshape(len(b) * n_bins, len(c)).T
        through = (through.reshape(len(a), n_bins, len(b), n_bins) > 0).transpose(0, 2, 1, 3)
        found = ab.reshape(-1, n_bins).T @ through.reshape(len(a) * len(b), n_bins * n_bins).astype(np.float32)
        x, yz = np.nonzero(found > 0)
        present = np.stack([x, yz // n_bins, yz % n_bins], axis=1)
    if not len(present):
        return np.empty(0, dtype=np.int64)
    d = np.array([lo for lo, _ in UNIT_BINS])[present]  # a distance in each bin stands for the bin
    if len(perm) == 3:
        d = np.take_along_axis(d, _triangle_order(perm, d), axis=1)
    return np.unique(_base(factory, perm) + _scaffold_index(factory, len(perm), _bin_index(UNIT_BINS, d)))


def check_bin_properties() -> tuple[int, int]:
    """(holding, checked): the two properties _bits_by_bins relies on, over every distance triple in
    [2, 100)^3, for each repeat pattern of features: the bins after RDKit's ordering are the same with
    every distance clipped to 8, and the same for every order of the points of one family."""
    d = np.array(list(itertools.product(range(2, 100), repeat=3)), dtype=np.int64)
    pair = {(0, 1): 0, (0, 2): 1, (1, 2): 2}

    def key(perm: list[int], dists: np.ndarray) -> np.ndarray:
        ordered = np.take_along_axis(dists, _triangle_order(perm, dists), axis=1)
        return _bin_index(UNIT_BINS, ordered)

    holding = checked = 0
    for perm, moves in (([3, 3, 3], list(itertools.permutations(range(3)))), ([1, 1, 3], [(1, 0, 2)]),
                        ([1, 3, 3], [(0, 2, 1)]), ([0, 1, 3], [])):
        base = key(perm, d)
        same = (key(perm, np.minimum(d, UNIT_BINS[-1][0])) == base).all(axis=1)
        for p in moves:  # point q of the moved triangle is point p[q] of this one
            cols = [pair[tuple(sorted((p[i], p[j])))] for i, j in ((0, 1), (0, 2), (1, 2))]
            same &= (key(perm, d[:, cols]) == base).all(axis=1)
        holding += int(same.sum())
        checked += len(d)
    return holding, checked


def gen_2d_fingerprint(mol, factory, perms=None, dMat=None, bitInfo=None):  # noqa: N803 (RDKit's names)
    """Drop-in for `rdkit.Chem.Pharm2D.Generate.Gen2DFingerprint` (shortest paths, bits or counts)."""
    from rdkit import Chem
    from rdkit.Chem.Pharm2D import Utils

    bins = factory.GetBins()
    contiguous = all(a[1] == b[0] for a, b in zip(bins[:-1], bins[1:], strict=True))
    if bitInfo is not None or not factory.shortestPathsOnly or factory.maxPointCount > 3 or not contiguous:
        from rdkit.Chem.Pharm2D import Generate
        return (_ORIGINAL or Generate.Gen2DFingerprint)(mol, factory, perms, dMat, bitInfo)
    n_feats = len(factory.GetFeatFamilies())
    if perms is None:
        perms = []
        for count in range(factory.minPointCount, factory.maxPointCount + 1):
            perms.extend(Utils.GetIndexCombinations(n_feats, count))
    min_d, max_d = bins[0][0], bins[-1][1]

    # Every feature match of every family, deduplicated and sorted within its family as
    # GetUniqueCombinations's set and sort leave them.
    by_family, atoms = [], []
    for family in _mol_feats(factory, mol):
        ids = []
        for match in sorted(set(tuple(m) for m in family)):
            ids.append(len(atoms))
            atoms.append(match)
        by_family.append(ids)
    sig = factory.GetSignature()
    if not atoms:
        return sig
    # Shortest distance between two matches: the smallest over their atoms.
    if dMat is not None or factory.includeBondOrder:
        dist = np.asarray(dMat if dMat is not None else Chem.GetDistanceMatrix(mol, True), dtype=float)
        to_atoms = np.stack([dist[list(m)].min(axis=0) for m in atoms])
    else:
        to_atoms = _bond_distances(mol, atoms)
    between = np.stack([to_atoms[:, list(m)].min(axis=1) for m in atoms], axis=1)
    # Past the last bin a distance only has to stay past it: small integers make the loops below cheaper.
    between = np.minimum(between, max_d).astype(np.int16 if max_d < 2 ** 15 else np.int64)

    if list(bins) == UNIT_BINS and not factory.useCounts:
        binned = np.where((between >= min_d) & (between < max_d), _bin_index(bins, between), -1)
        for perm in perms:
            for bit in _bits_by_bins(factory, list(perm), by_family, binned).tolist():
                sig.SetBit(bit)
        return sig
    for perm in perms:
        perm = list(perm)
        groups = [(len(list(g)), by_family[f]) for f, g in itertools.groupby(perm)]
        rows = _combinations(groups)
        if not len(rows):
            continue
        d = np.stack([between[rows[:, a], rows[:, b]] for a, b in _PAIRS[len(perm)]], axis=1)
        # RDKit keeps a combination only if every distance is in [min_d, max_d) and none is 0
        # (two matches sharing an atom, which also covers one match used twice).
        d = d[np.all((d >= min_d) & (d < max_d) & (d != 0), axis=1)]
        if not len(d):
            continue
        if len(perm) == 3:
            d = np.take_along_axis(d, _triangle_order(perm, d), axis=1)
        bits = _base(factory, perm) + _scaffold_index(factory, len(perm), _bin_index(bins, d))
        if factory.useCounts:
            for bit, count in zip(*np.unique(bits, return_counts=True), strict=True):
                sig[int(bit)] += int(count)
        else:
            for bit in np.unique(bits).tolist():
                sig.SetBit(bit)
    return sig


_ORIGINAL = None


def install() -> None:
    """Make `Generate.Gen2DFingerprint` (what TDC's hop oracles call) this version."""
    global _ORIGINAL
    from rdkit.Chem.Pharm2D import Generate
    if _ORIGINAL is None:
        _ORIGINAL = Generate.Gen2DFingerprint
    Generate.Gen2DFingerprint = gen_2d_fingerprint


def check_bits(factory, top: int = 20) -> tuple[int, int]:
    """(identical, compared): `SigFactory.GetBitIdx` against the vectorised order, base and scaffold,
    for every distance pair and triangle below `top` (every tie and bin edge of the Gobbi bins) on
    each repeat pattern of features (aaa, aab, abb, abc) and each pair (aa, ab)."""
    low = factory.GetBins()[0][0]
    same = compared = 0
    for perm in ([1, 1], [1, 2], [3, 3, 3], [1, 1, 3], [1, 3, 3], [0, 1, 3]):
        d = np.array(list(itertools.product(range(low, top), repeat=len(_PAIRS[len(perm)]))), dtype=np.int64)
        if len(perm) == 3:
            sides = np.sort(d, axis=1)  # real distances are triangles; RDKit raises on others
            d = d[sides[:, 0] + sides[:, 1] >= sides[:, 2]]
            ordered = np.take_along_axis(d, _triangle_order(perm, d), axis=1)
        else:
            ordered = d
        ours = _base(factory, perm) + _scaffold_index(factory, len(perm), _bin_index(factory.GetBins(), ordered))
        theirs = [factory.GetBitIdx(perm, row, sortIndices=False) for row in d.tolist()]
        same += int((ours == np.array(theirs)).sum())
        compared += len(d)
    return same, compared


def check(smiles: list[str]) -> tuple[int, int]:
    """(identical, compared): RDKit's bits against these, on each molecule."""
    from rdkit import Chem
    from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

    reference = _ORIGINAL or Generate.Gen2DFingerprint
    same = 0
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        a = set(reference(mol, Gobbi_Pharm2D.factory).GetOnBits())
        b = set(gen_2d_fingerprint(mol, Gobbi_Pharm2D.factory).GetOnBits())
        same += a == b
    return same, len(smiles)
