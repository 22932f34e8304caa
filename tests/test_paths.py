"""The output folder's layout: the names the README documents, which a later version must still find."""
from pathlib import Path

from report.paths import OutputPaths


def test_every_file_and_folder_of_the_output_folder_has_its_documented_name():
    root = Path("/tmp/_build")
    paths = OutputPaths.under(root)
    assert {name: getattr(paths, name).relative_to(root).as_posix() for name in OutputPaths.__dataclass_fields__
            if name != "root"} == {
        "results": "results", "logs": "logs", "lock": ".lock", "render_key": ".render-key",
        "hashes": ".cache/hashes.json", "document": "report.qmd", "ledger": "ledger.json",
        "provenance": "provenance.json", "watch": ".watch", "history": "history", "environment": "environment.txt",
        "export_manifest": "report-export.json", "verification": "verification.json", "verify_logs": "logs/verify"}
    assert paths.root == root and paths.report("pdf") == root / "report.pdf"


def test_a_build_replaces_its_bookkeeping_the_document_and_each_format_s_report():
    root = Path("/tmp/_build")
    assert OutputPaths.under(root).written(["html", "pdf"]) == [
        root / ".render-key", root / ".cache" / "hashes.json", root / "report.qmd", root / "ledger.json",
        root / "provenance.json", root / "report.html", root / "report.pdf"]
