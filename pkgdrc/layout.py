"""Load a GDSII or OASIS layout: its cell hierarchy, and the flattened top per deck layer, in dbu.

gdstk turns each cell's paths of every end type into polygons and flattens references
that are not exact on the grid (other angles, magnification); points are scaled to the
layout's database grid and rounded once (`Grid`). Exact placements (90-degree turns,
mirrors, arrays) stay a hierarchy (`pkgdrc.hierarchy`), flattened in bulk on first use;
everything downstream is on that integer grid.

Layouts are untrusted input. Here only a regular file is accepted and its magic bytes
are read (GDSII, OASIS, or either compressed with gzip); a child process
(`pkgdrc.safe_read`) does the rest: decompression, completeness (a GDSII stream ends with
ENDLIB; an OASIS file with its END record, whose CRC32 or checksum is verified when
present: gdstk returns partial libraries for some truncated files), the GDSII record
grammar (`pkgdrc.gdsii`), and gdstk's read.
"""

from __future__ import annotations

import mmap
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rtree
import shapely

from pkgdrc.cache import cells
from pkgdrc.cache.store import Store
from pkgdrc.cellmeta import check_hierarchy
from pkgdrc.errors import PkgdrcError
from pkgdrc.gdsii import segments
from pkgdrc.geometry.packed import to_shapely as to_shapely  # re-exported: the conversion's old home
from pkgdrc.geometry.polygons import EMPTY
from pkgdrc.hierarchy import CellTree
from pkgdrc.oasis import MAGIC as OASIS_MAGIC
from pkgdrc.pool import default_jobs
from pkgdrc.rawtree import RawTree
from pkgdrc.safe_read import MAX_SHAPES, ReadLimits, read_in_child
from pkgdrc.source import GDS_MAGIC, GZIP_MAGIC
from pkgdrc.units import Grid

LayerKey = tuple[int, int]

# Structures read by one reading child at most (their bytes), when they are read by structure:
# gdstk holds a library at about 4 times its file size, so a 1.5 GB file read whole needs a
# 4+ GB child, and in parts of 128 MiB a child of ~0.6 GB.
PART_BYTES = 128 * 2**20


class Layout:
    """A layout: polygons per named layer of the flattened top cell, in database units.

    Read from a file, it keeps the cell hierarchy (`tree`) and flattens a layer on first
    use, and the `limits` it was read within (a Dask worker reads it again within them);
    built from polygons (tests, tiles), it has no tree.
    """

    def __init__(
        self,
        path: str,
        top: str,
        grid: Grid,
        polygons: dict[str, np.ndarray] | None = None,
        labels: dict[str, list[tuple[str, float, float]]] | None = None,
        repaired: int = 0,
        dropped: int = 0,
        tree: CellTree | None = None,
        layer_names: list[str] | None = None,
        unmapped: list[tuple[int, int, int]] | None = None,
        limits: ReadLimits | None = None,
    ):
        self.path, self.top, self.grid = path, top, grid
        self.limits = limits or ReadLimits()
        self.repaired, self.dropped, self.tree = repaired, dropped, tree
        # (layer, datatype, shapes) of layers with shapes that no deck layer maps.
        self.unmapped: list[tuple[int, int, int]] = list(unmapped or [])
        self._polygons = polygons
        self._labels = labels
        self._names = list(polygons) if polygons is not None else list(layer_names or [])
        self._indexes: dict[str, rtree.index.Index] = {}

    @property
    def polygons(self) -> dict[str, np.ndarray]:
        """Shapes of the flattened top per layer (flattened from the tree on first use)."""
        if self._polygons is None:
            tree = self.tree
            self._polygons = {name: tree.flatten(name) for name in self._names} if tree is not None else {}
        return self._polygons

    @property
    def labels(self) -> dict[str, list[tuple[str, float, float]]]:
        if self._labels is None:
            tree = self.tree
            names = {n for c in tree.cells.values() for n in c.labels} if tree is not None else set()
            self._labels = {name: tree.flat_labels(name) for name in sorted(names)} if tree is not None else {}
        return self._labels

    @property
    def shape_count(self) -> int:
        if self._polygons is None and self.tree is not None:
            return self.tree.flat_count()
        return sum(len(p) for p in self.polygons.values())

    def count(self, layer: str) -> int:
        """Shapes of the flattened top on `layer` (counted on the tree when not flattened yet)."""
        if self._polygons is None and self.tree is not None:
            return self.tree.flat_count(layer)
        return len(self.polygons.get(layer, EMPTY))

    def index(self, layer: str) -> rtree.index.Index:
        """R-tree (rtree package) over the layer's shapes, built on first use.

        It serves region queries (what lies in a window, near a marker, under a waiver);
        bulk pair searches inside checks use shapely's STRtree, which is faster there.
        """
        if layer not in self._indexes:
            bounds = shapely.bounds(self.polygons.get(layer, EMPTY)).reshape(-1, 4)
            stream = ((i, tuple(b), None) for i, b in enumerate(bounds))
            self._indexes[layer] = rtree.index.Index(stream) if len(bounds) else rtree.index.Index()
        return self._indexes[layer]

    def query(self, layer: str, box_um: tuple[float, float, float, float]) -> np.ndarray:
        """Shapes of `layer` whose bounding boxes meet a window given in um."""
        box = tuple(float(self.grid.to_dbu(v)) for v in box_um)
        ids = np.fromiter(self.index(layer).intersection(box), dtype=np.int64)
        return self.polygons[layer][np.sort(ids)] if len(ids) else EMPTY


