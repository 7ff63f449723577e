"""Joining a request to its twin running in another worker process of the same server.

`serve --workers N` runs N processes, and the kernel hands each new
connection to any of them: an attendee's five reloads of /passport land on
both workers of a two-worker server, and each process alone can only join
the copies it was handed. Here the processes share a private folder (made by
`serve`, mode 0700, in the temporary folder) and a leader announces its run
there:

- the leader holds an exclusive `flock` on `<digest>.lock` while the page
  runs, then writes the answer to `<digest>.answer` (atomically, by rename)
  and lets go of the lock;
- a request in another process that finds the lock held waits until it is
  free, then takes the answer if it was finished after that request arrived
  (so it is never an answer from before its time), else runs on its own.

The digest is a hash of the join key (path, query, cookie and the headers the
answer varies on), so the folder names no session. Answers are removed a
second after they are written; a reader that comes later runs on its own.
A leader that dies lets go of its lock with its process. Times are
`time.monotonic()`, one clock for every process of the machine on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import marshal
import os
import sys
import time
from pathlib import Path
from typing import Final

from starlette.types import Message

if sys.platform != "win32":  # the single-process server still starts on Windows
    import fcntl

#: How long a request waits for another process's answer before running on its own.
MAX_WAIT_S: Final = 15.0
#: How long a written answer stays for the waiting readers of other processes.
KEEP_ANSWER_S: Final = 1.0
#: The first pause between looks at a twin's lock, doubled up to `_LONGEST_PAUSE_S`.
_FIRST_PAUSE_S: Final = 0.004
_LONGEST_PAUSE_S: Final = 0.05


class Lease:
    """The exclusive lock a leader holds while its page runs (`SharedFlights.lead`)."""

    def __init__(self, flights: SharedFlights, digest: str, fd: int) -> None:
        self._flights = flights
        self._digest = digest
        self._fd = fd

    def publish(self, messages: list[Message] | None) -> None:
        """Write the answer (None: nothing to share) for other processes, then let go."""
        try:
            if messages is not None:
                self._flights.write_answer(self._digest, messages)
        except (OSError, ValueError):  # a full disk, a body marshal cannot write: not shared
            pass
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self._flights.lock_path(self._digest))
            os.close(self._fd)  # closing lets go of the flock


class SharedFlights:
    """The answers in flight among one server's worker processes, in one private folder.

    Called on the event loop: every file is small and short-lived (the page cache
    keeps it in memory), each operation takes microseconds, and the wait sleeps
    between looks. POSIX only, as `serve --workers` is (SO_REUSEPORT, flock).
    Paths are plain strings: pathlib's objects cost more than the system calls here.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    @staticmethod
    def digest(key: object) -> str:
        """A file name for a join key (it holds a cookie, so it is hashed)."""
        return hashlib.blake2b(repr(key).encode(), digest_size=20).hexdigest()

    def lock_path(self, digest: str) -> str:
        """The file a leader locks."""
        return f"{self.folder}/{digest}.lock"

    def lead(self, digest: str) -> Lease | None:
        """The lease for running this request, or None when another process runs its twin."""
        fd = os.open(self.lock_path(digest), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        return Lease(self, digest, fd)

    async def wait(self, digest: str, arrived: float) -> list[Message] | None:
        """The answer of the twin running elsewhere, or None (run on your own)."""
        deadline = arrived + MAX_WAIT_S
        pause = _FIRST_PAUSE_S
        while time.monotonic() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_S)
            if not self._held(digest):
                return self._read_answer(digest, arrived)
        return None

    def _held(self, digest: str) -> bool:
        """Whether a leader still holds the lock (a lock file gone is a lock let go)."""
        try:
            fd = os.open(self.lock_path(digest), os.O_RDWR)
        except OSError:  # gone: let go of; or unreadable: the reader runs on its own
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)
        return False

    def write_answer(self, digest: str, messages: list[Message]) -> None:
        """Store an answer for the readers waiting in other processes, for `KEEP_ANSWER_S`."""
        path = f"{self.folder}/{digest}.answer"
        partial = f"{self.folder}/{digest}.{os.getpid()}.partial"
        with open(partial, "wb") as file:
            file.write(marshal.dumps((time.monotonic(), messages)))
        os.replace(partial, path)
        asyncio.get_running_loop().call_later(KEEP_ANSWER_S, _remove, path)

    def _read_answer(self, digest: str, arrived: float) -> list[Message] | None:
        """The stored answer if it was finished after `arrived`."""
        try:
            with open(f"{self.folder}/{digest}.answer", "rb") as file:
                stored = file.read()
            finished, messages = marshal.loads(stored)  # noqa: S302 (our folder, mode 0700)
        except (OSError, EOFError, ValueError, TypeError):
            return None
        return messages if finished >= arrived else None


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
