"""The machine a result was computed on: CPU, cores, threads, the libraries' kernel builds, the GPU."""
import os
import sys
from types import ModuleType, SimpleNamespace

import pytest

from report import machine, provenance
from report.pipeline import Options, build

TORCH_CONFIG = """PyTorch built with:
  - GCC 13.3
  - Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build 20240605 for Intel(R) 64 architecture applications
  - Intel(R) MKL-DNN v3.12.0 (Git Hash 80afa71049cd69a3df32adcccb623b12cd7baa22)
  - OpenMP 201511 (a.k.a. OpenMP 4.5)
  - LAPACK is enabled (usually provided by MKL)
  - NNPACK is enabled
  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, LAPACK_INFO=mkl, USE_CUDA=1,
"""


def a_library(name, show, threads=None) -> ModuleType:
    module = ModuleType(name)
    module.__config__ = SimpleNamespace(show=show)
    if threads:
        module.get_num_threads = lambda: threads
    return module


@pytest.fixture
def loaded(monkeypatch):
    """A torch-like and a numpy-like library, as a run would have imported them."""
    def numpy_show(mode="stdout"):  # as numpy's: a dict only when asked for "dicts"
        if mode != "dicts":
            print("Build Dependencies: ...")
            return None
        return {"Build Dependencies": {"blas": {"name": "scipy-openblas", "version": "0.3.31"},
                                       "lapack": {"name": "scipy-openblas", "version": "0.3.31"}}}
    monkeypatch.setitem(sys.modules, "fake_torch", a_library("fake_torch", lambda: TORCH_CONFIG, threads=3))
    monkeypatch.setitem(sys.modules, "fake_numpy", a_library("fake_numpy", numpy_show))
    return ("fake_torch", "fake_numpy", "never_imported")


def test_the_run_names_cpu_cores_threads_and_each_librarys_kernel_builds(loaded):
    facts = machine.describe(loaded, device="cpu")
    assert facts["cores"] == os.cpu_count() and facts["cpu"] and facts["host"]
    assert facts["threads"] == {"fake_torch": 3}
    assert facts["libraries"] == {
        "fake_torch": "BLAS mkl, LAPACK mkl, Intel(R) oneAPI Math Kernel Library Version 2024.2, "
                      "Intel(R) MKL-DNN v3.12.0, OpenMP 201511",
        "fake_numpy": "BLAS scipy-openblas 0.3.31, LAPACK scipy-openblas 0.3.31"}
    assert facts["gpu"] == ""


def test_a_library_not_imported_by_the_run_is_never_imported_to_describe_it(loaded):
    machine.describe(loaded)
    assert "never_imported" not in sys.modules


def test_a_library_whose_introspection_fails_costs_the_run_nothing(monkeypatch):
    def broken():
        raise RuntimeError("no config today")
    monkeypatch.setitem(sys.modules, "fake_broken", a_library("fake_broken", broken))
    assert machine.describe(("fake_broken",))["libraries"] == {}


def fake_nvidia_smi(tmp_path, monkeypatch, listing: str):
    tool = tmp_path / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\nprintf '{listing}'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_a_gpu_is_named_with_its_driver_only_when_the_run_used_one(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, "NVIDIA H100 80GB HBM3, 550.54.15\\n")
    assert machine.describe((), device="cuda:0")["gpu"] == "NVIDIA H100 80GB HBM3 (driver 550.54.15)"
    assert machine.describe((), device="cpu")["gpu"] == ""


def test_one_line_says_where_a_result_was_computed():
    facts = {"host": "box", "cpu": "AMD EPYC", "cores": 16, "threads": {"torch": 1}, "gpu": "NVIDIA H100 (driver 1)"}
    assert machine.one_line(facts) == "box: AMD EPYC, 16 logical cores, 1 thread (torch), NVIDIA H100 (driver 1)"
    assert machine.one_line({}) == "not recorded"


def test_a_tools_version_is_the_first_version_number_it_prints(tmp_path):
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\necho 'pandoc 3.1.11.1'\necho 'Features: +server'\n")
    tool.chmod(0o755)
    assert machine.tool_version([str(tool), "--version"]) == "3.1.11.1"
    assert machine.tool_version([str(tmp_path / "missing")]) == "unknown"


def test_each_stored_result_records_the_machine_it_ran_on(tiny):
    (result,) = build(tiny, Options(profile="quick", out=tiny.root / "_build", to=["md"], show_progress=False)).results
    facts = result.record.meta["machine"]
    assert (facts["host"], facts["cores"]) == (machine.host()["host"], os.cpu_count())


def test_the_provenance_lists_each_machine_once_with_the_runs_it_computed():
    box = {"host": "box", "cpu": "AMD EPYC", "cores": 2, "threads": {"torch": 2}, "libraries": {"torch": "BLAS mkl"},
           "gpu": ""}
    sections = [{"name": "a", "units": [{"seed": 1, "machine": box}, {"seed": 2, "machine": box}]},
                {"name": "b", "units": [{"seed": 0, "machine": {}}, {"seed": 0, "machine": None}]}]
    assert provenance.machines(sections) == [
        {"host": "box", "cpu": "AMD EPYC, 2 logical cores", "threads": "2 threads (torch)",
         "libraries": "torch: BLAS mkl", "gpu": "", "runs": "a seed 1, a seed 2"},
        {"host": "not recorded", "cpu": "", "threads": "", "libraries": "", "gpu": "", "runs": "b seed 0"}]


