"""Rate-limit benchmark: what one counted attempt costs, and a crowd's logins from one address.

    uv run python bench/ratelimit.py                   # both engines
    uv run python bench/ratelimit.py --engine postgresql --attempts 2000 --threads 8

Each attempt is what a successful login pays the limiter: `reserve` of its
(address, account) rule, watching the address's rule (one upsert, reads of
the windows, a commit), then `release` and a commit, from `--threads`
threads on separate connections, as a crowd's concurrent logins from one
venue address would. Every attempt has its own account, so none is refused.
`--fail` makes every attempt a failure instead: `record` on the address's
shared row, the one row a crowd's failures all update.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.api.ratelimit import RateLimiter, Rules
from server.db import migrate
from server.db.session import make_session_factory
from server.devtools import scratch_database
from server.settings import ServerSettings

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _run(kind: str, attempts: int, threads: int, fail: bool) -> tuple[float, float, float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(kind, POSTGRES, Path(folder)) as (_url, engine),
    ):
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        settings = ServerSettings(
            database_url="sqlite://", secret_key="bench", login_failures_per_address=10**9
        )
        limiter = RateLimiter(Rules.from_settings(settings))
        rules = limiter.rules

        def attempt(n: int) -> float:
            started = time.perf_counter()
            with factory() as session:
                limiter.reserve(
                    session,
                    [
                        (rules.login_account, f"192.0.2.1|fan{n}@x.example"),
                        (rules.login_address, "192.0.2.1"),
                    ],
                )
            return (time.perf_counter() - started) * 1000

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            times = sorted(pool.map(attempt, range(attempts)))
        elapsed = time.perf_counter() - began
    return attempts / elapsed, statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    """Print one row per engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--fail", action="store_true", help="every attempt fails")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    what = "failed" if args.fail else "successful"
    print(f"{args.attempts} {what} logins from one address, {args.threads} threads")
    print(f"{'engine':<12}{'attempts/s':>12}{'p50 ms':>9}{'p95 ms':>9}")
    for kind in kinds:
        rate, p50, p95 = _run(kind, args.attempts, args.threads, args.fail)
        print(f"{kind:<12}{rate:>12,.0f}{p50:>9.2f}{p95:>9.2f}")


if __name__ == "__main__":
    main()
