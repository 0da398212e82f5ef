"""--dask-scheduler: the tiles run on a real Dask cluster give the markers of one process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from tests.conftest import DECK_2L, write_gds  # noqa: E402
from tests.test_tiles import RDL1, _dicts, _rect, build_row  # noqa: E402

from pkgdrc.cli import main  # noqa: E402
from pkgdrc.decks import load_deck  # noqa: E402
from pkgdrc.errors import PkgdrcError  # noqa: E402
from pkgdrc.layout import read_layout  # noqa: E402
from pkgdrc.run import check  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as c:
        yield c


def test_dask_markers_equal_one_process(cluster, tmp_path):
    path = write_gds(tmp_path / "row.gds", build_row)
    deck = load_deck(DECK_2L)
    single = check(path, deck)
    on_cluster = check(path, deck, dask_scheduler=cluster.scheduler_address)
    assert _dicts(on_cluster.rules) == _dicts(single.rules)
    assert single.violations > 0
    # The workers read the layout themselves, from its path (only markers travel back).
    with distributed.Client(cluster.scheduler_address) as client:
        read = client.run(_layouts_read)
    assert len(read) == 3 and sum(read.values()) >= 1


def test_workers_read_within_the_clients_limits(cluster, tmp_path):
    """A worker reads the layout again within the limits the client read it within: the file
    grew on the shared file system after the client read it, and the worker refuses it with
    the client's --max-shapes (a worker's own default would have read it)."""
    path = write_gds(tmp_path / "row.gds", build_row)
    deck = load_deck(DECK_2L)
    limit = read_layout(path, deck.layers, label_map=deck.labels).shape_count
    client_side = read_layout(path, deck.layers, label_map=deck.labels, max_shapes=limit)

    def grown(lib, top):
        build_row(lib, top)
        for k in range(10):
            _rect(top, -100 - 10 * k, 0, -95 - 10 * k, 5, RDL1)

    write_gds(path, grown)
    with pytest.raises(
        PkgdrcError,
        match=rf"would make {limit + 10:,} shapes and placements "
        rf"\(limit {limit:,}, --max-shapes\)",
    ):
        check(client_side, deck, dask_scheduler=cluster.scheduler_address)


def _layouts_read() -> int:
    import pkgdrc.distributed

    return len(pkgdrc.distributed._READ)


def test_cli_dask_scheduler(cluster, tmp_path):
    path = write_gds(tmp_path / "row.gds", build_row)
    out = {}
    for extra in ([], ["--dask-scheduler", cluster.scheduler_address]):
        target = tmp_path / f"{len(extra)}.json"
        res = CliRunner().invoke(
            main, ["check", str(path), "--deck", str(DECK_2L), "--json", str(target), "-q", "--no-cache", *extra]
        )
        assert res.exit_code == 1, res.output
        data = json.loads(target.read_text())
        data["summary"].pop("seconds")
        engines = {r["id"]: r.pop("engine") for r in data["rules"]}
        assert all(r.pop("seconds") >= 0 for r in data["rules"])
        assert set(engines.values()) == ({"dask"} if extra else {"flat"})  # this deck has no stack rule
        out[len(extra)] = data
    assert out[0] == out[2]  # the same markers on the cluster


def test_unreachable_scheduler_is_a_user_error(tmp_path, monkeypatch):
    import pkgdrc.distributed

    monkeypatch.setattr(pkgdrc.distributed, "CONNECT_TIMEOUT", "1s")
    path = write_gds(tmp_path / "row.gds", build_row)
    with pytest.raises(PkgdrcError, match="cannot reach the Dask scheduler tcp://127.0.0.1:1"):
        check(path, DECK_2L, dask_scheduler="tcp://127.0.0.1:1")
