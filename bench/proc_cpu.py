"""CPU and memory of the processes a bench drives, read from /proc (Linux only).

A bench's server runs in its own session (`ServerProcess` starts it with
`start_new_session`), so its processes are the ones whose session id is the
server's pid; PostgreSQL's are the processes named `postgres…` (only a
server on this machine is seen).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def processes() -> Iterator[tuple[Path, str, int, int]]:
    """Every process as (its /proc folder, name, session id, CPU ticks so far)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = rest.split()  # from the state on: session is 4th, utime and stime 12th, 13th
        yield entry, name, int(fields[3]), int(fields[11]) + int(fields[12])


def cpu_seconds(server_session: int) -> tuple[float, float]:
    """CPU seconds used so far by the server's processes and by PostgreSQL's."""
    server = database = 0
    for _folder, name, session, ticks in processes():
        if session == server_session:
            server += ticks
        elif name.startswith("postgres"):
            database += ticks
    tick = os.sysconf("SC_CLK_TCK")
    return server / tick, database / tick


def resident_mb(server_session: int) -> float:
    """The largest resident memory among the server's processes, in MB."""
    largest = 0
    for folder, _name, session, _ticks in processes():
        if session != server_session:
            continue
        try:
            status = (folder / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                largest = max(largest, int(line.split()[1]))
    return largest / 1024
