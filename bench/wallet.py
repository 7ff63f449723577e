"""Wallet benchmark: signed .pkpass files per second, and a synced stamp's push latency.

    uv run python bench/wallet.py                      # 2,000 passes; 500 pushes on SQLite
    uv run python bench/wallet.py --engine postgresql  # the server on PostgreSQL
    uv run python bench/wallet.py --passes 500 --changes 100

1. build: `--passes` stamp-card passes (each its own serial, stamps and token)
   built and signed in this process with a self-made chain (EC P-256 pass key):
   passes per second. Target: >= 200/s.
2. push: a real `soca-server serve` with Apple Wallet configured pushes to a
   local HTTP/2 APNs stand-in (client certificates, as Apple's). `--changes`
   customers each have a card in a wallet with a registered phone; a branch
   device pushes one `pass.stamp` per customer, one after another, and the
   latency is from just before the push request to the stand-in receiving the
   APNs push for that phone: p50, p95, max. Target: p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete

from core.tiers import DEFAULT_CARD_TIERS, card_tier_progress
from core.wire import DeviceRole, DeviceScope
from server.db import migrate
from server.db.models import PassUpdate
from server.db.models.enums import UserRole
from server.db.session import make_session_factory, unit_of_work
from server.devtools import ServerProcess, scratch_database
from server.domain import branches, cards, offers, passport, wallet, wallet_devices
from server.wallet.apple.pkpass import AppleIdentity, build_pkpass
from server.wallet.apple.signing import PassSigner
from server.wallet.content import CardFacts, PassKind, card_content
from tests.server.api.world import _user, business, pair_device
from tests.server.wallet.apns_standin import ApnsStandIn
from tests.server.wallet.certs import PASS_TYPE_ID, TEAM_ID, CertFiles, make_cert_files

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_build(files: CertFiles, count: int) -> tuple[float, float]:
    """Signed passes per second: of wall time, and per CPU second of this process."""
    signer = PassSigner.load(files.cert, files.key, files.wwdr)
    identity = AppleIdentity(PASS_TYPE_ID, TEAM_ID, "https://passport.example/api/wallet/apple")
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        completions = index % 9
        facts = CardFacts(
            uuid.uuid4(),
            "Rum Punch Club",
            "Bar Uno",
            "Free punch",
            index % 6,
            5,
            completions,
            card_tier_progress(completions, DEFAULT_CARD_TIERS),
            False,
        )
        content = card_content(facts, serial=str(uuid.uuid4()), qr=f"QR{index:08d}")
        build_pkpass(content, identity, uuid.uuid4().hex, signer)
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def _arrange(url: str, changes: int) -> tuple[str, list[tuple[str, str]], str]:
    from server.db.session import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    customers: list[tuple[str, str]] = []
    at = datetime.now(UTC) - timedelta(days=1)
    with unit_of_work(factory) as session:
        _owner, shop = business(session)
        branch = branches.create(session, business_id=shop.id, name="Rum Shop")
        offer = offers.create(
            session, branch_id=branch.id, name="Rum Punch Club", prize="Punch", max_stamps=100
        )
        _device, token = pair_device(session, DeviceRole.BRANCH, DeviceScope(branch_id=branch.id))
        for index in range(changes):
            user = _user(session, UserRole.ATTENDEE)
            profile = passport.get_or_create_profile(session, user_id=user.id)
            card = cards.add_stamp(session, offer_id=offer.id, user_id=user.id, occurred_at=at).card
            issued, _ = wallet.issue(
                session, kind=PassKind.CARD, subject_id=card.id, user_id=user.id, secret="bench"
            )
            push_token = f"{index:064x}"
            wallet_devices.register(
                session, device_id=f"phone-{index}", wallet_pass=issued, push_token=push_token
            )
            customers.append((str(profile.qr_token), push_token))
        offer_id = str(offer.id)
    with unit_of_work(factory) as session:  # the set-up's own changes are not part of the run
        session.execute(delete(PassUpdate))
    engine.dispose()
    return token, customers, offer_id


def stamp_body(qr: str, offer_id: str, seq: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    op = {
        "op_id": str(uuid.uuid4()),
        "seq": seq,
        "type": "pass.stamp",
        "occurred_at": now,
        "device_clock": now,
        "payload": {"qr": qr, "offer_id": offer_id},
    }
    return {"device_time": now, "ops": [op]}


def bench_push(
    kind: str, files: CertFiles, changes: int, folder: Path
) -> tuple[list[float], list[float]]:
    """Seconds from each synced stamp to its APNs push arriving; seconds of each push request."""
    apns = ApnsStandIn(files.ca, files.server_cert, files.server_key, files.wwdr).start()
    env = {
        "SOCA_APPLE_PASS_TYPE_ID": PASS_TYPE_ID,
        "SOCA_APPLE_TEAM_ID": TEAM_ID,
        "SOCA_APPLE_CERT_FILE": str(files.cert),
        "SOCA_APPLE_KEY_FILE": str(files.key),
        "SOCA_APPLE_WWDR_FILE": str(files.wwdr),
        "SOCA_APNS_URL": apns.url,
        "SOCA_APNS_CA_FILE": str(files.ca),
        "SOCA_SECRET_KEY": "bench",
    }
    with scratch_database(kind, POSTGRES, folder) as (url, _engine):
        token, customers, offer_id = _arrange(url, changes)
        server = ServerProcess(url, env=env)
        server.start()
        sent: dict[str, float] = {}
        requests: list[float] = []
        try:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                for seq, (qr, push_token) in enumerate(customers, 1):
                    sent[push_token] = time.monotonic()
                    answer = client.post(
                        "/api/v1/sync/push",
                        json=stamp_body(qr, offer_id, seq),
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    requests.append(time.monotonic() - sent[push_token])
                    assert answer.json()["results"][0]["status"] == "applied", answer.text
            apns.wait_for(changes, timeout=60)
        finally:
            server.stop()
            apns.stop()
    arrived = {push.token: push.at for push in apns.pushes}
    missing = set(sent) - set(arrived)
    assert not missing, f"{len(missing)} pushes never arrived"
    return [arrived[t] - sent[t] for t in sent], requests


def main() -> None:
    """Run both measurements and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_cert_files(folder)
        rate, cpu_rate = bench_build(files, args.passes)
        latencies, requests = bench_push(args.engine, files, args.changes, folder)
    print("| measurement | value | target |\n|---|---|---|")
    print(f"| signed .pkpass built ({args.passes}) | {rate:,.0f} passes/s | >= 200/s |")
    print(f"| signed .pkpass per CPU second | {cpu_rate:,.0f} passes/s | |")
    p50 = statistics.median(latencies) * 1000
    p95 = percentile(latencies, 0.95) * 1000
    push = f"stamp -> APNs push ({args.changes}, {args.engine})"
    print(f"| {push} p50 | {p50:,.0f} ms | |")
    print(f"| {push} p95 | {p95:,.0f} ms | <= 2,000 ms |")
    print(f"| {push} max | {max(latencies) * 1000:,.0f} ms | |")
    print(f"| the sync push request alone p50 | {statistics.median(requests) * 1000:,.0f} ms | |")


if __name__ == "__main__":
    main()
