"""The sync client against httpx.MockTransport: the contract, retries, deadlines, classification."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from core.wire import PullResponse, PushRequest
from kiosk.errors import BadResponse, DeviceRevoked, RequestRefused, ServerUnavailable
from kiosk.sync.client import RetryPolicy, SyncClient, _FullJitter, _Transient
from tests.kiosk.fake_server import Drip

FAST = RetryPolicy(attempts=4, deadline_s=5.0, backoff_initial_s=0.001, backoff_max_s=0.005)
EMPTY_PAGE = PullResponse(cursor="7", more=False, server_time=datetime(2025, 3, 1, tzinfo=UTC))


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], policy: RetryPolicy = FAST
) -> tuple[SyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = SyncClient(
        "http://kiosk.test/", token="tok", policy=policy, transport=httpx.MockTransport(record)
    )
    return client, seen


def respond(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def page_response() -> httpx.Response:
    return httpx.Response(200, content=EMPTY_PAGE.model_dump_json())


def test_pull_sends_bearer_token_cursor_and_limit_per_the_contract() -> None:
    client, seen = client_for(respond(page_response()))
    first = client.pull(cursor=None, limit=500)
    client.pull(cursor="abc", limit=10)
    assert first.value == EMPTY_PAGE and first.sent_at <= first.received_at
    assert seen[0].url.path == "/api/v1/sync/pull"
    assert dict(seen[0].url.params) == {"limit": "500"}
    assert dict(seen[1].url.params) == {"limit": "10", "cursor": "abc"}
    assert seen[0].headers["authorization"] == "Bearer tok"


def test_push_posts_the_contract_body() -> None:
    body = '{"server_time": "2025-03-01T00:00:00Z", "results": []}'
    client, seen = client_for(respond(httpx.Response(200, text=body)))
    request = PushRequest(device_time=datetime(2025, 3, 1, tzinfo=UTC), ops=[])
    assert client.push(request).value.results == []
    assert seen[0].method == "POST" and seen[0].url.path == "/api/v1/sync/push"
    assert seen[0].read().startswith(b'{"device_time":"2025-03-01T00:00:00Z","ops":[]')


def test_401_means_device_revoked_and_is_never_retried() -> None:
    client, seen = client_for(respond(httpx.Response(401, json={"detail": "revoked"})))
    with pytest.raises(DeviceRevoked, match="pair it again"):
        client.pull(cursor=None, limit=1)
    assert len(seen) == 1


def test_5xx_is_retried_until_it_succeeds() -> None:
    client, seen = client_for(
        respond(httpx.Response(500), httpx.Response(503), httpx.Response(502), page_response())
    )
    assert client.pull(cursor=None, limit=1).value.cursor == "7"
    assert len(seen) == 4


def test_5xx_on_every_attempt_is_server_unavailable_after_the_attempts() -> None:
    client, seen = client_for(respond(httpx.Response(500)))
    with pytest.raises(ServerUnavailable, match="HTTP 500 on 4 attempt"):
        client.pull(cursor=None, limit=1)
    assert len(seen) == FAST.attempts


def test_network_errors_are_retried_then_server_unavailable() -> None:
    error = httpx.ConnectError("refused")
    client, seen = client_for(respond(error, error, page_response()))
    assert client.pull(cursor=None, limit=1).value.more is False
    client, seen = client_for(respond(error))
    with pytest.raises(ServerUnavailable, match="cannot reach"):
        client.pull(cursor=None, limit=1)
    assert len(seen) == FAST.attempts


def test_429_waits_for_retry_after() -> None:
    client, seen = client_for(
        respond(httpx.Response(429, headers={"Retry-After": "1"}), page_response())
    )
    started = time.monotonic()
    client.pull(cursor=None, limit=1)
    assert len(seen) == 2 and time.monotonic() - started >= 1.0


def test_429_whose_retry_after_passes_the_deadline_is_not_waited_for() -> None:
    client, seen = client_for(respond(httpx.Response(429, headers={"Retry-After": "600"})))
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match="HTTP 429"):
        client.pull(cursor=None, limit=1)
    assert len(seen) == 1 and time.monotonic() - started < 1


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    policy = RetryPolicy(backoff_initial_s=0.5, backoff_max_s=4.0)
    waits: dict[int, list[float]] = {}
    for _ in range(300):
        hook = _FullJitter(policy, time.monotonic() + 3600, only_unsent=False)
        for retry in range(6):
            wait = hook(httpx.ReadTimeout("slow"))
            assert isinstance(wait, float)
            waits.setdefault(retry, []).append(wait)
    for retry, values in waits.items():
        cap = min(4.0, 0.5 * 2**retry)
        assert all(0 <= value <= cap for value in values)
        assert min(values) < cap * 0.2 and max(values) > cap * 0.8  # spread over the whole range
    assert hook(_Transient(429, 2.5)) == 2.5
    assert hook(ValueError("not ours")) is False


def test_other_4xx_is_refused_with_the_servers_detail_and_not_retried() -> None:
    client, seen = client_for(respond(httpx.Response(422, json={"detail": "ops: too many"})))
    with pytest.raises(RequestRefused, match="ops: too many") as caught:
        client.pull(cursor=None, limit=1)
    assert caught.value.status == 422 and len(seen) == 1


def test_a_body_that_is_not_the_contract_is_a_bad_response() -> None:
    client, _ = client_for(respond(httpx.Response(200, text="<html>captive portal</html>")))
    with pytest.raises(BadResponse, match="PullResponse"):
        client.pull(cursor=None, limit=1)
    client, _ = client_for(respond(httpx.Response(200, json={"cursor": None})))
    with pytest.raises(BadResponse, match="more"):
        client.pull(cursor=None, limit=1)


def test_a_server_that_drips_bytes_is_cut_off_at_the_deadline() -> None:
    policy = RetryPolicy(attempts=3, deadline_s=0.6, read_timeout_s=5.0)
    body = EMPTY_PAGE.model_dump_json().encode()
    client, _ = client_for(lambda _: httpx.Response(200, stream=Drip(body, 0.05)), policy)
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match="still arriving"):
        client.pull(cursor=None, limit=1)
    assert time.monotonic() - started < 1.5


def test_pairing_is_retried_only_when_the_request_cannot_have_arrived() -> None:
    pair_body = {
        "device_id": str(uuid.uuid4()),
        "token": "t",
        "role": "DOOR",
        "scope": {"event_id": str(uuid.uuid4())},
    }
    client, seen = client_for(
        respond(httpx.ConnectError("refused"), httpx.Response(201, json=pair_body))
    )
    assert client.pair(code="ABC", name="door 1").token == "t"
    assert len(seen) == 2
    client, seen = client_for(respond(httpx.Response(500)))
    with pytest.raises(ServerUnavailable):
        client.pair(code="ABC", name="door 1")
    assert len(seen) == 1  # the server may have used the code: never sent twice
    client, seen = client_for(respond(httpx.Response(401, json={"detail": "bad code"})))
    with pytest.raises(RequestRefused, match="pairing code"):
        client.pair(code="ABC", name="door 1")
