"""A pool worker's own set-up: its thread share, its scratch folder, Ctrl-C left to the build, and
its end when the build is gone (these run in the worker, so the builds' tests never reach them)."""
import os
import signal
import tempfile
import threading
import time

import pytest

from report import runner as runner_module


def test_a_worker_ends_itself_with_exit_code_1_within_half_a_second_of_its_build_going(monkeypatch):
    parents, naps = iter([4242, 4242, 1]), []  # the build, twice, then init: the build died
    monkeypatch.setattr(os, "getppid", lambda: next(parents))
    monkeypatch.setattr(time, "sleep", naps.append)

    def exit_now(code):
        raise SystemExit(code)
    monkeypatch.setattr(os, "_exit", exit_now)
    with pytest.raises(SystemExit) as ended:
        runner_module._exit_when_orphaned(4242)
    assert ended.value.code == 1 and naps == [0.5, 0.5]


def test_a_worker_takes_its_thread_share_and_the_scratch_folder_ignores_ctrl_c_and_watches_its_build(
        monkeypatch, tmp_path):
    watching = []
    started = threading.Event()

    def watch(build_pid):  # in place of the real watch, which would end this test's process
        watching.append((build_pid, threading.current_thread().daemon))
        started.set()
    monkeypatch.setattr(runner_module, "_exit_when_orphaned", watch)
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, "16")
    previous = signal.getsignal(signal.SIGINT)
    try:
        runner_module.start_worker(2, str(tmp_path), 4242)
        ignores_ctrl_c = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert [os.environ[v] for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")] == ["2"] * 3
    assert tempfile.gettempdir() == str(tmp_path) and ignores_ctrl_c
    assert started.wait(5) and watching == [(4242, True)]  # a daemon: it never keeps a finished worker alive
