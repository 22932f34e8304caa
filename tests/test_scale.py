"""Parallel units: a local process pool and a real Dask cluster give what a serial build gives."""
import os
import subprocess
import sys

import pytest
from conftest import ROOT, read_json

pytestmark = pytest.mark.e2e  # runs `python build.py` in a subprocess


def build(out, *args):
    return subprocess.run([sys.executable, "build.py", "toy_mlp", "--profile", "quick", "--quiet", "--to", "md",
                           "--out", str(out), *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})


def record(out, seed):
    return read_json(out / "results" / "quick" / "toy_mlp" / f"seed-{seed}.json")


def test_jobs_2_runs_seeds_in_parallel_with_the_serial_results(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert build(serial, "--set", "toy_mlp.seeds=[0,1]", "--jobs", "1").returncode == 0
    result = build(parallel, "--set", "toy_mlp.seeds=[0,1]", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    for seed in (0, 1):
        assert record(parallel, seed)["data"] == record(serial, seed)["data"]
    workers = {record(parallel, seed)["meta"]["worker"] for seed in (0, 1)}
    assert len(workers) == 2  # two processes, neither the build itself
    report = (parallel / "report.md").read_text()
    assert "over seeds" in report and "±" in report


def test_dask_cluster_runs_units_on_its_worker_and_results_land_like_a_local_run(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        result = build(tmp_path / "dask", "--executor", "dask", "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stderr
    assert build(tmp_path / "local").returncode == 0
    dask_record, local_record = record(tmp_path / "dask", 0), record(tmp_path / "local", 0)
    assert int(dask_record["meta"]["worker"].rpartition(":")[2]) in worker_pids
    assert dask_record["data"] == local_record["data"]
    artifacts = tmp_path / "dask" / "results" / "quick" / "toy_mlp" / dask_record["artifact_dir"]
    assert sorted(p.name for p in artifacts.iterdir()) == sorted(dask_record["artifacts"])
    assert (tmp_path / "dask" / "report.md").read_text().count("Figure") >= 5


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    result = build(tmp_path / "out", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert result.returncode == 2 and "cannot reach the Dask scheduler" in result.stderr


def test_a_scheduler_without_workers_is_given_up_on_with_a_clear_error(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        result = build(tmp_path / "out", "--executor", "dask", "--scheduler", address, "--worker-timeout", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"waiting up to 1 s for a worker to join the Dask scheduler at {address}" in result.stderr
    assert f"error: no Dask worker joined the scheduler at {address} in 1 s" in result.stderr
