"""Cache entries of GDSII structures read into cells (issue 18): a structure whose bytes did not
change is not read again.

Key (`cell_key`): pkgdrc's version and this format, the structure's bytes' hash
(`pkgdrc.gdsii.segments`), the library's UNITS record, and the deck's layer and label maps.
Payload (`encode`): the cell's metadata (`pkgdrc.cellmeta.CellMeta`) and content
(`pkgdrc.rawtree.RawCell`: packed polygons with their hashes and bounds, labels,
placements, repair counts) and the library's units as gdstk read them, as plain
numeric arrays (strings as UTF-8 bytes with offsets) laid end to end after a header of
their types and shapes (`_pack_arrays`: an npz archive costs ~0.2 ms an array to open, and
an entry has ~80). `decode` checks every array's type and shape (a corrupt or forged entry is a
miss, never a wrong cell or a crash); nothing from the cache is unpickled.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from pkgdrc.cellmeta import CellMeta, LayerKey, Reference
from pkgdrc.geometry.packed import Packed
from pkgdrc.rawtree import Label, RawCell
from pkgdrc.version import __version__

FORMAT = 1

# array types an entry may hold, by code
DTYPES = [np.dtype(t) for t in ("<i4", "<i8", "<f8", "<u8", "u1")]

Entry = tuple[float, float, CellMeta, RawCell]  # unit, precision, metadata, content


def cell_key(digest: str, units: bytes, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> str:
    parts = ["cell", __version__, FORMAT, digest, units.hex(), sorted(layer_map.items()), sorted(label_map.items())]
    text = json.dumps(parts, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _fields(layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> list[str]:
    """The arrays of an entry, in the order they are stored."""
    head = ["units", "fixes", "name", "name_at", "ref_names", "ref_at", "ref_copies", "ref_transform", "own", "texts"]
    layers = [f"L{k}{f}" for k in range(len(layer_map)) for f in ("c", "r", "p", "box", "h")]
    labels = [f"T{k}{f}" for k in range(len(label_map)) for f in ("s", "at", "xy")]
    return head + layers + labels + ["pl_names", "pl_at", "pl_matrix", "pl_counts", "pl_offsets"]


def _pack_arrays(arrays: list[np.ndarray]) -> bytes:
    """Arrays (1 or 2 dimensions, of `DTYPES`) as bytes: an int64 header (count, then code, rows,
    columns (0: one dimension) per array), then each array's data padded to 8 bytes."""
    head = [len(arrays)]
    data = []
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        head += [DTYPES.index(a.dtype), a.shape[0], a.shape[1] if a.ndim == 2 else 0]
        raw = a.tobytes()
        data.append(raw + b"\0" * (-len(raw) % 8))
    return np.array(head, dtype="<i8").tobytes() + b"".join(data)


def _unpack_arrays(payload: bytes) -> list[np.ndarray] | None:
    """`_pack_arrays`' arrays (read-only views of `payload`), or None when the bytes are not such."""
    if len(payload) < 8:
        return None
    n = int(np.frombuffer(payload, "<i8", 1)[0])
    if not 0 <= n <= len(payload) // 24:
        return None
    head = np.frombuffer(payload, "<i8", 1 + 3 * n)[1:].reshape(n, 3).tolist()
    out, at = [], 8 * (1 + 3 * n)
    for code, rows, cols in head:
        if not (0 <= code < len(DTYPES) and rows >= 0 and cols >= 0):
            return None
        dtype = DTYPES[code]
        count = rows * max(cols, 1)
        size = count * dtype.itemsize
        if at + size > len(payload):
            return None
        a = np.frombuffer(payload, dtype, count, at)
        out.append(a.reshape(rows, cols) if cols else a)
        at += size + (-size % 8)
    return out if at == len(payload) else None


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
        for field, v in zip(("c", "r", "p", "box", "h"), (p.coords, p.rings, p.polys, p.box, p.hashes)):
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
    return _pack_arrays([a[k] for k in _fields(layer_map, label_map)])


def decode(payload: bytes, layer_map: dict[str, LayerKey], label_map: dict[str, LayerKey]) -> Entry | None:
    """The entry in `payload`, or None when it is not one `encode` wrote for these maps."""
    names = _fields(layer_map, label_map)
    try:
        arrays = _unpack_arrays(payload)
        if arrays is None or len(arrays) != len(names):
            return None
        return _decode(dict(zip(names, arrays)), layer_map, label_map)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError):
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
        p = Packed(*(a[f"L{k}{f}"] for f in ("c", "r", "p", "box", "h")))
        if not p.check():
            return None
        p.bounds = p.shape_bounds()
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
