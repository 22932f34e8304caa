"""Planning and running units in this process, in a process pool, or on a (stand-in) Dask cluster.

Every test builds the tiny one-section project of ``conftest.tiny`` in its own folder.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT, TINY_SECTION
from report import runner as runner_module
from report.errors import OutputError, UsageError
from report.paths import OutputPaths
from report.pipeline import Options, plan_all, validate
from report.runner import Runner, default_jobs, limit_threads, worker_died
from report.status import Freshness, Outcome


def plan_tiny(project, *sets):
    """Every unit of the tiny project with its freshness, and the store, as ``--list`` sees them."""
    options = Options(profile="quick", sets=list(sets), out=project.root / "_build")
    return plan_all(project, options, OutputPaths.under(options.out), validate(project, options))


def invariants_of(project):
    """The section invariants as a build hands them to its runner."""
    return lambda name, data: project.section(name).invariants(data)


def run_tiny(project, *sets, **runner_options):
    units, store = plan_tiny(project, *sets)
    runner = Runner(store, project.root / "_build" / "logs", invariants_of(project),
                    **{"show_progress": False, **runner_options})
    return runner.run(units)


def write_section(project, source: str) -> None:
    (project.root / "tiny_sections" / "counting.py").write_text(source)
    sys.modules.pop("tiny_sections.counting", None)  # the next import reads the new source


def section_that_raises(error: str) -> str:
    """The tiny section with its ``run`` raising ``error`` (an expression) before it counts."""
    return TINY_SECTION.replace("    numbers = list(", f"    raise {error}\n    numbers = list(")


@pytest.fixture
def ran(tiny):
    """The tiny project with its one unit run and stored."""
    (result,) = run_tiny(tiny)
    return tiny, result


def test_a_missing_result_is_planned_to_run_and_then_stored_with_where_when_and_how_long(tiny):
    (unit,), _ = plan_tiny(tiny)
    assert (unit.label, unit.freshness, unit.reasons, unit.stored) == (
        "counting[seed=0]", Freshness.MISSING, ("no stored result",), None)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    (result,) = run_tiny(tiny)
    assert result.outcome is Outcome.RAN and result.error == "" and result.log_path is None
    assert result.record.data == {"numbers": [1, 2, 3], "total": 6}
    meta = result.record.meta
    assert meta["profile_config"] == {"seed": 0, "upto": 3}
    assert meta["worker"] == f"{socket.gethostname()}:{os.getpid()}"
    assert before <= datetime.fromisoformat(meta["finished"]) <= before + timedelta(minutes=1)
    assert "." not in meta["finished"]  # to the second, as the report prints it
    assert 0 < result.wall_time == meta["wall_time"] < 60


def test_a_stored_result_with_the_same_fingerprint_is_fresh_and_is_what_the_plan_holds(ran):
    project, result = ran
    (unit,), _ = plan_tiny(project)
    assert (unit.freshness, unit.reasons) == (Freshness.FRESH, ())
    assert unit.stored == result.record and unit.fingerprint == result.record.fingerprint


def test_a_changed_config_is_stale_naming_the_key_and_both_values(ran):
    project, _ = ran
    (unit,), _ = plan_tiny(project, "counting.upto=4")
    assert (unit.freshness, unit.reasons) == (Freshness.STALE, ("config upto: 3 -> 4",))
    assert unit.stored is not None  # the old result is still there to show


def test_a_result_whose_fingerprint_differs_for_no_named_reason_is_still_stale(ran):
    project, result = ran
    (unit,), store = plan_tiny(project)
    staged = store.stage("counting")
    store.commit("counting", 0, staged, fingerprint="from an older engine", parts=unit.parts,
                 data=result.record.data, meta=result.record.meta)
    (unit,), _ = plan_tiny(project)
    assert (unit.freshness, unit.reasons) == (Freshness.STALE, ("fingerprint changed",))


def test_a_corrupt_record_is_planned_for_recomputation_saying_what_is_wrong(ran):
    project, _ = ran
    record = project.root / "_build" / "results" / "quick" / "counting" / "seed-0.json"
    record.write_text(record.read_text()[:40])
    (unit,), _ = plan_tiny(project)
    assert unit.freshness is Freshness.CORRUPT and unit.stored is None
    assert unit.reasons[0].startswith(f"{record} is not valid JSON")


def test_each_seed_is_a_unit_of_its_own_in_the_order_given(tiny):
    results = run_tiny(tiny, "counting.seeds=[3,1]")
    assert [r.label for r in results] == ["counting[seed=3]", "counting[seed=1]"]
    assert [r.record.meta["profile_config"]["seed"] for r in results] == [3, 1]


def test_a_serial_run_says_which_unit_it_is_running(tiny, caplog):
    caplog.set_level("INFO", logger="report")
    run_tiny(tiny)
    assert "running counting[seed=0]" in caplog.messages


def test_a_failed_unit_writes_its_traceback_to_a_log_named_after_it(tiny):
    write_section(tiny, section_that_raises('RuntimeError(f"the count to {config.upto} went wrong")'))
    units, store = plan_tiny(tiny, "counting.seeds=[2,3]")
    logs = tiny.root / "_build" / "logs" / "of" / "this" / "build"
    results = Runner(store, logs, invariants_of(tiny), show_progress=False).run(units)
    for result, seed in zip(results, (2, 3)):
        assert (result.outcome, result.record, result.error) == (
            Outcome.FAILED, None, "RuntimeError: the count to 3 went wrong")
        assert not result.user_error
        assert result.log_path == logs / f"counting-seed-{seed}.log"
        log = result.log_path.read_text()
        assert log.startswith("Traceback (most recent call last):") and "the count to 3 went wrong" in log


def test_a_failed_rerun_keeps_the_last_good_result_and_the_next_plan_reruns_it(ran):
    project, good = ran
    write_section(project, section_that_raises('RuntimeError("the count went wrong")'))
    (failed,) = run_tiny(project, "counting.upto=4")
    assert failed.outcome is Outcome.FAILED
    (unit,), _ = plan_tiny(project)  # back to the good result's own config
    assert unit.freshness is Freshness.STALE
    assert unit.reasons == ("the last run failed: RuntimeError: the count went wrong",)
    assert unit.stored.data == good.record.data


def test_a_fault_the_user_must_fix_is_marked_as_theirs(tiny):
    write_section(tiny, section_that_raises('__import__("report.errors").errors.DataError("no data", "add it")'))
    (result,) = run_tiny(tiny)
    assert result.outcome is Outcome.FAILED and result.user_error
    assert result.error.startswith("DataError: no data")


DEVICE_AND_FILES = TINY_SECTION.replace("    return {", """\
    (ctx.artifact_dir / "notes.txt").write_text("counted")
    (ctx.artifact_dir / "scratch").mkdir()
    return {"device": ctx.device, "quiet": not ctx.show_progress, """)


def test_the_section_gets_the_device_and_its_files_are_stored_with_its_result(tiny):
    write_section(tiny, DEVICE_AND_FILES)
    (result,) = run_tiny(tiny, device="cpu")
    assert result.record.data["device"] == "cpu" and result.record.data["quiet"]
    assert sorted(p.name for p in result.record.artifact_dir.iterdir()) == ["notes.txt"]
    assert (result.record.artifact_dir / "notes.txt").read_text() == "counted"


PROGRESS = TINY_SECTION.replace("    return {", """\
    list(ctx.progress(range(3), desc="counting up"))
    return {"device": ctx.device, """)


def test_a_serial_run_shows_the_section_s_progress_bar_unless_quiet(tiny, capsys):
    write_section(tiny, PROGRESS)
    run_tiny(tiny, show_progress=False)
    assert "counting up" not in capsys.readouterr().err
    run_tiny(tiny, "counting.upto=4", show_progress=True)
    assert "counting up" in capsys.readouterr().err


THREADS = TINY_SECTION.replace("    return {", """\
    import os
    return {"threads": os.environ["OMP_NUM_THREADS"], "device": ctx.device,
            "fresh": not globals().get("SET_BY_THE_BUILD", False), """)


def test_seeds_in_a_process_pool_run_in_workers_with_their_share_of_the_cores(tiny, monkeypatch, capsys):
    write_section(tiny, THREADS)
    monkeypatch.setattr(runner_module.os, "cpu_count", lambda: 4)
    units, store = plan_tiny(tiny, "counting.seeds=[1,2]")
    sys.modules["tiny_sections.counting"].SET_BY_THE_BUILD = True  # a forked worker would inherit it
    results = Runner(store, tiny.root / "logs", invariants_of(tiny), device="cpu", jobs=2, show_progress=False).run(units)
    assert [r.outcome for r in results] == [Outcome.RAN, Outcome.RAN]
    assert [r.label for r in results] == ["counting[seed=1]", "counting[seed=2]"]
    assert {r.record.data["threads"] for r in results} == {"2"}  # 4 cores, 2 jobs
    assert all(r.record.data["fresh"] and r.record.data["device"] == "cpu" for r in results)  # spawned, not forked
    assert all(r.record.data["total"] == 6 for r in results)
    assert all(not r.record.meta["worker"].endswith(f":{os.getpid()}") for r in results)
    assert "sections" not in capsys.readouterr().err  # quiet: no bar


KILLED_ON_SEED_2 = TINY_SECTION.replace("    numbers = list(", """\
    if config.seed == 2:
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    numbers = list(""")


def test_a_worker_killed_under_its_unit_fails_that_unit_only_naming_the_likely_cause(tiny):
    write_section(tiny, KILLED_ON_SEED_2)
    units, store = plan_tiny(tiny, "counting.seeds=[1,2,3,4]")
    logs = tiny.root / "logs"
    results = Runner(store, logs, invariants_of(tiny), jobs=2, show_progress=False).run(units)
    assert [r.outcome for r in results] == [Outcome.RAN, Outcome.FAILED, Outcome.RAN, Outcome.RAN]
    failed = results[1]
    assert failed.error == ("the worker process running this unit died: it was killed by SIGKILL, most likely by "
                            "the system's out-of-memory killer; run fewer units at once (--jobs) or give the build "
                            "more memory")
    assert failed.log_path.read_text().startswith(failed.error)
    assert store.last_failure("counting", 2) == failed.error  # the next build reruns it
    assert [r.record.data["total"] for r in results if r.record] == [6, 6, 6]


@pytest.mark.parametrize("exit_code,how", [
    (-11, "it was killed by SIGSEGV (a crash in native code, or another process)"),
    (-40, "it was killed by signal 40 (a crash in native code, or another process)"),
    (3, "it exited with code 3 before sending a result"),
])
def test_a_worker_that_died_otherwise_is_described_by_its_exit_code(exit_code, how):
    assert worker_died(exit_code).error == f"the worker process running this unit died: {how}"


def test_a_pool_worker_limits_each_math_library_to_its_thread_share(monkeypatch):
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    limit_threads(3)
    assert [os.environ[v] for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")] == ["3"] * 3


SLEEPS = TINY_SECTION.replace("    numbers = list(", """\
    import os, pathlib, time
    (pathlib.Path(os.environ["UNITS_STARTED"]) / str(os.getpid())).touch()
    time.sleep(120)
    numbers = list(""")

TINY_BUILD = """\
import sys
from pathlib import Path
from report.cli import main
from report.project import Project
ROOT = Path(__file__).resolve().parent
PROJECT = Project(root=ROOT, sections={"counting": "tiny_sections.counting"}, templates=ROOT / "templates")
if __name__ == "__main__":  # not in the workers, which import this file as __mp_main__
    sys.exit(main(PROJECT))
"""


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has ended; its reaper may be slow)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and alive(int(p.name))
            and int(Path(p, "stat").read_text().rpartition(")")[2].split()[1]) == pid]


def eventually(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
@pytest.mark.parametrize("signum,send", [
    (signal.SIGTERM, os.kill), (signal.SIGINT, os.kill), (signal.SIGHUP, os.kill), (signal.SIGKILL, os.kill),
    (signal.SIGINT, os.killpg),  # Ctrl-C in a terminal: to the build and its workers alike
], ids=["SIGTERM", "SIGINT", "SIGHUP", "SIGKILL", "Ctrl-C"])
def test_worker_processes_end_with_the_build_whatever_signal_ends_it(tiny, tmp_path, signum, send):
    write_section(tiny, SLEEPS)
    (tiny.root / "build.py").write_text(TINY_BUILD)
    started, temp = tmp_path / "started", tmp_path / "temp"
    started.mkdir(), temp.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tiny.root)]), "UNITS_STARTED": str(started),
           "TMPDIR": str(temp)}
    build = subprocess.Popen([sys.executable, "build.py", "--profile", "quick", "--jobs", "2", "--quiet", "--to", "md",
                              "--set", "counting.seeds=[1,2,3]"], cwd=tiny.root, env=env, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        assert eventually(lambda: len(list(started.iterdir())) == 2, 60), "the two workers never started"
        descendants = children(build.pid)
        send(build.pid, signum)
        _, err = build.communicate(timeout=10)  # not waiting for the units to finish
    finally:
        build.kill()
    assert eventually(lambda: not any(map(alive, descendants)), 5), "a worker outlived the build"
    if signum != signal.SIGKILL:  # a killed build cannot tidy up
        assert (build.returncode, err) == (130, "running counting[seed=1]\nrunning counting[seed=2]\n"
                                           "interrupted: the stored results and the last report are unchanged\n")
        assert list(temp.iterdir()) == []


@pytest.mark.parametrize("cores,units,jobs", [(None, 4, 1), (1, 4, 1), (2, 4, 1), (3, 4, 1), (4, 4, 2),
                                              (16, 3, 3), (16, 20, 8), (16, 0, 1)])
def test_by_default_small_machines_run_one_job_and_larger_ones_half_their_cores(monkeypatch, cores, units, jobs):
    monkeypatch.setattr(runner_module.os, "cpu_count", lambda: cores)
    assert default_jobs(units) == jobs


class FakeClient:
    """A stand-in ``distributed.Client`` whose executor is a thread pool in this process."""

    calls = []

    def __init__(self, address, timeout):
        self.calls.append((address, timeout))

    def get_executor(self):
        return ThreadPoolExecutor(2)

    def scheduler_info(self):
        return {"workers": {"tcp://worker:40000": {}}}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_dask_scheduler_runs_every_unit_and_the_results_land_as_in_a_local_run(tiny, monkeypatch, capsys):
    monkeypatch.setattr("distributed.Client", FakeClient)
    FakeClient.calls = []
    write_section(tiny, PROGRESS)
    results = run_tiny(tiny, "counting.seeds=[1,2]", scheduler="tcp://cluster:8786", show_progress=True,
                       device="cpu")
    assert FakeClient.calls == [("tcp://cluster:8786", "10s")]  # a silent scheduler is given up on
    assert [(r.label, r.outcome, r.record.data["total"], r.record.data["device"]) for r in results] == [
        ("counting[seed=1]", Outcome.RAN, 6, "cpu"), ("counting[seed=2]", Outcome.RAN, 6, "cpu")]
    err = capsys.readouterr().err
    assert err.startswith("sections: started, 2 to do\nsections: finished 2 in ")  # one step over the units
    assert "counting up" not in err  # no bars from the workers


def test_an_unreachable_dask_scheduler_is_a_usage_error_with_the_address_and_a_fix(tiny, monkeypatch):
    def unreachable(address, timeout):
        raise OSError("timed out")
    monkeypatch.setattr("distributed.Client", unreachable)
    with pytest.raises(UsageError) as caught:
        run_tiny(tiny, scheduler="tcp://nowhere:8786")
    assert caught.value.message == "cannot reach the Dask scheduler at tcp://nowhere:8786: timed out"
    assert caught.value.hint == "start it with `dask scheduler` or check the address"


def test_a_dask_scheduler_without_workers_is_waited_for_saying_so_then_given_up_on(tiny, caplog):
    from distributed import LocalCluster

    caplog.set_level("WARNING", logger="report")
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        start = time.monotonic()
        with pytest.raises(UsageError) as caught:
            run_tiny(tiny, scheduler=address, worker_timeout=0.5)
    assert time.monotonic() - start < 10
    assert caplog.messages == [f"waiting up to 0.5 s for a worker to join the Dask scheduler at {address}"]
    assert caught.value.message == f"no Dask worker joined the scheduler at {address} in 0.5 s"
    assert caught.value.hint == f"start one with `dask worker {address}`, or wait longer with --worker-timeout SECONDS"
    (unit,), _ = plan_tiny(tiny)
    assert unit.freshness is Freshness.MISSING  # nothing ran, nothing was marked failed


def test_dask_without_its_extra_installed_says_how_to_install_it(tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(UsageError) as caught:
        run_tiny(tiny, scheduler="tcp://cluster:8786")
    assert caught.value.message == "--executor dask needs the dask extra"
    assert caught.value.hint == 'install it with pip install -e ".[dask]"'


def test_with_nothing_to_run_no_scheduler_is_contacted(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert Runner(None, tmp_path, lambda name, data: [], scheduler="tcp://cluster:8786").run([]) == []


def test_a_store_that_cannot_be_written_ends_the_run_and_starts_none_of_the_units_waiting(tiny, monkeypatch):
    units, store = plan_tiny(tiny, "counting.seeds=[1,2,3]")
    started = []

    def slow_unit(module, config, device, show_progress, libraries=()):
        started.append(config.seed)
        time.sleep(0.2)  # the first result is refused while the second unit runs and the third waits
        return runner_module.Payload({"numbers": [1], "total": 1})

    def full_disk(*args, **kwargs):
        raise OutputError("no space left on the store")
    monkeypatch.setattr(runner_module, "execute_unit", slow_unit)
    monkeypatch.setattr(store, "save", full_disk)
    runner = Runner(store, tiny.root / "logs", invariants_of(tiny), show_progress=False)
    with ThreadPoolExecutor(1) as pool, pytest.raises(OutputError):
        runner._run_on(pool, units)
    assert started == [1, 2]
