"""Failures stay contained, interruptions lose nothing, corruption is detected, bad input is answered."""
import gzip
import os
import signal
import subprocess
import sys
import time

import pytest
import shutil

from conftest import KMNIST_FILES, KMNIST_ROOT, copy_project, needs_kmnist, run_build, summary_rows

from report.store import Store

pytestmark = pytest.mark.e2e  # runs `python build.py` in a subprocess

@pytest.fixture
def built(tmp_path):
    project = copy_project(tmp_path / "project")
    result = run_build(project, "toy_mlp", "--profile", "quick", "--quiet")
    assert result.returncode == 0, result.stderr
    return project


def test_a_failed_rerun_keeps_the_last_good_result_and_the_next_build_reruns_it(built):
    source = built / "experiments" / "toy_mlp" / "section.py"
    original = source.read_text()
    source.write_text(original.replace("    xy, target = points()\n    trained =",
                                       "    raise RuntimeError('boom')\n    xy, target = points()\n    trained =", 1))
    failed = run_build(built, "toy_mlp", "--profile", "quick", "--quiet")
    assert failed.returncode == 1 and "boom" in failed.stderr
    assert Store(built / "_build" / "results", "quick").load("toy_mlp", 0) is not None
    source.write_text(original)  # the stored result matches this source again, but the last run failed
    listed = run_build(built, "--list", "--profile", "quick")
    assert "the last run failed" in listed.stdout
    rerun = run_build(built, "toy_mlp", "--profile", "quick", "--quiet")
    assert rerun.returncode == 0 and summary_rows(rerun.stderr)["toy_mlp"] == "ran"


def test_a_corrupt_result_is_reported_and_recomputed(built):
    record = built / "_build" / "results" / "quick" / "toy_mlp" / "seed-0.json"
    record.write_text(record.read_text().replace('"attempts": 1', '"attempts": 2'))
    result = run_build(built, "toy_mlp", "--profile", "quick", "--quiet")
    assert result.returncode == 0 and "checksum mismatch" in result.stderr
    assert summary_rows(result.stderr)["toy_mlp"] == "ran"
    assert Store(built / "_build" / "results", "quick").load("toy_mlp", 0) is not None


def test_a_template_error_names_the_template_and_line_and_keeps_the_report(built):
    template = built / "templates" / "toy_mlp.qmd.j2"
    before = (built / "_build" / "report.html").read_text()
    template.write_text(template.read_text() + "\n{{ r.toy_mlp.no_such_value | num }}\n")
    result = run_build(built, "toy_mlp", "--profile", "quick", "--quiet")
    lines = len(template.read_text().splitlines())
    assert result.returncode == 2 and f"toy_mlp.qmd.j2:{lines}: undefined" in result.stderr
    assert (built / "_build" / "report.html").read_text() == before


def test_a_second_build_waits_for_the_lock(built):
    import fcntl

    with open(built / "_build" / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        process = subprocess.Popen([sys.executable, "build.py", "toy_mlp", "--profile", "quick", "--quiet"],
                                   cwd=built, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "PYTHONPATH": str(built)})
        time.sleep(3)
        assert process.poll() is None  # still waiting
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and "another build is using" in stderr


def test_a_missing_renderer_is_a_clear_error(built):
    result = run_build(built, "toy_mlp", "--profile", "quick", "--engine", "quarto")
    assert result.returncode == 2 and "no `quarto` executable" in result.stderr


def report_is_whole(out) -> bool:
    html, pdf = (out / "report.html").read_bytes(), (out / "report.pdf").read_bytes()
    return html.rstrip().endswith(b"</html>") and pdf.rstrip().endswith(b"%%EOF")


