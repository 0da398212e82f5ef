"""A separation rule at a large distance runs in bounded memory (issue 15 item 26).

12 round 64-vertex openings among an array of contacts, `separation` at 100 um: every
opening edge is a candidate against every contact edge, and every candidate pair's box
holds many shields. Candidates (`pairs.candidate_chunks`) and (pair, shield) candidates
(`shielding.shielded`) are made and measured in bounded chunks (`edges.box_pairs`).

The test-sized case asserts the markers (KLayout's, exactly; the same with tiny chunks).
The full-sized one (80 x 40 contacts at 4 um pitch) is for measuring:
`python tests/robustness/test_markers_far_separation.py` prints its peak RSS (before the
chunked queries: a MemoryError at 8.3 GB resident under a 10 GB address-space cap, 18 GB
when uncapped; after: 0.52 GB).
"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crosscheck"))
from corpus import box
from klayout_ref import klayout_result, pkgdrc_result, write_gds

from pkgdrc.geometry import edges, pairs


def far_separation_case(nx: int, ny: int, radius: int) -> dict:
    """Contacts 2 um square at 4 um pitch, nx x ny; 12 round openings (64 vertices) over
    them, 4 x 3; separation openings to contacts at 100 um. Coordinates in dbu (1 nm)."""
    pitch, size = 4000, 2000
    contacts = [box(i * pitch, j * pitch, i * pitch + size, j * pitch + size) for i in range(nx) for j in range(ny)]
    openings = []
    for k in range(12):
        cx, cy = (k % 4 + 0.5) * nx * pitch / 4, (k // 4 + 0.5) * ny * pitch / 3
        openings.append(
            [
                [round(cx + radius * math.cos(math.pi * t / 32)), round(cy + radius * math.sin(math.pi * t / 32))]
                for t in range(64)
            ]
        )
    return {
        "name": "far_separation",
        "check": "separation",
        "params": {"min": 100_000},
        "layers": {"A": openings, "B": contacts},
    }


def _pairs(result: dict) -> Counter:
    return Counter(tuple(tuple(map(tuple, e)) for e in (e1, e2)) for e1, e2, _ in result["edge_pairs"])


def test_far_separation_markers_are_klayouts_and_do_not_depend_on_chunk_sizes(tmp_path, monkeypatch):
    case = far_separation_case(8, 6, 2500)
    gds = write_gds(case, tmp_path)
    ours, theirs = pkgdrc_result(gds, case), klayout_result(gds, case)
    assert len(ours["edge_pairs"]) == len(theirs["edge_pairs"]) == 8016
    assert _pairs(ours) == _pairs(theirs)
    monkeypatch.setattr(pairs, "CHUNK_PAIRS", 500)
    monkeypatch.setattr(edges, "QUERY_PAIRS", 300)
    assert pkgdrc_result(gds, case) == ours


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        full = far_separation_case(80, 40, 30_000)
        result = pkgdrc_result(write_gds(full, Path(tmp)), full)
    print(
        f"{len(result['edge_pairs'])} markers, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB"
    )