def an_nvidia_smi(tmp_path, monkeypatch, listing: str):
    """A stand-in that answers only the query the engine asks, as the real tool's CSV."""
    tool = tmp_path / "nvidia-smi"
    tool.write_text('#!/bin/sh\n[ "$*" = "--query-gpu=name,driver_version --format=csv,noheader" ] || exit 2\n'
                    f"printf '{listing}'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_several_gpus_are_named_once_each_in_order_with_the_driver_as_the_last_field(tmp_path, monkeypatch):
    an_nvidia_smi(tmp_path, monkeypatch, "NVIDIA H100, 80GB, 550.54\\nNVIDIA A10, 535.1\\nNVIDIA H100, 80GB, 550.54\\n")
    assert machine.gpu_names() == "NVIDIA A10 (driver 535.1); NVIDIA H100, 80GB (driver 550.54)"


def test_a_cuda_run_without_nvidia_smi_or_without_a_listed_gpu_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert machine.gpu_names() == "a CUDA device (nvidia-smi not found)"
    an_nvidia_smi(tmp_path, monkeypatch, "")
    assert machine.gpu_names() == "a CUDA device (nvidia-smi listed none)"


def test_a_library_without_a_build_listing_is_described_by_its_threads_alone(monkeypatch):
    bare = ModuleType("fake_bare")
    bare.get_num_threads = lambda: 1
    monkeypatch.setitem(sys.modules, "fake_bare", bare)
    monkeypatch.setitem(sys.modules, "fake_silent", a_library("fake_silent", lambda: None))
    monkeypatch.setitem(sys.modules, "fake_no_show", a_library("fake_no_show", None))
    monkeypatch.setitem(sys.modules, "fake_empty", a_library("fake_empty", lambda mode="stdout": {}))
    facts = machine.describe(("fake_bare", "fake_silent", "fake_no_show", "fake_empty"))
    assert (facts["threads"], facts["libraries"]) == ({"fake_bare": 1}, {})


def test_a_numpy_dependency_without_a_name_or_version_is_named_as_far_as_known(monkeypatch):
    dependencies = {"blas": {"name": "accelerate"}, "lapack": {}, "note": "not a dependency"}
    monkeypatch.setitem(sys.modules, "fake_np", a_library("fake_np", lambda mode="stdout": {
        "Build Dependencies": dependencies}))
    assert machine.describe(("fake_np",))["libraries"] == {"fake_np": "BLAS accelerate, LAPACK ?"}


def test_one_line_marks_what_the_facts_lack_and_lists_each_librarys_threads():
    assert machine.one_line({"gpu": ""}) == "?: ?, ? logical cores"
    assert machine.one_line({"host": "box", "cpu": "Xeon", "cores": 4, "threads": {"torch": 2, "numpy": 1}}) == (
        "box: Xeon, 4 logical cores, 2 threads (torch); 1 thread (numpy)")


def test_the_host_is_named_with_its_cpu_cores_and_operating_system(monkeypatch):
    import platform
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # undeterminable
    assert machine.host() == {"host": machine.socket.gethostname(), "cpu": machine.cpu_model(), "cores": 0,
                              "platform": platform.platform()}


def test_on_linux_the_cpu_is_the_model_name_the_kernel_reports(monkeypatch):
    import io
    listing = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7R13: 48-Core Processor\n"
    monkeypatch.setattr(machine, "open", lambda path, encoding: io.StringIO(listing if path == "/proc/cpuinfo"
                                                                             else ""), raising=False)
    assert machine.cpu_model() == "AMD EPYC 7R13: 48-Core Processor"


def test_without_proc_cpuinfo_the_cpu_is_named_by_sysctl_on_macos_else_by_the_platform(tmp_path, monkeypatch):
    import platform

    def no_cpuinfo(path, encoding):
        raise FileNotFoundError(path)
    monkeypatch.setattr(machine, "open", no_cpuinfo, raising=False)
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert machine.cpu_model() == "arm64"
    monkeypatch.setattr(platform, "processor", lambda: "i386")
    assert machine.cpu_model() == "i386"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert machine.cpu_model() == "i386"  # no sysctl
    sysctl = tmp_path / "sysctl"
    sysctl.write_text('#!/bin/sh\n[ "$*" = "-n machdep.cpu.brand_string" ] && echo "Apple M2"\n')
    sysctl.chmod(0o755)
    assert machine.cpu_model() == "Apple M2"


def test_a_hung_tool_is_given_up_on_after_its_timeout(tmp_path, monkeypatch):
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\nsleep 3\necho 'tool 1.2.3'\n")
    tool.chmod(0o755)
    monkeypatch.setattr(machine, "TOOL_TIMEOUT", 0.2)
    assert machine.tool_version([str(tool), "--version"]) == "unknown"
