"""The report as one unit: staged, published together, leftovers swept, signals held meanwhile."""
import os
import signal

import pytest

from report.errors import RendererError
from report.paths import OutputPaths
from report.publish import publish, signals_deferred, staging


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
