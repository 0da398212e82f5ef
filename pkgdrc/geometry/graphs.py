"""Graphs of shapes: connected components and shortest paths.

Importing scipy.sparse.csgraph costs about 0.18 s of start-up (it pulls in
scipy.sparse.linalg and scipy.linalg): more than a cached run or a small layout's whole
check. So scipy is imported on first use, inside the functions that need it: for large
graphs (over `SMALL_GRAPH` edges, where its compiled search is 2-3x faster) and for
shortest paths (shorts between nets). Small graphs, the many per cell and per cluster,
are solved in numpy, 0.03-0.3 ms against scipy's 0.14-0.2 ms a call: each component's
root is hooked onto the smallest root it meets, then pointers jump to the roots, until no
edge joins two roots. Either way a component's label is the rank of its smallest node, as
scipy numbers them.
"""

from __future__ import annotations

import numpy as np

SMALL_GRAPH = 2048  # edges up to which components are found in numpy


def components(n: int, i: np.ndarray, j: np.ndarray) -> tuple[int, np.ndarray]:
    """(count, label of each node) of the undirected graph on nodes 0..n-1 with edges (i, j)."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    if len(i) > SMALL_GRAPH:
        from scipy.sparse import coo_matrix  # noqa: PLC0415 (start-up: see the module docstring)
        from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

        count, label = connected_components(
            coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n)), directed=False
        )
        return int(count), label.astype(np.int64)
    root = np.arange(n)
    while True:
        ri, rj = root[i], root[j]
        apart = ri != rj
        if not apart.any():
            break
        i, j, ri, rj = i[apart], j[apart], ri[apart], rj[apart]  # edges inside one component are done
        np.minimum.at(root, np.maximum(ri, rj), np.minimum(ri, rj))  # roots only ever point lower
        while True:
            up = root[root]
            if np.array_equal(up, root):
                break
            root = up
    roots, label = np.unique(root, return_inverse=True)
    return len(roots), label.astype(np.int64)


def distances(n: int, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, source: int) -> np.ndarray:
    """Shortest distance from `source` to each node of the undirected graph on nodes 0..n-1
    with edges (rows, cols) of positive `weights` (an edge given once); inf where unreached."""
    from scipy.sparse import coo_matrix  # noqa: PLC0415 (start-up: see the module docstring)
    from scipy.sparse.csgraph import dijkstra  # noqa: PLC0415

    graph = coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()
    return dijkstra(graph, directed=False, indices=source, min_only=True)
