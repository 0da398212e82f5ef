"""Cache entries of GDSII structures read into cells (issue 18): a structure whose bytes did not
change is not read again.

Key (`cell_key`): pkgdrc's version and this format, the structure's bytes' hash
(`pkgdrc.gdsii.segments`), the library's UNITS record, and the deck's layer and label maps.
Payload (`encode`): the cell's metadata (`pkgdrc.cellmeta.CellMeta`) and content
(`pkgdrc.rawtree.RawCell`: packed polygons with their hashes and bounds, labels,
placements, repair counts) and the library's units as gdstk read them, as an npz archive of
numeric arrays (strings as UTF-8 bytes with offsets). `decode` loads it with
`allow_pickle=False` and checks every array's type and shape (a corrupt or forged entry is a
miss, never a wrong cell or a crash); nothing from the cache is unpickled.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np

from pkgdrc.cellmeta import CellMeta, LayerKey, Reference
from pkgdrc.geometry.packed import Packed
from pkgdrc.rawtree import Label, RawCell
from pkgdrc.version import __version__

FORMAT = 1

Entry = tuple[float, float, CellMeta, RawCell]  # unit, precision, metadata, content


def cell_key(digest: str, units: bytes, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> str:
    parts = ["cell", __version__, FORMAT, digest, units.hex(), sorted(layer_map.items()), sorted(label_map.items())]
    text = json.dumps(parts, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _strings(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    data = [t.encode("utf-8") for t in texts]
    ends = np.cumsum([len(d) for d in data], dtype=np.int64)
    return np.frombuffer(b"".join(data), dtype=np.uint8), np.r_[np.int64(0), ends]


def _texts(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = data.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:])]


def _counts(d: dict[LayerKey, int]) -> np.ndarray:
    return np.array([(a, b, n) for (a, b), n in d.items()], dtype=np.int64).reshape(-1, 3)


def encode(entry: Entry, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> bytes:
    unit, precision, meta, raw = entry
    a: dict[str, np.ndarray] = {"units": np.array([unit, precision], dtype=np.float64)}
    a["name"], a["name_at"] = _strings([meta.name])
    a["ref_names"], a["ref_at"] = _strings([r.cell for r in meta.refs])
    a["ref_copies"] = np.array([r.copies for r in meta.refs], dtype=np.int64)
    a["ref_transform"] = np.array([(r.magnification, r.rotation) for r in meta.refs], dtype=np.float64).reshape(-1, 2)
    a["own"], a["texts"] = _counts(meta.own), _counts(meta.texts)
    for k, name in enumerate(layer_map):
        p = raw.layers[name]
        assert p.hashes is not None and p.bounds is not None  # cells_of hashes every shape
        for field, v in zip(("c", "r", "p", "box", "h", "b"), (p.coords, p.rings, p.polys, p.box, p.hashes, p.bounds)):
            a[f"L{k}{field}"] = v
    for k, name in enumerate(label_map):
        labels = raw.labels[name]
        a[f"T{k}s"], a[f"T{k}at"] = _strings([t for t, _, _ in labels])
        a[f"T{k}xy"] = np.array([(x, y) for _, x, y in labels], dtype=np.float64).reshape(-1, 2)
    a["pl_names"], a["pl_at"] = _strings([c for c, _, _ in raw.placements])
    a["pl_matrix"] = np.array([m for _, m, _ in raw.placements], dtype=np.int64).reshape(-1, 4)
    a["pl_counts"] = np.array([len(o) for _, _, o in raw.placements], dtype=np.int64)
    a["pl_offsets"] = np.concatenate([o for _, _, o in raw.placements]) if raw.placements else np.empty((0, 2))
    a["fixes"] = np.array([raw.repaired, raw.dropped], dtype=np.int64)
    out = io.BytesIO()
    np.savez(out, **a)  # type: ignore[arg-type]  # numpy's stub mistypes **arrays
    return out.getvalue()


def decode(payload: bytes, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> Entry | None:
    """The entry in `payload`, or None when it is not one `encode` wrote for these maps."""
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
        return _decode(a, layer_map, label_map)
    except (ValueError, KeyError, TypeError, IndexError, OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile):
        return None


def _decode(a: dict[str, np.ndarray], layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> Entry | None:
    ints = [a[k] for k in ("name_at", "ref_at", "ref_copies", "own", "texts", "pl_at", "pl_matrix", "pl_counts")]
    if any(v.dtype != np.int64 for v in ints) or a["units"].shape != (2,) or a["fixes"].shape != (2,):
        return None
    (name,) = _texts(a["name"], a["name_at"])
    refs_at = _texts(a["ref_names"], a["ref_at"])
    copies, transform = a["ref_copies"].tolist(), a["ref_transform"].reshape(-1, 2).tolist()
    if not len(refs_at) == len(copies) == len(transform):
        return None
    refs = [Reference(c, n, float(m), float(r)) for c, n, (m, r) in zip(refs_at, copies, transform)]
    own = {(int(x), int(y)): int(n) for x, y, n in a["own"].reshape(-1, 3).tolist()}
    texts = {(int(x), int(y)): int(n) for x, y, n in a["texts"].reshape(-1, 3).tolist()}
    layers = {}
    for k, lname in enumerate(layer_map):
        p = Packed(*(a[f"L{k}{f}"] for f in ("c", "r", "p", "box", "h", "b")))
        if not p.check():
            return None
        layers[lname] = p
    labels: dict[str, list[Label]] = {}
    for k, lname in enumerate(label_map):
        strings, xy = _texts(a[f"T{k}s"], a[f"T{k}at"]), a[f"T{k}xy"].reshape(-1, 2).tolist()
        if len(strings) != len(xy):
            return None
        labels[lname] = [(t, float(x), float(y)) for t, (x, y) in zip(strings, xy)]
    names, counts, offsets = _texts(a["pl_names"], a["pl_at"]), a["pl_counts"], a["pl_offsets"]
    matrices = a["pl_matrix"].reshape(-1, 4).tolist()
    if not (len(names) == len(counts) == len(matrices) and offsets.shape == (int(counts.sum()), 2)):
        return None
    if (counts < 1).any() or offsets.dtype != np.float64:
        return None
    parts = np.split(offsets, np.cumsum(counts)[:-1]) if len(counts) else []
    placements = [(c, (m[0], m[1], m[2], m[3]), o) for c, m, o in zip(names, matrices, parts)]
    unit, precision = (float(v) for v in a["units"])
    raw = RawCell(layers, labels, placements, int(a["fixes"][0]), int(a["fixes"][1]))
    return unit, precision, CellMeta(name, refs, own, texts), raw
