"""How fast the build answers when little or nothing needs computing, and how parallel runs scale.

    python bench/rebuild.py            # all measured in one run, printed as a table with ratios

1. a cached no-op rebuild (goal < 1.5 s wall), and whether it imported torch (it must not);
2. a prose-only template edit: re-render HTML and PDF without running anything (goal < 3 s);
3. a full quick-profile build of every section (forced) with --jobs 1, --jobs 2 and on a Dask
   LocalCluster with two single-threaded workers.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK_TORCH = ("import runpy, sys; from report.cli import main; "
               "code = main(runpy.run_path('build.py')['PROJECT'], sys.argv[1:]); "
               "print('torch imported' if 'torch' in sys.modules else 'torch not imported'); sys.exit(code)")


def timed(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                            env={"KMNIST_ROOT": str(ROOT / "data"), **os.environ, "PYTHONPATH": str(cwd),
                                 "MPLBACKEND": "Agg"})
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{result.stderr[-2000:]}")
    return time.perf_counter() - start, result


def copy_project(target: Path) -> Path:
    target.mkdir(parents=True)
    for part in ("build.py", "experiments", "report", "templates"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / part)
    return target


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    project = copy_project(work / "project")
    out = ["--profile", "quick", "--quiet", "--out", str(work / "out")]
    build = [sys.executable, "build.py", *out]
    first, _ = timed(build, project)
    noop, result = timed([sys.executable, "-c", CHECK_TORCH, *out], project)
    template = project / "templates" / "toy_mlp.qmd.j2"
    template.write_text(template.read_text() + "\nA sentence added to the prose.\n")
    prose, _ = timed(build, project)
    jobs1, _ = timed([*build, "--force", "--jobs", "1"], project)
    jobs2, _ = timed([*build, "--force", "--jobs", "2"], project)
    dask = dask_build(build, project)
    rows = [("first quick build (all sections)", first, ""),
            (f"cached no-op rebuild ({result.stdout.strip().splitlines()[-1]})", noop, "goal < 1.5 s"),
            ("prose-only change: re-render HTML + PDF", prose, "goal < 3 s"),
            ("forced quick build, --jobs 1", jobs1, ""),
            ("forced quick build, --jobs 2", jobs2, f"{jobs1 / jobs2:.2f}x the speed of --jobs 1"),
            ("forced quick build, Dask LocalCluster (2 workers)", dask, f"{jobs1 / dask:.2f}x the speed of --jobs 1")]
    width = max(len(name) for name, _, _ in rows)
    for name, seconds, note in rows:
        print(f"{name:<{width}}  {seconds:7.2f} s  {note}")
    print(f"cached rebuild is {first / noop:.0f}x faster than the first build")
    shutil.rmtree(work, ignore_errors=True)


def dask_build(build: list[str], project: Path) -> float:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        seconds, _ = timed([*build, "--force", "--executor", "dask", "--scheduler", cluster.scheduler_address],
                           project)
    return seconds


if __name__ == "__main__":
    main()
