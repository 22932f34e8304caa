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


class Clock:
    """``time`` for report.progress: ``perf_counter`` reads ``now``, which a test moves."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def perf_counter(self) -> float:
        return self.now


def steps(monkeypatch, seconds: float, count: int, total=None, desc="train", iterable=None) -> list[str]:
    """The lines of a step that does ``count`` items in ``seconds``."""
    clock, log = Clock(), io.StringIO()
    monkeypatch.setattr("report.progress.time", clock)
    bar = progress(iterable, total=total, desc=desc, stream=log)
    clock.now += seconds
    bar.update(count)
    bar.close()
    return log.getvalue().splitlines()


def test_a_finished_step_says_its_count_its_time_and_its_rate(monkeypatch):
    assert steps(monkeypatch, 0.5, 300, total=300) == ["train: started, 300 to do",
                                                       "train: finished 300 in 0.5 s (600/s)"]


def test_a_rate_of_ten_or_more_a_second_is_whole_and_one_below_ten_has_two_decimals(monkeypatch):
    assert steps(monkeypatch, 2.0, 20_000)[-1] == "train: finished 20,000 in 2.0 s (10,000/s)"
    assert steps(monkeypatch, 1.0, 10)[-1] == "train: finished 10 in 1.0 s (10/s)"
    assert steps(monkeypatch, 2.0, 19)[-1] == "train: finished 19 in 2.0 s (9.50/s)"


def test_a_step_that_took_no_measurable_time_has_an_infinite_rate(monkeypatch):
    assert steps(monkeypatch, 0.0, 5)[-1] == "train: finished 5 in 0.0 s (inf/s)"
    assert steps(monkeypatch, 0.5, 5)[-1] == "train: finished 5 in 0.5 s (10/s)"


def test_a_step_stopped_before_its_first_item_gives_no_rate(monkeypatch):
    assert steps(monkeypatch, 1.0, 0, total=5)[-1] == "train: stopped at 0 of 5 in 1.0 s"


def test_a_step_without_a_total_or_a_name_starts_plainly_and_is_called_progress(monkeypatch):
    assert steps(monkeypatch, 1.0, 3, desc="") == ["progress: started", "progress: finished 3 in 1.0 s (3.00/s)"]


def test_a_wrapped_sized_iterable_gives_the_total_unless_one_is_given(monkeypatch):
    assert steps(monkeypatch, 1.0, 5, iterable=range(5))[0] == "train: started, 5 to do"
    assert steps(monkeypatch, 1.0, 5, iterable=range(1000), total=5)[0] == "train: started, 5 to do"


def test_a_stream_that_cannot_say_whether_it_is_a_terminal_gets_lines():
    class Pipe:  # a writer with no isatty
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    pipe = Pipe()
    with progress(total=2, desc="epochs", stream=pipe) as bar:
        bar.update(2)
    assert isinstance(bar, StepLines) and pipe.text.startswith("epochs: started, 2 to do\n")
