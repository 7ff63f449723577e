"""Choosing the server: a hub only when it answers as a hub for this event; HQ otherwise."""

from __future__ import annotations

import uuid
from pathlib import Path

from core.clock import FixedClock
from core.wire import HubInfo
from kiosk.sync.client import RetryPolicy
from kiosk.sync.discovery import serves
from kiosk.sync.route import Router, learn_route, load_route
from tests.kiosk.world import NOW, World, install

DEAD = "http://127.0.0.1:9"  # the discard port: nothing answers


class Found:
    """A hub browser that has seen the given URLs."""

    def __init__(self, *urls: str) -> None:
        self.urls, self.closed = list(urls), False

    def found(self) -> list[str]:
        return self.urls

    def close(self) -> None:
        self.closed = True


def test_a_txt_record_serves_its_events_or_all_when_it_names_none() -> None:
    event = uuid.uuid4()
    assert serves(f"{uuid.uuid4()},{event}", event)
    assert not serves(str(uuid.uuid4()), event)
    assert serves("", event)


def test_pairing_through_a_hub_records_hq_behind_it(tmp_path: Path) -> None:
    learn_route(tmp_path, "http://hub:8100/", HubInfo(hub=True, upstream="https://hq.example/"))
    state = load_route(tmp_path)
    assert (state.hub, state.upstream) == ("http://hub:8100", "https://hq.example")
    learn_route(tmp_path / "other", "https://hq.example", None)
    assert load_route(tmp_path / "other").upstream == "https://hq.example"


def test_a_hub_that_does_not_answer_is_skipped_for_hq_and_rests(
    tmp_path: Path, world: World
) -> None:
    settings, config = install(tmp_path / "door", world, server_url="https://hq.example")
    learn_route(settings.data_dir, "https://hq.example", None)
    browser = Found(DEAD)
    router = Router(
        folder=settings.data_dir,
        config=config,
        policy=RetryPolicy(attempts=1, deadline_s=2),
        clock=FixedClock(NOW),
        browser=browser,
    )
    assert router.candidates() == [("upstream", "https://hq.example")]
    assert router._resting(DEAD)  # not asked again at once
    router.used("upstream", "https://hq.example")
    assert load_route(settings.data_dir).via == "upstream"
    router.close()
    assert browser.closed
