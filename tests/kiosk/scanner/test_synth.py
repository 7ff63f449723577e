"""The frame synthesiser: deterministic, and its ground truth matches what it drew."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiosk.scanner.synth import Condition, qr_modules, render_blank, render_frame, render_qr


def test_same_seed_gives_the_same_frame(tickets: list[str]) -> None:
    first = render_frame(Condition.GLARE, tickets, seed=42)
    again = render_frame(Condition.GLARE, tickets, seed=42)
    other = render_frame(Condition.GLARE, tickets, seed=43)
    assert np.array_equal(first.image, again.image)
    assert first.codes == again.codes
    assert not np.array_equal(first.image, other.image)


@pytest.mark.parametrize("condition", list(Condition))
def test_every_condition_renders_a_camera_frame(condition: Condition, tickets: list[str]) -> None:
    frame = render_frame(condition, tickets, width=640, height=480, seed=1)
    assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
    expected_codes = 3 if condition is Condition.MULTIPLE else 1
    assert len(frame.codes) == expected_codes
    for code in frame.codes:
        assert 0 < code.center[0] < 640 and 0 < code.center[1] < 480


def test_expected_code_is_the_one_nearest_the_centre(tickets: list[str]) -> None:
    frame = render_frame(Condition.MULTIPLE, tickets, seed=9)
    distances = {code.text: math.dist(code.center, (640, 360)) for code in frame.codes}
    assert frame.expected == min(distances, key=distances.__getitem__)


def test_dim_frames_are_dark_and_inverted_codes_are_light_on_dark(tickets: list[str]) -> None:
    clean = render_frame(Condition.CLEAN, tickets, seed=7)
    dim = render_frame(Condition.DIM, tickets, seed=7)
    assert dim.image.mean() < 0.35 * clean.image.mean()
    inverted = render_frame(Condition.INVERTED, tickets, seed=7)
    x, y = (round(value) for value in inverted.codes[0].center)
    # Around the symbol's centre: light modules and dark ones, as on a dark-mode screen.
    patch = inverted.image[y - 20 : y + 20, x - 20 : x + 20]
    assert patch.max() > 150 and patch.min() < 80


def test_qr_matrix_is_version_6_with_a_quiet_zone(tickets: list[str]) -> None:
    modules = qr_modules(tickets[0])
    assert modules.shape == (41 + 8, 41 + 8)
    assert not modules[:4].any() and not modules[:, -4:].any()
    assert render_qr(tickets[0], module_px=3).shape == (49 * 3, 49 * 3)


def test_multiple_needs_two_payloads_and_frames_need_one(tickets: list[str]) -> None:
    with pytest.raises(ValueError, match="at least two"):
        render_frame(Condition.MULTIPLE, tickets[:1])
    with pytest.raises(ValueError, match="at least one"):
        render_frame(Condition.CLEAN, [])


def test_blank_frames_vary_with_the_seed() -> None:
    assert not np.array_equal(render_blank(seed=1), render_blank(seed=2))
    assert render_blank(width=320, height=240).shape == (240, 320, 3)
