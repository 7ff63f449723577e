"""The child side of the crash test: `soca-kiosk <argv>` with the given pipes as stdin and stdout.

Run through multiprocessing's forkserver with `kiosk.cli` preloaded, so each of
the hundreds of killed processes starts in milliseconds instead of a second,
while still being a separate process running the real command-line entry point
on real file descriptors.
"""

from __future__ import annotations

import io
import os
import sys
from multiprocessing.connection import Connection


def run_cli(argv: list[str], stdin: Connection, stdout: Connection) -> None:
    """Bind the pipes to fds 0 and 1, then run the kiosk command line exactly as installed."""
    os.dup2(stdin.fileno(), 0)
    os.dup2(stdout.fileno(), 1)
    stdin.close()
    stdout.close()
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
    sys.argv = ["soca-kiosk", *argv]
    from kiosk.cli import main

    main()
