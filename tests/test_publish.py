"""The report as one unit: staged, published together, leftovers swept, signals held meanwhile."""
import os
import signal

import pytest

from report.errors import RendererError
from report.fingerprint import sha256_file
from report.paths import OutputPaths
from report.publish import manifest, publish, signals_deferred, stale_outputs, staging


def test_a_signal_in_the_block_is_acted_on_only_after_it():
    received = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
    try:
        with signals_deferred((signal.SIGUSR1,)):
            os.kill(os.getpid(), signal.SIGUSR1)
            assert received == []
        assert received == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_published_files_replace_the_last_ones_and_nothing_staged_stays(tmp_path):
    paths = OutputPaths.under(tmp_path)
    paths.ledger.write_text("old ledger")
    with staging(paths) as stage:
        stage.name(paths.ledger).write_text("new ledger")
        stage.name(paths.report("html")).write_text("new report")
        stage.name(paths.document).with_suffix(".typ").write_text("an intermediate file")
        publish(stage, [paths.ledger, paths.report("html")], paths.render_key, "key")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".render-key", "ledger.json", "report.html"]
    assert paths.ledger.read_text() == "new ledger" and paths.render_key.read_text() == "key"


def test_a_failed_render_keeps_the_last_report_and_the_document_it_failed_on_until_the_next(tmp_path):
    paths = OutputPaths.under(tmp_path)
    paths.report("html").write_text("last report")
    with pytest.raises(RendererError), staging(paths) as stage:
        document = stage.name(paths.document)
        document.write_text("the document")
        stage.name(paths.report("html")).write_text("half a report")
        raise RendererError(f"pandoc failed on {document}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [document.name, "report.html"]
    assert paths.report("html").read_text() == "last report"
    with staging(paths):
        assert not document.exists()  # swept by the next render


def test_report_files_that_do_not_belong_with_the_ledger_are_named_with_how_to_fix_them(tmp_path):
    paths = OutputPaths.under(tmp_path)
    for fmt in ("html", "pdf", "md", "docx", "typ"):
        paths.report(fmt).write_text(f"the {fmt} report")
    outputs = manifest({"md": paths.report("md"), "html": paths.report("html"), "typ": paths.report("typ")})
    assert list(outputs) == ["html", "md", "typ"] and outputs["html"] == sha256_file(paths.report("html"))
    paths.report("md").write_text("edited by hand")
    paths.report("typ").unlink()
    assert stale_outputs(paths, outputs, ["html", "md", "typ", "pdf", "docx", "epub"]) == {
        "md": "report.md is not the file the last build wrote with this ledger (changed since, or a build was killed "
              "while replacing the report); rebuild with `python build.py`",
        "typ": "report.typ is missing; the next `python build.py` writes it again",
        "pdf": "report.pdf is left from an earlier build: the last build wrote html, md, typ only; rebuild with "
               "`--to html,md,typ,pdf`, or delete it",
        "docx": "report.docx is left from an earlier build: the last build wrote html, md, typ only; rebuild with "
                "`--to html,md,typ,docx`, or delete it"}
    assert stale_outputs(paths, None, ["html", "pdf"]) == {}  # built before provenance listed its outputs


def test_a_render_sweeps_what_a_killed_one_left_folders_included_but_never_follows_a_link(tmp_path):
    paths = OutputPaths.under(tmp_path / "out")
    paths.root.mkdir()
    kept = tmp_path / "kept"
    (kept / "inside").mkdir(parents=True)
    left_folder = paths.root / ".report.staged-0123456789ab_files"  # quarto's <name>_files folder
    (left_folder / "libs").mkdir(parents=True)
    (left_folder / "libs" / "a.js").write_text("js")
    (paths.root / ".report.staged-ba9876543210_files").symlink_to(kept, target_is_directory=True)
    (paths.root / ".report.staged-0123456789ab.html").write_text("half a report")
    with staging(paths):
        assert [p.name for p in paths.root.iterdir()] == []
    assert (kept / "inside").is_dir()
