"""Read an untrusted layout in a child process, so that no input can crash a run.

gdstk's readers are C++: on some corrupt files (with gdstk 1.0.2, 2.7% of copies of a
small GDSII file and 36% of a small OASIS file with 1-4 random bytes overwritten, see
benchmarks/RESULTS.md) they die with a segmentation fault that Python cannot catch. So the
library is read and checked in a forked child process (POSIX), and only plain arrays come
back: per cell its own shapes as valid polygons in compact arrays, and its placements
(`RawTree`; `pkgdrc.hierarchy` decodes and flattens it). A child that dies becomes a
PkgdrcError naming the file and the signal.

In the child, before gdstk: a gzip-compressed layout is decompressed (`pkgdrc.source`,
into memory, at most `max_memory` bytes), the file is checked to be complete (`pkgdrc.oasis`,
`pkgdrc.gdsii`) and a GDSII stream's record grammar is validated (`pkgdrc.gdsii`).
Then the library's hierarchy is checked (`pkgdrc.cellmeta.check_hierarchy`: names,
references, cycles, the flattened size against `max_shapes`) and its cells converted
(`pkgdrc.rawtree.tree_of`: valid polygons, repairs and drops counted). `max_memory` caps
the child's address space and `timeout` its time; both are checked here, so any value a
caller passes becomes a PkgdrcError or a limit, never a crash.
"""

from __future__ import annotations

import faulthandler
import math
import os
import pickle
import resource
import signal
import traceback
from dataclasses import dataclass
from typing import Any

import gdstk
import numpy as np

from pkgdrc import gdsii, oasis
from pkgdrc.cellmeta import CellMeta
from pkgdrc.errors import PkgdrcError
from pkgdrc.rawtree import LayerKey, RawCell, RawTree, Unsplittable, cells_of, tree_of
from pkgdrc.source import readable

# Shapes on the deck's layers plus cell placements that a flattening may make. At about
# 0.5 KB per shape once it is a Shapely polygon, 20 million is ~10 GB: beyond this a run
# would exhaust a normal machine, so it is refused with a message instead.
MAX_SHAPES = 20_000_000

# signal.alarm takes a C int: a longer --read-timeout (68 years) is no limit at all
MAX_TIMEOUT = 2**31 - 1


@dataclass(frozen=True)
class ReadLimits:
    """The bounds a layout is read within: flattened shapes, child memory (bytes), seconds."""

    max_shapes: int = MAX_SHAPES
    max_memory: int | None = None
    read_timeout: float | None = None


def read_tree(
    path: str,
    kind: str,
    layer_map: dict[str, LayerKey],
    top: str | None,
    label_map: dict[str, LayerKey],
    max_shapes: int,
    max_memory: int | None = None,
    with_state: bool = False,
    part: tuple[str, list[int]] | None = None,
) -> RawTree | tuple[float, float, list[tuple[CellMeta, RawCell]]]:
    """Read and check a layout; return its top cell's hierarchy (runs in the child; callable in-process).

    `kind` is 'gds', 'oasis' or 'gzip' (either, compressed), from the file's magic bytes;
    `with_state`: each shape's hash and bounds too. With `part` (a GDSII file holding some
    structures of `path`, `pkgdrc.gdsii.segments.write_part`, and where they start in it),
    that file is read and checked the same way, each structure must start at a BGNSTR record
    of its record chain, and every cell of it comes back (`pkgdrc.rawtree.cells_of`); errors
    name `path`.
    """
    with readable(part[0] if part else path, kind, max_memory) as (source, inner):
        if inner == "oasis":
            oasis.check_complete(source, path)
        else:
            gdsii.check_complete(source, path)
            rec = gdsii.validate_file(source, path)
            if part and not _starts_structures(rec, part[1]):
                raise Unsplittable("a part of the split file is not a whole structure")
        with np.errstate(all="ignore"):
            try:
                lib = gdstk.read_oas(source) if inner == "oasis" else gdstk.read_gds(source)
            except Exception as e:  # gdstk raises plain RuntimeError/OSError for corrupt files
                raise PkgdrcError(f"cannot read {inner.upper()} layout: {e}", path=path) from None
        if part is not None:
            return cells_of(lib, path, layer_map, label_map, max_shapes, with_state)
        return tree_of(lib, path, layer_map, top, label_map, max_shapes, with_state)


def _starts_structures(rec: gdsii.Records, starts: list[int]) -> bool:
    """Whether each offset in `starts` is where a BGNSTR record of the chain `rec` starts."""
    at = np.searchsorted(rec.pos, starts)
    inside = at < len(rec.pos)
    return bool(inside.all() and (rec.pos[at] == starts).all() and (rec.kind[at] == gdsii.scan.BGNSTR).all())


