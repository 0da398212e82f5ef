"""geometry.graphs: components in numpy (small graphs) and scipy (large) number them alike."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pkgdrc.geometry import graphs


def _scipy(n: int, i, j):
    count, label = connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    return count, label.tolist()


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.integers(0, 40).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, max(n - 1, 0))), max_size=60 if n else 0),
        )
    )
)
def test_small_graphs_match_scipy_labels_included(graph):
    n, edges = graph
    i, j = np.array([e[0] for e in edges], dtype=np.int64), np.array([e[1] for e in edges], dtype=np.int64)
    count, label = graphs.components(n, i, j)
    assert (count, label.tolist()) == _scipy(n, i, j)


@pytest.mark.parametrize("edges", [100, 5000])
def test_a_shuffled_chain_and_random_graphs_match_scipy_on_both_paths(edges):
    rng = np.random.default_rng(edges)
    n = edges + 1
    perm = rng.permutation(n)
    chain = (perm[:-1], perm[1:])  # a path in random node order: many rounds of hooking
    random = (rng.integers(0, n, edges), rng.integers(0, n, edges))
    for i, j in (chain, random):
        count, label = graphs.components(n, i, j)
        assert (count, label.tolist()) == _scipy(n, i, j)
    assert (graphs.SMALL_GRAPH < edges) == (edges == 5000)  # one case on each side of the switch


def test_distances_from_a_source():
    # 0 -1- 1 -1- 2, and 0 -0.5- 3; 4 unreached
    d = graphs.distances(5, np.array([0, 1, 0]), np.array([1, 2, 3]), np.array([1.0, 1.0, 0.5]), 0)
    assert d.tolist() == [0.0, 1.0, 2.0, 0.5, np.inf]


def test_starting_pkgdrc_does_not_import_scipy():
    """scipy.sparse.csgraph costs about 0.18 s of start-up; it is imported on first use only."""
    code = "import sys, pkgdrc.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"
