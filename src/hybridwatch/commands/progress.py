"""Progress on stderr for long work: a live counter per file, silent with --quiet or when piped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from rich.console import Console
from rich.progress import (
    BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
)


@contextmanager
def record_progress(label: str, *, quiet: bool) -> Iterator[Callable[[int], None]]:
    """Yield a callback taking "records read so far"; shows a spinner, count and rate on stderr."""
    from hybridwatch.commands.base import quiet_requested

    console = Console(stderr=True)
    if quiet or quiet_requested() or not console.is_terminal:
        yield lambda _n: None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,.0f} records"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.update(task, completed=n)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
