"""Progress: a live bar on a terminal, one line per step in a log or a CI console."""
import io

from report.progress import StepLines, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_each_step_is_a_line_when_it_starts_and_one_when_it_ends():
    log = io.StringIO()
    with progress(total=300, desc="srn_anb2n", stream=log) as bar:
        for _ in range(3):
            bar.update(100)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "srn_anb2n: started, 300 to do"
    assert lines[1].startswith("srn_anb2n: finished 300 in ") and lines[1].endswith("/s)")
    assert len(lines) == 2


def test_a_wrapped_iterable_counts_its_items_and_closes_when_exhausted():
    log = io.StringIO()
    assert list(progress(range(5), desc="NetLin epoch 1", stream=log)) == [0, 1, 2, 3, 4]
    assert log.getvalue().splitlines()[1].startswith("NetLin epoch 1: finished 5 in ")


def test_a_step_ended_early_says_where_it_stopped_and_is_written_once():
    log = io.StringIO()
    bar = progress(total=200_000, desc="toy_mlp seed 0", stream=log)
    bar.update(787 - bar.n)
    bar.close()
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("toy_mlp seed 0: stopped at 787 of 200,000 in ")


def test_on_a_terminal_the_bar_is_tqdm_redrawn_in_place():
    screen = Terminal()
    with progress(total=3, desc="epochs", stream=screen) as bar:
        bar.update(3)
    assert not isinstance(bar, StepLines) and "\r" in screen.getvalue()


def test_a_silenced_bar_writes_nothing_anywhere():
    for stream in (io.StringIO(), Terminal()):
        assert list(progress(range(3), desc="epochs", enabled=False, stream=stream)) == [0, 1, 2]
        assert stream.getvalue() == ""