def _limit_memory(max_memory: int | None) -> None:
    """Cap the address space at the current footprint plus `max_memory` bytes.

    A cap beyond what the system allows (the hard limit, or what a C long holds) limits
    nothing more than that, so it is left at the system's.
    """
    if max_memory is None or not os.path.exists("/proc/self/statm"):
        return
    with open("/proc/self/statm") as f:  # the child's start-up footprint is not counted
        current = int(f.read().split()[0]) * resource.getpagesize()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = 2**63 - 1 if hard == resource.RLIM_INFINITY else hard
    if current + max_memory < ceiling:
        resource.setrlimit(resource.RLIMIT_AS, (current + max_memory, hard))


def _answer(args: tuple, max_memory: int | None) -> tuple[str, object]:
    """The child's whole work, as a picklable ("ok" | "error" | "bug", payload)."""
    try:
        _limit_memory(max_memory)
        return "ok", read_tree(*args)
    except PkgdrcError as e:
        where = f"{e.path}: " if e.path is not None and e.line is None else ""
        return "error", (str(e).removeprefix(where), e.path if where else None)
    except MemoryError:
        return "error", (f"reading the layout needs more than --max-memory ({max_memory:,} bytes)", args[0])
    except BaseException:  # a bug, not bad input: keep the traceback
        return "bug", traceback.format_exc()


def _check_limits(max_memory: int | None, timeout: float | None) -> None:
    """The limits as numbers a child can be given: PkgdrcError for any other value."""
    if max_memory is not None and (isinstance(max_memory, bool) or not isinstance(max_memory, int) or max_memory < 1):
        raise PkgdrcError(f"--max-memory must be a whole number of bytes > 0, got {max_memory!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0
    ):
        raise PkgdrcError(f"--read-timeout must be a finite number of seconds > 0, got {timeout!r}")


def _run_forked(args: tuple, max_memory: int | None, timeout: float | None) -> tuple[Any, int]:
    """Run `_answer` in a forked child: (its answer, or None if it sent none whole; its wait status).

    A fork inherits the imported gdstk, so a read costs milliseconds, not an interpreter
    start; and unlike multiprocessing's spawn and forkserver it never re-imports the
    caller's __main__, so it works from any script. The answer is pickled straight into
    the pipe and unpickled from it, so neither side holds a second, pickled copy of the
    layout's arrays (on a 1.5 GB GDSII file that copy is gigabytes).
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's cleanup
        code = 0
        try:
            os.close(r)
            faulthandler.disable()  # a crash here is reported by the parent, not dumped
            if timeout:
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                signal.alarm(min(max(1, math.ceil(timeout)), MAX_TIMEOUT))  # ends a reader that never returns
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # gdstk's own "[GDSTK] ..." lines: the parent says it in one line
            mine = _answer(args, max_memory)
            with os.fdopen(w, "wb") as out:
                pickle.dump(mine, out, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(w)
    answer: Any = None
    with os.fdopen(r, "rb") as f:
        try:
            answer = pickle.load(f)
        except Exception:  # a child that died while sending leaves a truncated stream
            answer = None
        while f.read(1 << 20):  # let a child still writing finish (or die) before it is waited for
            pass
    _, status = os.waitpid(pid, 0)
    return answer, status


def read_in_child(
    path: str,
    kind: str,
    layer_map: dict[str, LayerKey],
    top: str | None = None,
    label_map: dict[str, LayerKey] | None = None,
    max_shapes: int = MAX_SHAPES,
    max_memory: int | None = None,
    timeout: float | None = None,
    with_state: bool = False,
    part: tuple[str, list[int]] | None = None,
) -> Any:
    """`read_tree` in a child process; a crash, a memory limit or `timeout` seconds become a PkgdrcError.

    `max_memory` (bytes) and `timeout` (seconds) must be positive and finite; a timeout
    longer than `MAX_TIMEOUT` is that long.
    """
    _check_limits(max_memory, timeout)
    args = (path, kind, dict(layer_map), top, dict(label_map or {}), max_shapes, max_memory, with_state, part)
    answer: Any
    if not hasattr(os, "fork"):  # Windows: no isolation, the checks above still apply
        answer, status = _answer(args, None), 0
    else:
        answer, status = _run_forked(args, max_memory, timeout)
    if answer is None:  # the child died without answering
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        if sig == signal.SIGALRM and timeout:
            raise PkgdrcError(f"reading the layout took longer than --read-timeout ({timeout:g} s)", path=path)
        what = f"signal {signal.Signals(sig).name}" if sig else f"exit code {os.waitstatus_to_exitcode(status)}"
        hint = " or ran out of --max-memory" if max_memory is not None else ""
        raise PkgdrcError(
            f"the {kind.upper()} reader (gdstk) crashed on this file ({what}){hint}; the file is corrupt", path=path
        )
    status_word, payload = answer
    if status_word == "error":
        raise PkgdrcError(payload[0], path=payload[1])
    if status_word == "bug":
        raise RuntimeError(f"pkgdrc failed reading {path} in a child process:\n{payload}")
    return payload
