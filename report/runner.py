"""Decide what is stale, run what must run (here, in a process pool, or on a Dask cluster), store it.

A *unit* is one section run with one seed. Units are independent, so the same
``execute_unit`` runs in this process, in a local process pool, or on a Dask worker; it
returns the result as data plus artifact bytes, and only this process writes the store.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import os
import socket
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm.auto import tqdm

from report import config as configs
from report import fingerprint, machine
from report.context import Context
from report.errors import BuildError, UsageError
from report.project import Project
from report.section import SectionSpec
from report.status import Freshness, Outcome
from report.store import CorruptRecord, Record, Store
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
    units = []
    for name in project.names:
        section = project.section(name)
        base = configs.resolve(section, profile, sets.get(name, {}))
        for seed in configs.seeds(section, base, sets.get(name, {})):
            config = dataclasses.replace(base, seed=seed)
            parts = fingerprint.parts(section.module, configs.as_json(config, for_fingerprint=True),
                                      section.input_files(config), memo, root=project.root, versions=versions)
            units.append(_plan_unit(section, config, parts, store))
    return units


def _plan_unit(section: SectionSpec, config, parts: dict, store: Store) -> Unit:
    digest = fingerprint.digest(parts)

    def unit(freshness: Freshness, reasons: list[str], stored: Record | None) -> Unit:
        return Unit(section.name, config.seed, section.module, config, digest, parts, freshness,
                    tuple(reasons), stored)

    try:
        stored = store.load(section.name, config.seed)
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
    """Pool-worker initializer: give each job its share of the cores, before torch loads."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


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
    libraries: tuple[str, ...] = ()  # the project's, named in each result's machine description

    def run(self, units: list[Unit]) -> list[Result]:
        """One result per unit, in the order given."""
        if not units:
            return []
        if self.scheduler:
            with self._dask_client() as client:
                return self._run_on(client.get_executor(), units)
        if self.jobs > 1 and len(units) > 1:
            threads = max(1, (os.cpu_count() or 1) // self.jobs)
            with ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=limit_threads, initargs=(threads,)) as pool:
                return self._run_on(pool, units)
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
        bar = tqdm(total=len(units), desc="sections", disable=not self.show_progress, leave=False)
        finished = {}
        for future in as_completed(futures):
            unit = futures[future]
            finished[unit.label] = self._finish(unit, future.result())
            bar.update()
        bar.close()
        return [finished[u.label] for u in units]

    def _dask_client(self):
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs the dask extra",
                             'install it with pip install -e ".[dask]"') from None
        try:
            return Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}",
                             "start it with `dask scheduler` or check the address") from None

    def _finish(self, unit: Unit, payload: Payload) -> Result:
        if payload.data is None:
            return self._fail(unit, payload, payload.error, payload.traceback)
        problems = self.invariants(unit.section, payload.data)
        if problems:
            error = "invariants do not hold: " + "; ".join(problems)
            return self._fail(unit, payload, error, f"{error}\n\nThe result was not stored.\n")
        staged = self.store.stage(unit.section)
        for name, content in payload.files.items():
            (staged / name).write_bytes(content)
        meta = {"wall_time": payload.wall_time, "profile_config": configs.as_json(unit.config),
                "worker": payload.worker, "machine": payload.machine,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        record = self.store.commit(unit.section, unit.seed, staged, fingerprint=unit.fingerprint,
                                   parts=unit.parts, data=payload.data, meta=meta)
        return Result(unit, Outcome.RAN, record, payload.wall_time)

    def _fail(self, unit: Unit, payload: Payload, error: str, log_text: str) -> Result:
        self.store.mark_failed(unit.section, unit.seed, error)
        return Result(unit, Outcome.FAILED, None, payload.wall_time, error, payload.user_error,
                      self._write_log(unit, log_text))

    def _write_log(self, unit: Unit, text: str) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / f"{unit.section}-seed-{unit.seed}.log"
        path.write_text(text, encoding="utf-8")  # pragma: no mutate (codec names are case-blind; UTF-8 is the default here)
        return path
