"""``scrm-xl batch --scheduler tcp://...``: the same isolated job on a Dask LocalCluster.

The cluster's worker runs as threads of this test process (processes=False, TCP so the CLI in
its subprocess can reach the scheduler); each workbook still gets its own worker process there.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from batch_jobs import tweak

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrm_xl", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    ) as c:  # fmt: skip
        yield c


def test_cluster_run_gives_the_same_files_as_a_local_run(cluster, tmp_path):
    inbox = tmp_path / "in"
    tweak(inbox / "a.xlsx")
    tweak(inbox / "b.xlsx", program={"Program name": "B side", "Currency": "USD"})
    (inbox / "junk.xlsx").write_bytes(b"PK\x03\x04 not really")
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")

    remote = cli("batch", inbox, "--out", tmp_path / "remote", "--scheduler", address)
    local = cli("batch", inbox, "--out", tmp_path / "local", "--jobs", "1")
    for proc in (remote, local):
        assert proc.returncode == 1, proc.stderr
        assert "3 workbooks: 2 ok, 1 failed" in proc.stdout
        assert "failed: " in proc.stderr and "junk.xlsx" in proc.stderr
    assert digest(tmp_path / "remote") == digest(tmp_path / "local")
    assert sorted(digest(tmp_path / "remote")) == [
        "a.json", "a.xlsx", "b.json", "b.xlsx", "junk.json", "portfolio.pdf", "portfolio.xlsx",
    ]  # fmt: skip


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    tweak(tmp_path / "in" / "a.xlsx")
    from helpers.loopback import free_port

    port = free_port()  # nothing listens there
    proc = subprocess.run(
        [sys.executable, "-m", "scrm_xl", "batch", tmp_path / "in", "--out", tmp_path / "o",
         "--scheduler", f"tcp://127.0.0.1:{port}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}" in proc.stderr
