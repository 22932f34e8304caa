"""The machine a result was computed on, or a report rendered on, described as plain data.

    >>> facts = describe(("torch", "numpy"), device="cpu")   # in the process that just ran a unit
    >>> one_line(facts)
    'box-7: AMD EPYC, 2 logical cores, 2 threads (torch), torch BLAS mkl, ...'

The engine knows the project's libraries only by name. It asks a library that the run has
already imported (it never imports one itself) two questions that numerical libraries answer
by convention: ``__config__.show()``, the build configuration that numpy (as a dict) and torch
(as text) report, and ``get_num_threads()``. A GPU is named through ``nvidia-smi`` when the
run's device was a CUDA one.
"""
from __future__ import annotations

import inspect
import os
import platform
import re
import shutil
import socket
import subprocess
import sys

# What a build configuration says about the numerical kernels: BLAS, LAPACK, MKL, oneDNN, OpenMP.
KERNEL_LIBRARY = re.compile(r"BLAS|LAPACK|Math Kernel|MKL|DNN|OpenMP", re.IGNORECASE)
NOT_RECORDED = "not recorded"
TOOL_TIMEOUT = 10  # seconds a tool may take to answer; a hung one must not hang the build


def host() -> dict:
    """This machine without the run: host name, CPU model, logical cores, operating system."""
    return {"host": socket.gethostname(), "cpu": cpu_model(), "cores": os.cpu_count() or 0,
            "platform": platform.platform()}


def describe(libraries: tuple[str, ...], device: str = "cpu") -> dict:  # pragma: no mutate (any default but "cuda...": same facts)
    """This machine as a run on it used it: ``host()``, the threads and kernel builds of the
    project's libraries the run imported, and the GPU when ``device`` is a CUDA one."""
    loaded = {name: sys.modules[name] for name in libraries if name in sys.modules}
    threads = {name: _threads(module) for name, module in loaded.items()}
    builds = {name: _build(module) for name, module in loaded.items()}
    return {**host(), "threads": {name: n for name, n in threads.items() if n},
            "libraries": {name: text for name, text in builds.items() if text},
            "gpu": gpu_names() if str(device).startswith("cuda") else ""}


def one_line(facts: dict) -> str:
    """``describe()``'s facts in one line, for "stored on X, rerun on Y"."""
    if not facts:
        return NOT_RECORDED
    parts = [str(facts.get("cpu", "?")), f"{facts.get('cores', '?')} logical cores"]
    if facts.get("threads"):
        parts.append(threads_text(facts["threads"]))
    if facts.get("gpu"):
        parts.append(facts["gpu"])
    return f"{facts.get('host', '?')}: " + ", ".join(parts)


def threads_text(threads: dict) -> str:
    """``{"torch": 2}`` as ``2 threads (torch)``."""
    return "; ".join(f"{n} thread{'s' if n != 1 else ''} ({name})" for name, n in threads.items())


def cpu_model() -> str:
    """The CPU's marketing name, as the operating system reports it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        return _command(["sysctl", "-n", "machdep.cpu.brand_string"]) or platform.processor()
    return platform.processor() or platform.machine()


def gpu_names() -> str:
    """Each NVIDIA GPU's name and driver, e.g. ``NVIDIA H100 80GB HBM3 (driver 550.54.15)``."""
    if not shutil.which("nvidia-smi"):
        return "a CUDA device (nvidia-smi not found)"
    listing = _command(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
    gpus = [line.rsplit(",", 1) for line in listing.splitlines() if "," in line]
    return "; ".join(sorted({f"{name.strip()} (driver {driver.strip()})" for name, driver in gpus})) or \
        "a CUDA device (nvidia-smi listed none)"


def tool_version(args: list[str]) -> str:
    """The first version number a tool prints, e.g. ``3.1.11`` for ``["pandoc", "--version"]``."""
    found = re.search(r"\d+(\.\d+)+", _command(args))
    return found.group() if found else "unknown"


def _command(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _threads(module) -> int | None:
    count = getattr(module, "get_num_threads", None)
    return count() if callable(count) else None


def _build(module) -> str:
    """The kernel libraries a module was built with, from its ``__config__.show()``."""
    show = getattr(getattr(module, "__config__", None), "show", None)
    if not callable(show):
        return ""
    try:
        if "mode" in inspect.signature(show).parameters:  # numpy: a dict of build dependencies
            return _from_dependencies(show(mode="dicts").get("Build Dependencies", {}))
        return _from_text(show())  # torch: a text listing
    except Exception:  # a library's own introspection must never fail a run
        return ""


def _from_dependencies(dependencies: dict) -> str:
    """numpy's ``{"blas": {"name": ..., "version": ...}, "lapack": {...}}`` as one phrase."""
    return ", ".join(f"{kind.upper()} {info.get('name', '?')} {info.get('version', '')}".strip()
                     for kind, info in dependencies.items() if isinstance(info, dict))


def _from_text(text) -> str:
    """torch's build listing, cut to its kernel libraries and its BLAS/LAPACK settings."""
    if not isinstance(text, str):
        return ""
    components = [_tidy(line.strip(" -")) for line in text.splitlines()
                  if line.startswith("  - ") and KERNEL_LIBRARY.search(line)
                  and not re.search("Build settings|is enabled", line)]
    settings = re.findall(r"\b(BLAS_INFO|LAPACK_INFO)=(\w+)", text)
    return ", ".join([*(f"{key.split('_')[0]} {value}" for key, value in settings), *components])


def _tidy(component: str) -> str:
    """Drop a component's git hash, alias and target phrase: ``Intel(R) MKL-DNN v3.5.3``."""
    component = re.sub(r"\s*\((Git Hash [0-9a-f]+|a\.k\.a\. [^)]*)\)", "", component)
    return re.sub(r"\s*(-Product Build \d+)? for Intel\(R\) 64 architecture applications", "", component)
