"""Decide what is stale, run what must run (here, in local worker processes, or on a Dask cluster), store it.

A *unit* is one section run with one seed. Units are independent, so the same
``execute_unit`` runs in this process, in a local worker process, or on a Dask worker; it
returns the result as data plus artifact bytes, and only this process writes the store.

Local workers never outlive the build: interrupted, it kills them; killed itself, they
notice and exit. A worker that dies under its unit (the out-of-memory killer, a crash in
native code) fails that unit only, saying how it died; the other units go on.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from report import config as configs
from report import fingerprint, machine
from report.atomic import write_atomic
from report.context import Context
from report.errors import BuildError, UsageError
from report.progress import progress
from report.project import Project
from report.section import SectionSpec
from report.status import Freshness, Outcome
from report.store import CorruptRecord, DamagedArtifacts, Record, Store
from report.units import Result, Unit

log = logging.getLogger("report")


@dataclass
class Payload:
    """What a unit run sends back: result data and artifact bytes, or the error."""

    data: dict | None
    files: dict[str, bytes] = field(default_factory=dict)
    wall_time: float = 0.0
    error: str = ""
    traceback: str = ""
    user_error: bool = False
    worker: str = ""  # host:pid of the process that ran the unit
    machine: dict = field(default_factory=dict)  # machine.describe() of where it ran


def plan(project: Project, profile: str, sets: dict[str, dict[str, str]], store: Store,
         memo: fingerprint.HashMemo) -> list[Unit]:
    """Every unit of every section, with its freshness and the reasons it is not fresh."""
    versions = fingerprint.library_versions(project.libraries)
    modules = tuple(project.section(name).module for name in project.names)
    units = []
    for name in project.names:
        section = project.section(name)
        base = configs.resolve(section, profile, sets.get(name, {}))
        for seed in configs.seeds(section, base, sets.get(name, {})):
            config = dataclasses.replace(base, seed=seed)
            parts = fingerprint.parts(section.module, configs.as_json(config, for_fingerprint=True),
                                      section.input_files(config), memo, root=project.root, versions=versions,
                                      sections=modules)
            units.append(_plan_unit(section, config, parts, store))
    return units


def _plan_unit(section: SectionSpec, config, parts: dict, store: Store) -> Unit:
    digest = fingerprint.digest(parts)

    def unit(freshness: Freshness, reasons: list[str], stored: Record | None) -> Unit:
        return Unit(section.name, config.seed, section.module, config, digest, parts, freshness,
                    tuple(reasons), stored)

    try:
        stored = store.load(section.name, config.seed)
    except DamagedArtifacts as exc:  # its numbers are sound: shown as stale, without those figures
        return unit(Freshness.STALE, [str(exc)], exc.record)
    except CorruptRecord as exc:
        return unit(Freshness.CORRUPT, [str(exc)], None)
    if stored is None:
        return unit(Freshness.MISSING, ["no stored result"], None)
    failure = store.last_failure(section.name, config.seed)
    if failure is not None:
        return unit(Freshness.STALE, [f"the last run failed: {failure}"], stored)
    if stored.fingerprint == digest:
        return unit(Freshness.FRESH, [], stored)
    return unit(Freshness.STALE, fingerprint.reasons(stored.parts, parts) or ["fingerprint changed"], stored)


def execute_unit(module_name: str, config, device: str, show_progress: bool,
                 libraries: tuple[str, ...] = ()) -> Payload:
    """Run one unit anywhere (this process, a pool worker, a Dask worker); never raises.
    ``libraries`` are the project's: the machine's description names their builds and threads."""
    module = importlib.import_module(module_name)
    with tempfile.TemporaryDirectory(prefix="unit-") as tmp:
        ctx = Context(Path(tmp), device=device, show_progress=show_progress)
        start = time.perf_counter()
        try:
            data = module.run(config, ctx)
        except Exception as exc:  # a failing section must not take the build down
            return Payload(None, wall_time=time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}",
                           traceback=traceback.format_exc(), user_error=isinstance(exc, BuildError))
        wall = time.perf_counter() - start
        files = {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir()) if f.is_file()}
    return Payload(data, files, wall, worker=f"{socket.gethostname()}:{os.getpid()}",
                   machine=machine.describe(libraries, data.get("device", device)))


def limit_threads(threads: int) -> None:
    """Give each job its share of the cores, before torch loads."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


def start_worker(threads: int, scratch: str, build_pid: int) -> None:
    """Worker initializer: its share of the cores; temporary files in the build's scratch
    folder, which the build removes even when it had to kill the worker; Ctrl-C left to the
    build, which ends its workers; and an end of its own when the build dies."""
    limit_threads(threads)
    tempfile.tempdir = scratch
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(build_pid,), daemon=True).start()


