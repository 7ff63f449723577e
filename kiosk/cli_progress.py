"""What `soca-kiosk sync` and `pair` show while they sync: progress, and retries in words.

On a terminal a rich progress display (ops sent of those pending, rows and
pages pulled) runs on standard error and disappears when the sync ends; a log
or a pipe gets plain lines instead, one per pulled page from the second on
(a large pull) and one per batch of a long push. While a request is retried,
stamina's own `retry_scheduled` log line is replaced, for the duration, by
one sentence per retry (`kiosk.sync.client.describe_retry`).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from stamina.instrumentation import (
    RetryDetails,
    RetryHook,
    RetryHookFactory,
    get_on_retry_hooks,
    set_on_retry_hooks,
)

from kiosk.sync.client import describe_retry
from kiosk.sync.synchronizer import SyncProgress


def describe_progress(progress: SyncProgress) -> str:
    """ "sent 500 of 1,234 op(s)" while pushing, else "pulled 12,000 row(s) in 3 page(s)"."""
    if progress.pages == 0:
        return f"sent {progress.pushed:,} of {progress.to_push:,} op(s)"
    return f"pulled {progress.rows:,} row(s) in {progress.pages:,} page(s)"


class SyncDisplay:
    """A context manager: `update` is the synchronizer's `on_progress`; retries are printed."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._previous_hooks: tuple[RetryHook | RetryHookFactory, ...] = ()

    def __enter__(self) -> SyncDisplay:
        self._previous_hooks = get_on_retry_hooks()
        set_on_retry_hooks([self.retry])
        if self.console.is_terminal:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("syncing…", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        set_on_retry_hooks(self._previous_hooks)
        if self._bar is not None:
            self._bar.stop()

    def update(self, progress: SyncProgress) -> None:
        """Show how far the sync is (called after each pushed batch and pulled page)."""
        text = describe_progress(progress)
        if self._bar is not None and self._task is not None:
            pushing = progress.pages == 0
            total = progress.to_push if pushing else None
            done = progress.pushed if pushing else progress.pages
            self._bar.update(self._task, description=text, total=total, completed=done)
            return
        pushing_more = progress.pages == 0 and progress.pushed < progress.to_push
        if pushing_more or progress.pages >= 2:
            self.console.print(f"{text}…")

    def retry(self, details: RetryDetails) -> None:
        """One stamina retry, in words."""
        self.console.print(describe_retry(details))
