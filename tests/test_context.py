"""What a running section is handed: its artifact folder, figures saved there, a progress bar."""
import os
import subprocess
import sys

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from report.context import Context, check_figure_backend  # noqa: E402
from report.errors import UsageError  # noqa: E402


def test_the_artifact_folder_is_made_and_a_figure_is_saved_there_as_png_and_closed(tmp_path):
    ctx = Context(str(tmp_path / "art" / "deep"))
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    assert ctx.save_figure(fig, "loss") == "loss.png"
    assert not plt.fignum_exists(fig.number)
    with Image.open(tmp_path / "art" / "deep" / "loss.png") as image:
        assert image.format == "PNG" and round(image.info["dpi"][0]) == 150


def test_a_figure_can_be_saved_at_another_resolution(tmp_path):
    fig, _ = plt.subplots(figsize=(2, 1))
    Context(tmp_path).save_figure(fig, "sharp", dpi=300)
    with Image.open(tmp_path / "sharp.png") as image:
        assert round(image.info["dpi"][0]) == 300


def test_the_progress_bar_is_silent_when_the_build_asked_for_quiet(tmp_path, capsys):
    assert list(Context(tmp_path, show_progress=False).progress(range(3), desc="epochs")) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    bar = Context(tmp_path).progress(total=4, desc="epochs")
    bar.update(4)
    bar.close()
    err = capsys.readouterr().err  # not a terminal here: a line as the step starts and ends
    assert err.startswith("epochs: started, 4 to do\nepochs: finished 4 in ") and "\r" not in err


def test_a_section_s_log_messages_go_through_the_build_s_own_report_logger(tmp_path):
    assert Context(tmp_path).log.name == "report.section"  # below "report", which the command line prints


@pytest.mark.parametrize("name", ["", "Agg", "pdf", "svg", "module://my_backend"])
def test_a_backend_matplotlib_knows_or_none_is_accepted(name, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", name)
    check_figure_backend()


def test_an_unknown_backend_is_refused_naming_the_variable_and_the_fix(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "nonsense")
    with pytest.raises(UsageError, match="the environment variable MPLBACKEND='nonsense' names no"
                                         " matplotlib backend") as error:
        check_figure_backend()
    assert error.value.hint.startswith("unset MPLBACKEND")


def test_an_unknown_backend_is_refused_where_matplotlib_itself_cannot_be_imported():
    code = "from report.context import check_figure_backend; check_figure_backend()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "MPLBACKEND": "nonsense"})
    assert "UsageError: the environment variable MPLBACKEND='nonsense'" in result.stderr


def test_a_rerun_reuses_an_existing_artifact_folder(tmp_path):
    Context(tmp_path / "art")
    assert Context(tmp_path / "art").artifact_dir == tmp_path / "art"


def test_a_checked_backend_stays_named_in_the_environment(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "svg")
    check_figure_backend()
    assert os.environ["MPLBACKEND"] == "svg"


def test_an_unknown_backend_s_hint_says_how_to_draw_off_screen(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "nonsense")
    with pytest.raises(UsageError) as error:
        check_figure_backend()
    assert error.value.hint == ("unset MPLBACKEND (figures are then drawn off-screen with Agg), or set it to a "
                                "backend matplotlib knows, such as MPLBACKEND=Agg")
    assert os.environ["MPLBACKEND"] == "nonsense"
