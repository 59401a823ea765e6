"""The progress display on stderr while an audit runs (only when stderr is a terminal): units done
out of the total, API calls made and the calls that waited on a client-side rate limit."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import TextIO

    from relaudit.ratelimit import RateLimiter


def call_counts(limiter: RateLimiter) -> tuple[int, int]:
    """(calls, calls that waited for a token) over every rate-limit bucket of ``limiter``."""
    stats = limiter.stats().values()
    return sum(s.calls for s in stats), sum(s.waited_calls for s in stats)


class RunProgress:
    """A context manager whose instance is run()'s progress callback: ``(done, total, unit)``.

    Args:
        counts: Returns (calls, throttled waits) so far; read on each update.
        stream: Where to draw (default stderr); nothing is drawn when it is not a terminal.
    """

    def __init__(self, counts: Callable[[], tuple[int, int]], stream: TextIO | None = None) -> None:
        self._counts = counts
        self._console = Console(file=stream or sys.stderr, highlight=False)
        self._progress = Progress(
            TextColumn("[bold]auditing"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("units · {task.fields[calls]} calls · {task.fields[waits]} throttled waits"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[unit]}"),
            console=self._console,
            transient=True,
        )
        self._task: TaskID | None = None

    @property
    def enabled(self) -> bool:
        """True when the stream is a terminal (only then is anything drawn)."""
        return self._console.is_terminal

    def __enter__(self) -> RunProgress:
        if self.enabled:
            self._progress.start()
            self._task = self._progress.add_task("audit", total=None, calls=0, waits=0, unit="")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.enabled:
            self._progress.stop()

    def __call__(self, done: int, total: int, unit: str) -> None:
        if self._task is None:
            return
        calls, waits = self._counts()
        self._progress.update(self._task, completed=done, total=total, calls=calls, waits=waits, unit=unit)
