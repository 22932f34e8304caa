"""Bad input gets one clear paragraph and exit code 2, before anything runs."""
import pytest

from report.cli import main


@pytest.mark.parametrize("argv,message", [
    (["nosuch"], "unknown section 'nosuch'; valid sections: "),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["--set", "toy_mlp.lr"], "malformed --set"),
    (["--set", "toy_mlp.lr=fast"], "is not a valid float"),
    (["--set", "toy_mlp.nosuch=1"], "valid keys:"),
    (["--set", "toy_mlp.lr=-1"], "lr and init_std must be > 0"),
    (["--set", "toy_mlp.max_epochs=0"], "must be at least 1"),
    (["--to", "docx"], "unknown output format docx"),
    (["--jobs", "0"], "--jobs must be at least 1"),
])
def test_bad_input_exits_2_with_a_message(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "hint:" in err


def test_out_pointing_at_the_source_tree_is_refused(capsys):
    from report.fingerprint import PROJECT_ROOT

    for out in (PROJECT_ROOT, PROJECT_ROOT / "report", PROJECT_ROOT / "templates" / "x"):
        assert main(["--out", str(out)]) == 2
        assert "source tree" in capsys.readouterr().err


def test_unwritable_out_is_refused(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["--out", str(blocker / "sub")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err