def _sniff(path: Path) -> str:
    """'gds', 'oasis' or 'gzip' from the file's magic bytes; anything else is refused here.

    Only a regular file is opened: a FIFO would block the open (and the run) forever, a
    device would be read without end.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PkgdrcError("layout file not found", path=str(path)) from None
    except OSError as e:
        raise PkgdrcError(f"cannot read layout: {e.strerror}", path=str(path)) from None
    if stat.S_ISDIR(mode):
        raise PkgdrcError("is a directory, expected a GDSII or OASIS file", path=str(path))
    if not stat.S_ISREG(mode):
        raise PkgdrcError(
            f"not a regular file ({_FILE_KINDS.get(stat.S_IFMT(mode), 'a special file')}), "
            "expected a GDSII or OASIS file",
            path=str(path),
        )
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise PkgdrcError(f"cannot read layout: {e.strerror}", path=str(path)) from None
    if head.startswith(OASIS_MAGIC):
        return "oasis"
    if head.startswith(GDS_MAGIC):
        return "gds"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if not head:
        raise PkgdrcError("empty file, expected a GDSII or OASIS layout", path=str(path))
    raise PkgdrcError("not a GDSII or OASIS file (unknown header bytes)", path=str(path))


_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_layout(
    path: str | Path,
    layer_map: dict[str, LayerKey],
    top: str | None = None,
    label_map: dict[str, LayerKey] | None = None,
    max_shapes: int = MAX_SHAPES,
    max_memory: int | None = None,
    read_timeout: float | None = None,
    cache: Store | None = None,
    jobs: int = 1,
) -> Layout:
    """Read `path`: the hierarchy under its top cell, on the layers named in `layer_map`.

    Only a regular file is read, by its magic bytes (a gzip-compressed GDSII or OASIS file
    too). A child process (`pkgdrc.safe_read`) decompresses it, checks it is complete (and a
    GDSII stream's record grammar, `pkgdrc.gdsii`), reads it with gdstk, and refuses broken
    hierarchies and flattenings larger than `max_shapes`; it is capped at `max_memory`
    bytes and `read_timeout` seconds when given. `Layout.unmapped` lists the layers with
    shapes that `layer_map` does not name.

    With a `cache` (a `pkgdrc.cache.Store`), an uncompressed GDSII file is read by structure:
    the structures whose cells the cache holds (same bytes, units and layer maps,
    `pkgdrc.cache.cells`) are not read again, the others are read in the child as a library
    of their own, and the hierarchy is checked on all cells together
    (`pkgdrc.cellmeta.check_hierarchy`); each shape's hash and bounds come with it
    (`Cell.own_state`). Whatever the split cannot do (a stream it does not trust, a
    reference that is not exact on the grid, any error) is done by reading the whole file,
    which gives the authoritative result or error: the same cells either way. A GDSII file
    larger than `PART_BYTES` is read by structure too, with or without a cache, in parts of at
    most that size, each by a child of its own: gdstk never holds the whole library. Up to
    `jobs` parts (0: one per core) are read at once.
    """
    path = Path(path)
    kind = _sniff(path)
    label_map = dict(label_map or {})
    limits = ReadLimits(max_shapes, max_memory, read_timeout)
    by_structure = kind == "gds" and (cache is not None or path.stat().st_size > PART_BYTES)
    jobs = default_jobs() if jobs <= 0 else jobs
    raw = None
    mapped = segments.mapped(str(path)) if by_structure else None
    if mapped is not None:
        with mapped:
            raw = _read_by_structure(str(path), mapped, dict(layer_map), top, label_map, limits, cache, jobs)
    if raw is None:
        raw = read_in_child(
            str(path), kind, layer_map, top, label_map, max_shapes, max_memory, read_timeout, cache is not None
        )
    tree, repaired, dropped = CellTree.from_raw(raw)
    grid = Grid(raw.precision / 1e-6)
    labels: dict[str, list[tuple[str, float, float]]] | None = None if label_map else {}
    return Layout(
        str(path),
        raw.top,
        grid,
        None,
        labels,
        repaired,
        dropped,
        tree,
        list(layer_map),
        unmapped=raw.unmapped,
        limits=limits,
    )


def _read_by_structure(
    path: str,
    data: mmap.mmap,
    layer_map: dict[str, LayerKey],
    top: str | None,
    label_map: dict[str, LayerKey],
    limits: ReadLimits,
    cache: Store | None,
    jobs: int,
) -> RawTree | None:
    """The tree of the mapped file `data` read structure by structure, through `cache` when
    given (see `read_layout`), or None: read the whole file."""
    found = segments.split_buffer(data)
    if found is None:
        return None
    keys = [cells.cell_key(s.digest, found.units, layer_map, label_map) for s in found.structures]
    entries: list[cells.Entry | None] = []
    for key, structure in zip(keys, found.structures):
        payload = cache.get(key) if cache is not None else None
        entry = cells.decode(payload, layer_map, label_map) if payload is not None else None
        named = entry is not None and entry[2].name.encode("utf-8") == structure.name  # else moved: a miss
        entries.append(entry if named else None)
    missing = [i for i, e in enumerate(entries) if e is None]
    parts = _parts(found, missing, jobs)

    def read(part: list[int]) -> list[cells.Entry] | None:
        return _read_structures(path, data, found, part, layer_map, label_map, limits, cache is not None)

    # Each part's child runs on its own; the threads only wait for them (and unpickle answers).
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(parts)))) as pool:
        answers = list(pool.map(read, parts))
    for part, fresh in zip(parts, answers):
        if fresh is None:
            return None
        for i, entry in zip(part, fresh):
            entries[i] = entry
            if cache is not None:
                cache.put(keys[i], cells.encode(entry, layer_map, label_map))
    done = [e for e in entries if e is not None]
    unit, precision = done[0][0], done[0][1]
    metas = [e[2] for e in done]
    if any(e[:2] != (unit, precision) for e in done) or any(
        m.name.encode("utf-8") != s.name for m, s in zip(metas, found.structures)
    ):
        return None
    texts = set(label_map.values())
    try:
        h = check_hierarchy(metas, top, set(layer_map.values()), texts, limits.max_shapes, unit, precision, path)
    except PkgdrcError:
        return None
    content = {e[2].name: e[3] for e in done}
    return RawTree(h.top, unit, precision, {n: content[n] for n in h.order}, h.unmapped)


def _parts(found: segments.Segments, which: list[int], jobs: int = 1) -> list[list[int]]:
    """Structures `which` in runs of at most `PART_BYTES` (a larger structure alone), and of at
    most a `jobs`-th of their bytes, so that `jobs` readers at once share the work evenly."""
    sizes = [found.structures[i].end - found.structures[i].start for i in which]
    most = min(PART_BYTES, -(-sum(sizes) // max(1, jobs)))
    parts: list[list[int]] = []
    size = most
    for i, n in zip(which, sizes):
        if size + n > most:
            parts.append([])
            size = 0
        parts[-1].append(i)
        size += n
    return parts


def _read_structures(
    path: str,
    data: mmap.mmap,
    found: segments.Segments,
    which: list[int],
    layer_map: dict[str, LayerKey],
    label_map: dict[str, LayerKey],
    limits: ReadLimits,
    with_state: bool,
) -> list[cells.Entry] | None:
    """Structures `which` of `path` read in the child, in that order, from a library of their own
    (in memory), or from the file itself when they are all of its structures; None when the
    child refuses them."""
    whole = len(which) == len(found.structures)
    if not whole and not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("pkgdrc-part") if not whole else None
    try:
        if fd is None:
            part = (path, [s.start for s in found.structures])
        else:
            part = (f"/proc/self/fd/{fd}", segments.write_part(data, found, which, fd))
        args = (layer_map, None, label_map, limits.max_shapes, limits.max_memory, limits.read_timeout, with_state, part)
        unit, precision, read = read_in_child(path, "gds", *args)
    except PkgdrcError:
        return None
    finally:
        if fd is not None:
            os.close(fd)
    if len(read) != len(which):
        return None
    return [(unit, precision, meta, raw) for meta, raw in read]
