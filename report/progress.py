"""Progress as its reader sees it: a live bar on a terminal, one line per step anywhere else.

A redirected log or a CI console cannot redraw a line, so tqdm's carriage-return updates pile
up there (a full build wrote 109 KB of them). Off a terminal each step prints a line when it
starts and one when it ends, with its count, time and rate:

    >>> with progress(total=300, desc="srn_anb2n") as bar:
    ...     bar.update(300)
    srn_anb2n: started, 300 to do
    srn_anb2n: finished 300 in 0.4 s (750/s)
"""
from __future__ import annotations

import math
import sys
import time
from typing import IO

from tqdm.auto import tqdm


def progress(iterable=None, total: int | None = None, desc: str = "", enabled: bool = True,
             stream: IO[str] | None = None, **kwargs):
    """A bar with tqdm's interface (iterate, ``update``, ``n``, ``close``, ``with``): tqdm on a
    terminal, ``StepLines`` elsewhere, silent when not ``enabled`` (``--quiet``, a worker)."""
    stream = stream or sys.stderr
    if not enabled:
        return tqdm(iterable, total=total, disable=True)
    if is_terminal(stream):
        return tqdm(iterable, total=total, desc=desc, file=stream, leave=False, dynamic_ncols=True,
                    **kwargs)
    return StepLines(iterable, total, desc, stream)


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class StepLines:
    """tqdm's interface, writing one line when the step starts and one when it ends."""

    def __init__(self, iterable, total: int | None, desc: str, stream: IO[str]):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.stream = iterable, total, desc or "progress", stream
        self.n, self.closed, self.started = 0, False, time.perf_counter()
        self._write(f"started, {total:,} to do" if total else "started")

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.n += 1
        finally:
            self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        seconds = time.perf_counter() - self.started
        done = "finished" if self.total is None or self.n >= self.total else "stopped at"
        of = f" of {self.total:,}" if self.total and self.n < self.total else ""
        rate = f" ({_rate(self.n, seconds)})" if self.n else ""
        self._write(f"{done} {self.n:,}{of} in {seconds:.1f} s{rate}")

    def __enter__(self) -> "StepLines":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, text: str) -> None:
        self.stream.write(f"{self.desc}: {text}\n")
        self.stream.flush()


def _rate(count: int, seconds: float) -> str:
    per_second = count / seconds if seconds > 0 else math.inf
    return f"{per_second:,.0f}/s" if per_second >= 10 else f"{per_second:.2f}/s"
