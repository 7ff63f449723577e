"""Consecutive-frame acceptance and the same-code suppression window."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.scanner.validator import ScanValidator


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed_all(validator: ScanValidator, reads: list[str | None]) -> list[str]:
    accepted = []
    for text in reads:
        result = validator.feed(text)
        if result is not None:
            accepted.append(result)
    return accepted


def test_code_is_accepted_on_its_second_consecutive_frame() -> None:
    validator = ScanValidator(required_frames=2, clock=FakeClock())
    assert validator.feed("A") is None
    assert validator.feed("A") == "A"


def test_a_blank_frame_between_sightings_breaks_the_streak() -> None:
    validator = ScanValidator(required_frames=2, clock=FakeClock())
    assert feed_all(validator, ["A", None, "A", None, "A"]) == []


def test_required_frames_is_configurable() -> None:
    validator = ScanValidator(required_frames=4, clock=FakeClock())
    assert feed_all(validator, ["A", "A", "A"]) == []
    assert validator.feed("A") == "A"
    assert feed_all(ScanValidator(required_frames=1, clock=FakeClock()), ["B"]) == ["B"]


def test_a_code_held_up_for_a_long_time_is_one_scan() -> None:
    clock = FakeClock()
    validator = ScanValidator(clock=clock)
    accepted = []
    for _ in range(600):  # 20 s at 30 decoded frames a second
        accepted += feed_all(validator, ["A"])
        clock.now += 1 / 30
    assert accepted == ["A"]


def test_same_code_is_suppressed_for_the_window_after_it_was_last_seen() -> None:
    clock = FakeClock()
    validator = ScanValidator(suppress_seconds=5.0, clock=clock)
    assert feed_all(validator, ["A", "A"]) == ["A"]
    clock.now += 4.9
    assert feed_all(validator, [None, "A", "A"]) == []  # seen again: the window restarts
    clock.now += 4.9
    assert feed_all(validator, [None, "A", "A"]) == []
    clock.now += 5.0
    assert feed_all(validator, [None, "A", "A"]) == ["A"]


def test_a_different_code_is_accepted_at_once() -> None:
    clock = FakeClock()
    validator = ScanValidator(clock=clock)
    assert feed_all(validator, ["A", "A", "B", "B"]) == ["A", "B"]


def test_going_back_and_forth_between_two_phones_admits_each_once() -> None:
    clock = FakeClock()
    validator = ScanValidator(clock=clock)
    accepted = []
    for _ in range(10):
        accepted += feed_all(validator, ["A", "A", None, "B", "B", None])
        clock.now += 0.5
    assert accepted == ["A", "B"]


def test_reset_forgets_suppressed_codes() -> None:
    validator = ScanValidator(clock=FakeClock())
    assert feed_all(validator, ["A", "A"]) == ["A"]
    validator.reset()
    assert feed_all(validator, ["A", "A"]) == ["A"]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="required_frames"):
        ScanValidator(required_frames=0)
    with pytest.raises(ValueError, match="suppress_seconds"):
        ScanValidator(suppress_seconds=-1)


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", None]), st.floats(min_value=0, max_value=3)),
        max_size=200,
    ),
    st.integers(min_value=1, max_value=4),
)
def test_acceptances_follow_both_rules_for_any_stream(
    events: list[tuple[str | None, float]], required_frames: int
) -> None:
    clock = FakeClock()
    validator = ScanValidator(required_frames=required_frames, suppress_seconds=5.0, clock=clock)
    reads: list[str | None] = []
    sightings: dict[str, list[float]] = {}
    accepted_at: dict[str, list[float]] = {}
    for text, step in events:
        clock.now += step
        reads.append(text)
        if text is not None:
            sightings.setdefault(text, []).append(clock.now)
        if validator.feed(text) is not None:
            assert text is not None
            # Rule 1: the last `required_frames` reads were all this code.
            assert reads[-required_frames:] == [text] * required_frames
            accepted_at.setdefault(text, []).append(clock.now)

    for text, times in accepted_at.items():
        # Rule 2: between two scans of one code it was out of sight for the whole window.
        for first, second in itertools.pairwise(times):
            seen = [at for at in sightings[text] if first <= at <= second]
            assert any(later - earlier >= 5.0 for earlier, later in itertools.pairwise(seen))
    # And every code that was held up long enough was scanned at least once.
    held = {
        reads[index]
        for index in range(len(reads) - required_frames + 1)
        if reads[index] is not None
        and reads[index : index + required_frames] == [reads[index]] * required_frames
    }
    assert held == set(accepted_at)