def _exit_when_orphaned(build_pid: int) -> None:
    """End this worker once the build is gone, however it ended (SIGKILL and SIGHUP included):
    a process's parent changes only when its parent dies. Polling works on every system."""
    while os.getppid() == build_pid:
        time.sleep(0.5)
    os._exit(1)


class Worker:
    """One spawned process running one unit at a time: a process pool of one.

    A pool of several breaks as a whole when one of its processes dies, losing every unit it
    holds without saying which one was to blame; a pool of one loses only the unit it runs.
    """

    def __init__(self, threads: int, scratch: str):
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=start_worker, initargs=(threads, scratch, os.getpid()))

    def submit(self, unit: Unit, device: str, libraries: tuple[str, ...] = ()) -> Future:
        return self.pool.submit(execute_unit, unit.module, unit.config, device, False, libraries)

    def _processes(self) -> list:
        # ProcessPoolExecutor keeps its processes only here (Python 3.14 adds kill_workers)
        return list(self.pool._processes.values())

    def exit_code(self) -> int:
        """How the process of a broken worker ended (negative: the signal that killed it)."""
        (process,) = self._processes()
        self.pool.shutdown()  # waits until the process has been reaped, so its exit code is set
        return process.exitcode

    def kill(self) -> None:
        for process in self._processes():
            process.kill()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class LocalPool:
    """``jobs`` workers, each running one unit at a time; one that dies is replaced."""

    def __init__(self, jobs: int):
        self.threads = max(1, (os.cpu_count() or 1) // jobs)
        self.scratch = tempfile.TemporaryDirectory(prefix="workers-")
        self.idle = [self._worker() for _ in range(jobs)]
        self.busy: dict[Future, Worker] = {}

    def _worker(self) -> Worker:
        return Worker(self.threads, self.scratch.name)

    def submit(self, unit: Unit, device: str, libraries: tuple[str, ...] = ()) -> Future:
        """Start ``unit`` on an idle worker (there must be one); ``libraries`` as for ``execute_unit``."""
        worker = self.idle.pop()
        future = worker.submit(unit, device, libraries)
        self.busy[future] = worker
        return future

    def payload(self, future: Future) -> Payload:
        """What a finished unit sent back, or why its worker could not send anything."""
        worker = self.busy.pop(future)
        try:
            payload = future.result()
        except BrokenProcessPool:
            payload = worker_died(worker.exit_code())
            worker = self._worker()
        self.idle.append(worker)
        return payload

    def kill(self) -> None:
        for worker in self.busy.values():
            worker.kill()

    def close(self) -> None:
        for worker in [*self.idle, *self.busy.values()]:
            worker.close()
        self.scratch.cleanup()


@contextmanager
def local_pool(jobs: int) -> Iterator[LocalPool]:
    """A ``LocalPool`` whose workers are killed, not waited for, when the build is interrupted
    (Ctrl-C, SIGTERM): a unit cut short has nothing worth keeping."""
    pool = LocalPool(jobs)
    try:
        yield pool
    except BaseException:
        pool.kill()
        raise
    finally:
        pool.close()


def worker_died(exit_code: int) -> Payload:
    """The failure of a unit whose worker process died under it: how it died, and the likely cause."""
    if exit_code == -signal.SIGKILL:
        how = ("it was killed by SIGKILL, most likely by the system's out-of-memory killer; "
               "run fewer units at once (--jobs) or give the build more memory")
    elif exit_code < 0:
        how = f"it was killed by {_signal_name(-exit_code)} (a crash in native code, or another process)"
    else:
        how = f"it exited with code {exit_code} before sending a result"
    error = f"the worker process running this unit died: {how}"
    return Payload(None, error=error, traceback=f"{error}\n\nA killed process leaves no traceback.\n")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has a number only
        return f"signal {number}"


def default_jobs(units: int) -> int:
    """One job on small machines (PyTorch's own threads use the cores); else half the cores."""
    cores = os.cpu_count() or 1  # pragma: no mutate (1 or 2 cores: both give one job)
    return 1 if cores <= 2 else max(1, min(units, cores // 2))  # pragma: no mutate (at 2 or 3 cores both branches give 1)


def capped_jobs(asked: int, units: int) -> int:
    """``--jobs`` no larger than the units to run and the cores to run them on, saying so."""
    most = max(1, min(units, os.cpu_count() or 1))
    if asked > most:
        log.warning("--jobs %d: running %d at a time (%d units to run, %d cores)", asked, most, units,
                    os.cpu_count() or 1)
    return min(asked, most)


@dataclass
class Runner:
    """Runs stale units, commits the results whose invariants hold, and says what became of each.

    A result that breaks its section's invariants is never committed: the last good result
    stays in the store, and the unit is marked failed so the next build reruns it.
    """

    store: Store
    log_dir: Path
    invariants: Callable[[str, dict], list[str]]  # (section, data) -> what does not hold
    device: str = "auto"
    jobs: int = 1
    scheduler: str | None = None
    show_progress: bool = True
    worker_timeout: float = 60.0  # seconds to wait for a first Dask worker
    libraries: tuple[str, ...] = ()  # the project's, named in each result's machine description

    def run(self, units: list[Unit]) -> list[Result]:
        """One result per unit, in the order given."""
        if not units:
            return []
        if self.scheduler:
            with self._dask_client() as client:
                return self._run_on(client.get_executor(), units)
        if self.jobs > 1 and len(units) > 1:
            with local_pool(self.jobs) as pool:
                return self._run_in(pool, units)
        results = []
        for unit in units:
            log.info("running %s", unit.label)
            results.append(self._finish(unit, execute_unit(unit.module, unit.config, self.device,
                                                           self.show_progress, self.libraries)))
        return results

    def _run_on(self, executor: Executor, units: list[Unit]) -> list[Result]:
        progress_in_workers = False  # pragma: no mutate (no bars in workers: None is as false as False)
        futures = {executor.submit(execute_unit, u.module, u.config, self.device, progress_in_workers,
                                   self.libraries): u for u in units}
        finished = {}
        with self._progress(len(units)) as bar:
            try:
                for future in as_completed(futures):
                    unit = futures[future]
                    finished[unit.label] = self._finish(unit, future.result())
                    bar.update()
            except BaseException:  # a full disk ends the build: start none of the units still waiting
                for future in futures:
                    future.cancel()
                raise
        return [finished[u.label] for u in units]

    def _run_in(self, pool: LocalPool, units: list[Unit]) -> list[Result]:
        """Each unit on the next idle worker, in the order given."""
        waiting, running, finished = list(reversed(units)), {}, {}
        with self._progress(len(units)) as bar:
            while waiting or running:
                while waiting and pool.idle:
                    unit = waiting.pop()
                    log.info("running %s", unit.label)
                    running[pool.submit(unit, self.device, self.libraries)] = unit
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    unit = running.pop(future)
                    finished[unit.label] = self._finish(unit, pool.payload(future))
                    bar.update()
        return [finished[u.label] for u in units]

    def _progress(self, total: int):
        return progress(total=total, desc="sections", enabled=self.show_progress)

    def _dask_client(self):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs the dask extra",
                             'install it with pip install -e ".[dask]"') from None
        try:
            client = Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}",
                             "start it with `dask scheduler` or check the address") from None
        self._wait_for_a_worker(client)
        return client

    def _wait_for_a_worker(self, client) -> None:
        """Units sent to a scheduler without workers would wait for ever, and the build's lock with them."""
        if client.scheduler_info()["workers"]:
            return
        log.warning("waiting up to %g s for a worker to join the Dask scheduler at %s", self.worker_timeout,
                    self.scheduler)
        try:
            client.wait_for_workers(1, timeout=self.worker_timeout)
        except TimeoutError:
            client.close()
            raise UsageError(f"no Dask worker joined the scheduler at {self.scheduler} in {self.worker_timeout:g} s",
                             f"start one with `dask worker {self.scheduler}`, or wait longer with "
                             "--worker-timeout SECONDS") from None

    def _finish(self, unit: Unit, payload: Payload) -> Result:
        if payload.data is None:
            return self._fail(unit, payload, payload.error, payload.traceback)
        problems = self.invariants(unit.section, payload.data)
        if problems:
            error = "invariants do not hold: " + "; ".join(problems)
            return self._fail(unit, payload, error, f"{error}\n\nThe result was not stored.\n")
        meta = {"wall_time": payload.wall_time, "profile_config": configs.as_json(unit.config),
                "worker": payload.worker, "machine": payload.machine,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        record = self.store.save(unit.section, unit.seed, payload.files, fingerprint=unit.fingerprint,
                                 parts=unit.parts, data=payload.data, meta=meta)
        return Result(unit, Outcome.RAN, record, payload.wall_time)

    def _fail(self, unit: Unit, payload: Payload, error: str, log_text: str) -> Result:
        self.store.mark_failed(unit.section, unit.seed, error)
        return Result(unit, Outcome.FAILED, None, payload.wall_time, error, payload.user_error,
                      self._write_log(unit, log_text))

    def _write_log(self, unit: Unit, text: str) -> Path:
        path = self.log_dir / f"{unit.section}-seed-{unit.seed}.log"
        write_atomic(path, text.encode("utf-8"))  # pragma: no mutate (codec names are case-blind)
        return path
