"""`soca-server serve --workers N`: N uvicorn processes, each with its own listening socket.

uvicorn's own `--workers` shares one socket among its processes, and a burst
of connections is accepted by whichever process wakes first: kiosks keep
their connections alive, so one process can end up serving every kiosk while
the others idle. Here each worker binds its own socket to the same port with
SO_REUSEPORT, and the kernel spreads new connections across them evenly.
The workers join each other's runs of a crowd page through a private folder
the parent makes and removes (`server.web.coalesce_shared`), in memory
(/dev/shm) where the machine has it. The parent only
supervises: it stops every worker on SIGTERM or SIGINT, and
if one worker dies it stops the rest and exits with an error, so a process
manager restarts the whole server.

The listening socket is made with an explicit IPPROTO_TCP and TCP_NODELAY
set. asyncio turns Nagle's algorithm off only on accepted sockets whose
`proto` says TCP, and a socket made with protocol 0 (as uvicorn's own binding
never is) passes 0 on to every connection it accepts: a response written in
two pieces (headers, then body) then waited for the client's delayed ACK,
about 40 ms on every kept-alive request (`GET /health` 48 ms against 5 ms on
a new connection). Linux also copies TCP_NODELAY from the listener to each
accepted socket, so either alone would do; both cost nothing.

Forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are believed only from
the proxies the operator names in SOCA_TRUSTED_PROXIES (`proxy_options`, used
by every worker and by the single-process `serve`); uvicorn's own default
would believe any local process, so a local proxy could pick its own client
address and dodge the rate limits.

Every server process also tunes Python's garbage collector once its app is
built (`tune_gc`): a push of 500 ops keeps a few hundred thousand objects
alive for its request, and with the default thresholds the collector kept
walking them (and the app's own long-lived objects) over and over.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from server.scheduler import ExpiryScheduler, expiry_scheduler
from server.settings import ServerSettings
from server.sync import waiting
from server.wallet.worker import WalletWorker

_BACKLOG = 2048
#: Container allocations between young collections (CPython's default is 700),
#: and young and middle collections between older ones (defaults 10 and 10).
#: `bench/sync.py --cpu --engine postgresql`, with and without `tune_gc()`, run
#: in turn: server CPU per 500-op batch 129 ms against 165 ms, ingest about
#: 3,760 against 3,280 ops/s.
GC_THRESHOLDS = (50_000, 20, 100)


def worker_count(settings: ServerSettings) -> int:
    """How many processes `serve` runs: SOCA_WORKERS, else one per core (one on SQLite)."""
    if settings.workers:
        return settings.workers
    if settings.is_sqlite:
        return 1
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


#: Memory-backed folders for the workers' join folder, the first that exists and may be
#: written: every coalesced page creates and removes a lock file and an answer file there,
#: and on this host's ext4 disk that file work (inode allocation, the journal) took about
#: 8 % of a 200 x 5 crowd's server CPU (README, "Across the worker processes too").
MEMORY_FOLDERS: tuple[str, ...] = ("/dev/shm",)  # noqa: S108 (mkdtemp makes a private folder in it)


def join_folder_parent(candidates: Sequence[str] = MEMORY_FOLDERS) -> str | None:
    """Where `serve` makes its workers' join folder: the first of `candidates` that is a
    folder it may write in, else None (the temporary folder)."""
    for folder in candidates:
        if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def run_workers(host: str, port: int, workers: int) -> int:
    """Run `workers` server processes on host:port until stopped; the exit status."""
    parent = join_folder_parent()
    with tempfile.TemporaryDirectory(prefix="soca-join-", dir=parent) as folder:
        return _supervise(host, port, workers, folder)


def _supervise(host: str, port: int, workers: int, join_folder: str) -> int:
    """Start the workers, stop them all when one ends or a signal asks; the exit status."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_serve_one, args=(host, port, join_folder), name=f"soca-server worker {n}"
        )
        for n in range(1, workers + 1)
    ]
    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.start()
    wait([process.sentinel for process in processes])  # the first to end, for any reason
    if not stopping:
        stop(signal.SIGTERM, None)
    for process in processes:
        process.join()
    return 0 if stopping else 1


class Server(uvicorn.Server):
    """uvicorn's server, which lets every waiting pull answer before it waits for requests to end.

    uvicorn's shutdown stops listening, then waits for each open request; a
    kiosk's waiting pull holds one for up to `PULL_WAIT_SECONDS`, so a restart
    would hang that long (`server.sync.waiting.release_all`).
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """End the waits, then shut down as uvicorn does."""
        waiting.release_all()
        await super().shutdown(sockets)


def run_app(app: Any, **options: Any) -> None:
    """Serve `app` with `uvicorn.Config(**options)`, as `uvicorn.run` does, on our `Server`."""
    server = Server(uvicorn.Config(app, **options))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _serve_one(host: str, port: int, join_folder: str) -> None:
    """One worker: its own SO_REUSEPORT socket, and the app built from the environment."""
    os.environ["SOCA_JOIN_FOLDER"] = join_folder

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(_BACKLOG)
    config = uvicorn.Config(
        "server.serving:worker_app",
        factory=True,
        log_level="info",
        backlog=_BACKLOG,
        **proxy_options(ServerSettings()),
    )
    Server(config).run(sockets=[listener])


def proxy_options(settings: ServerSettings) -> dict[str, Any]:
    """uvicorn's proxy-header options: off unless SOCA_TRUSTED_PROXIES names the proxies."""
    trusted = settings.trusted_proxy_list
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def worker_app() -> FastAPI:
    """The app for one worker process, from the environment, with the collector tuned."""
    from server.app import app_from_environment

    app = app_from_environment()
    start_scheduler(app)
    start_wallet_worker(app)
    tune_gc()
    return app


def start_scheduler(app: FastAPI) -> ExpiryScheduler | None:
    """Start this serving process's expiry scheduler (every process runs one; a claim in
    the database lets one of them do each week's work)."""
    settings = app.state.settings
    scheduler = expiry_scheduler(
        app.state.session_factory,
        schedule=settings.expiry_schedule,
        inactivity_days=settings.pass_inactivity_expiration_days,
    )
    if scheduler is not None:
        scheduler.start()
    return scheduler


def start_wallet_worker(app: FastAPI) -> WalletWorker | None:
    """Start this serving process's wallet worker (None when no wallet is configured)."""
    wallets = app.state.wallets
    if not wallets.any:
        return None
    worker = WalletWorker(app.state.session_factory, wallets)
    worker.start()
    return worker


def tune_gc() -> None:
    """Set a serving process's collector for request-sized bursts of objects.

    Call once, after the app is built: what exists then (modules, routes,
    schemas, mappers) lives as long as the process, so it is frozen out of
    every later collection, and young collections run after `GC_THRESHOLDS`
    allocations instead of 700. Not for tests or short commands, which would
    only keep their garbage longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
