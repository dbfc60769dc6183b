"""Terminal output: progress bars on a terminal, plain log lines otherwise, nothing with ``--quiet``.

Every long stage reports through :class:`Reporter`, which also writes to the run's log file when one is set.
"""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

log = logging.getLogger("stressgan")


class Reporter:
    """Progress and messages for one command.

    Parameters
    ----------
    quiet : bool
        Print nothing but errors.
    log_file : path, optional
        Append timestamped log lines here as well.
    """

    def __init__(self, quiet: bool = False, log_file: Path | None = None) -> None:
        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False)
        if not self.err.is_terminal:  # logs and pipes: no wrapping of long lines
            self.err = Console(stderr=True, highlight=False, width=200)
        self.out = Console(highlight=False)
        self.interactive = self.err.is_terminal and not quiet
        self._handler: logging.Handler | None = None
        log.setLevel(logging.INFO)
        if log_file is not None:
            self.attach_log(log_file)

    def attach_log(self, log_file: Path) -> None:
        """Also write log lines to ``log_file`` (appending)."""
        self.detach_log()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        h = logging.FileHandler(log_file, encoding="utf-8")
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        log.addHandler(h)
        self._handler = h

    def detach_log(self) -> None:
        if self._handler is not None:
            log.removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def info(self, msg: str) -> None:
        """A status line (stderr), also logged."""
        log.info(msg)
        if not self.quiet:
            self.err.print(msg, markup=False)

    def warn(self, msg: str) -> None:
        log.warning(msg)
        self.err.print(f"warning: {msg}", markup=False)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator["ProgressTask"]:
        """A progress bar on a terminal; a start and an end log line otherwise."""
        log.info("%s: started", description)
        if self.interactive:
            cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn()]
            with Progress(*cols, console=self.err, transient=False) as p:
                task = p.add_task(description, total=total)
                yield ProgressTask(lambda n: p.advance(task, n))
        else:
            if not self.quiet:
                print(f"{description} ...", file=sys.stderr, flush=True)
            yield ProgressTask(lambda n: None)
        log.info("%s: done", description)


class ProgressTask:
    """Handle passed to the body of :meth:`Reporter.progress`."""

    def __init__(self, advance) -> None:
        self._advance = advance

    def advance(self, n: int = 1) -> None:
        self._advance(n)
