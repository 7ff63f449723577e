"""Prize tablet benchmark: pulling a branch's cards into the cache, and cardholder search.

    uv run python bench/prize_tablet.py                  # 20,000 cards, 300 searches
    uv run python bench/prize_tablet.py --cards 5000 --searches 100

The cards arrive through `Cache.apply_page` in pages of 5000, as a pull
brings them (each with its holder's name and handle); searches go through
`Cache.search_cards` as the prize screen's "Phone dead?" box calls it, with
words people type (name prefixes, two words, a handle, nobody).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.wire import CardRow, OfferRow, PullResponse
from kiosk.store.cache import Cache

PAGE = 5000
FIRST = ("Marcus", "Zoë", "Keisha", "Andre", "Shanice", "Kwame", "Aaliyah", "Devon", "Brianna")
LAST = ("Boyce", "Baptiste", "Charles", "Joseph", "Williams", "Phillip", "Ramsaran", "Alleyne")
QUERIES = ("marc", "zoe bap", "@fan_1234", "kei", "bri al", "dev ram", "nobody at all")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(cards: int, searches: int, folder: Path) -> None:
    """Fill a cache with `cards` cards of one offer, then time `searches` searches."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    offer = OfferRow(
        id=uuid.uuid4(), branch_id=uuid.uuid4(), name="Fifth coffee free", max_stamps=5
    )
    rows = [
        CardRow(
            offer_id=offer.id,
            user_id=uuid.uuid4(),
            current_stamps=index % 5,
            last_activity_at=now,
            holder_name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {index}",
            handle=f"fan_{index}",
        )
        for index in range(cards)
    ]
    cache = Cache.open(folder / "cache.sqlite3", busy_timeout_ms=5000)
    try:
        started = time.perf_counter()
        for start in range(0, cards, PAGE):
            page = PullResponse(
                cursor=str(start),
                more=start + PAGE < cards,
                server_time=now,
                offers=[offer] if start == 0 else [],
                cards=rows[start : start + PAGE],
            )
            cache.apply_page(page, ack_mark=0)
        filled = time.perf_counter() - started
        times = []
        for _ in range(searches):
            query = rng.choice(QUERIES)
            started = time.perf_counter()
            cache.search_cards(offer.id, query, limit=20)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        cache.close()
    print(
        f"prize tablet, {cards:,} cards, Python {platform.python_version()}, {platform.machine()}"
    )
    print(f"pull into the cache (pages of {PAGE}): {filled * 1000:,.0f} ms")
    print(
        f"cardholder search, {searches} queries: p50 {_percentile(times, 0.5):.2f} ms, "
        f"p95 {_percentile(times, 0.95):.2f} ms, max {max(times):.2f} ms"
    )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prize-bench-") as folder:
        run(args.cards, args.searches, Path(folder))


if __name__ == "__main__":
    main()
