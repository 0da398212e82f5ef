"""The forked pool (pkgdrc/pool.py) that cell by cell and tiles share: every item once, the
forked state inherited, items started in order a few ahead (the parent's waits stay small
however many items), and a worker that dies is an error at once, not a hang."""

from __future__ import annotations

import os

import pytest

from pkgdrc import pool
from pkgdrc.errors import PkgdrcError
from pkgdrc.pool import AHEAD, forked_map


def _square_plus(state: dict, i: int) -> int:
    return i * i + state["plus"]


def _die_on_two(state: None, i: int) -> int:
    if i == 2:
        os._exit(9)  # as the OOM killer would
    return i


def _refuse_on_one(state: None, i: int) -> int:
    if i == 1:
        raise PkgdrcError("rule R: too many windows")
    return i


def test_every_item_once_with_the_inherited_state():
    state = {"plus": 7, "f": lambda: None}  # a lambda does not pickle: inherited by the fork, never sent
    assert sorted(forked_map(_square_plus, state, 5, 2)) == [(i, i * i + 7) for i in range(5)]


def test_items_start_in_order_and_the_parent_waits_on_a_few(monkeypatch):
    """300 items on 2 processes: every one once; each wait watches at most AHEAD per process
    (submitting all 300 at once made each of the ~300 waits visit every pending future)."""
    watched: list[int] = []

    def wait(pending, return_when):
        watched.append(len(pending))
        return real_wait(pending, return_when=return_when)

    real_wait = pool.wait
    monkeypatch.setattr(pool, "wait", wait)
    assert sorted(forked_map(_square_plus, {"plus": 1}, 300, 2)) == [(i, i * i + 1) for i in range(300)]
    assert 0 < max(watched) <= AHEAD * 2 and len(watched) >= 300 // (AHEAD * 2)


def test_a_dead_worker_is_an_error_not_a_hang():
    with pytest.raises(
        PkgdrcError,
        match=r"^a worker process died \(killed, or out of memory\): "
        r"the run could not be done$",
    ):
        list(forked_map(_die_on_two, None, 4, 2))


def test_an_error_in_a_worker_reaches_the_caller():
    with pytest.raises(PkgdrcError, match="rule R: too many windows"):
        list(forked_map(_refuse_on_one, None, 3, 2))