def test_killing_a_build_at_any_moment_leaves_store_and_report_consistent(built):
    out = built / "_build"
    env = {**os.environ, "PYTHONPATH": str(built), "MPLBACKEND": "Agg"}
    delays = [0.25 + 0.2 * i for i in range(22)]  # from start-up through training, figures, rendering
    for delay in delays:
        process = subprocess.Popen([sys.executable, "build.py", "toy_mlp", "--profile", "quick", "--force",
                                    "--quiet"], cwd=built, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert report_is_whole(out), f"report damaged by a kill after {delay:.2f} s"
        record = Store(out / "results", "quick").load("toy_mlp", 0)  # raises if half-written
        assert record is not None and (record.artifact_dir / "points.png").exists()
    result = run_build(built, "toy_mlp", "--profile", "quick", "--quiet")
    assert result.returncode == 0 and summary_rows(result.stderr)["toy_mlp"] in ("cached", "ran")
    assert report_is_whole(out)


@needs_kmnist
def test_a_corrupt_dataset_file_is_refused_with_exit_2(built, tmp_path):
    raw = tmp_path / "kmnist" / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in KMNIST_FILES:
        shutil.copy(KMNIST_ROOT / "KMNIST" / "raw" / name, raw / name)
    damaged = raw / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    result = run_build(built, "kmnist", "--profile", "quick", "--quiet", "--set", f"kmnist.data_dir={raw.parent.parent}")
    assert result.returncode == 2
    assert f"{damaged} is not the official one" in result.stderr and "hint: replace it" in result.stderr


@needs_kmnist
def test_zeroed_labels_in_an_uncompressed_copy_change_no_result(tmp_path):
    project = copy_project(tmp_path / "project")
    raw = tmp_path / "kmnist" / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in KMNIST_FILES:  # the official files, and the copies torchvision extracts beside them
        shutil.copy(KMNIST_ROOT / "KMNIST" / "raw" / name, raw / name)
        (raw / name.removesuffix(".gz")).write_bytes(gzip.decompress((raw / name).read_bytes()))
    copy = raw / "t10k-labels-idx1-ubyte"
    copy.write_bytes(copy.read_bytes()[:8] + bytes(10_000))  # every test label 0
    result = run_build(project, "kmnist", "--profile", "quick", "--quiet", "--to", "md",
                       "--set", "kmnist.models=[lin]", "--set", f"kmnist.data_dir={raw.parent.parent}")
    assert result.returncode == 0, result.stderr
    assert f"kmnist: {copy} does not hold the content of the official" in result.stderr
    record = Store(project / "_build" / "results", "quick").load("kmnist", 1)
    assert record.data["test_class_counts"] == [50] * 10  # all ten classes, as the .gz has them


def test_without_a_japanese_font_kmnist_stops_before_training_with_one_message(tmp_path):
    from matplotlib import font_manager

    if any("ipaex" in font.lower() for font in font_manager.findSystemFonts()):
        pytest.skip("IPAexGothic is installed system-wide, so no stand-in package can hide it")
    project = copy_project(tmp_path / "project")
    stand_in = project / "matplotlib_fontja"  # found before the installed package; no font in it
    (stand_in / "fonts").mkdir(parents=True)
    (stand_in / "__init__.py").write_text("")
    result = run_build(project, "kmnist", "--profile", "quick", "--quiet", "--to", "md")
    assert result.returncode == 2 and summary_rows(result.stderr)["kmnist"] == "failed"
    assert "but matplotlib finds no font IPAexGothic" in result.stderr
    assert "pip install matplotlib-fontja" in result.stderr
    assert "findfont" not in result.stderr and "Glyph" not in result.stderr
    assert Store(project / "_build" / "results", "quick").load("kmnist", 1) is None


@needs_kmnist
def test_a_nan_loss_stops_the_run_naming_model_epoch_and_settings(built):
    result = run_build(built, "kmnist", "--profile", "quick", "--quiet", "--set", "kmnist.optimizer=sgd",
                       "--set", "kmnist.lr=1e300", "--set", "kmnist.models=[lin]")
    assert result.returncode == 1 and summary_rows(result.stderr)["kmnist"] == "failed"
    message = next(line for line in result.stderr.splitlines() if line.startswith("FAILED kmnist"))
    assert "NetLin" in message and "epoch 1" in message and "lr" in message


def test_ctrl_c_to_the_whole_build_while_pandoc_runs_keeps_the_last_report_and_says_so(built, tmp_path):
    started = tmp_path / "pandoc-started"
    pandoc = tmp_path / "pandoc"  # answers pypandoc's version probe, then renders for ever
    pandoc.write_text(f'#!/bin/sh\n[ "$1" = --version ] && {{ echo "pandoc 3.9"; exit 0; }}\n'
                      f'touch {started}\nexec sleep 120\n')
    pandoc.chmod(0o755)
    out = built / "_build"
    names = ("report.html", "report.pdf", "report.qmd", "ledger.json", "provenance.json")
    before = {name: (out / name).read_bytes() for name in names}
    template = built / "templates" / "toy_mlp.qmd.j2"
    template.write_text(template.read_text() + "\nEdited, so that the report is rendered again.\n")
    env = {**os.environ, "PYTHONPATH": str(built), "MPLBACKEND": "Agg", "PYPANDOC_PANDOC": str(pandoc)}
    process = subprocess.Popen([sys.executable, "build.py", "toy_mlp", "--profile", "quick", "--quiet"], cwd=built,
                               env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the build and pandoc
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == "interrupted: the stored results and the last report are unchanged"
    assert {name: (out / name).read_bytes() for name in names} == before
    assert not list(out.glob(".*staged*"))
