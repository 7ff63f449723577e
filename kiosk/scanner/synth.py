"""Synthetic door-camera frames: a phone showing a QR code, under one named condition.

Used by the scanner tests, `bench/decode.py` and (later) the demo's simulated
camera. A frame is a blurred indoor scene with a phone in it; the phone's
screen shows the QR code of a payload (our signed tokens). The phone is placed
in 3-D and projected through a pinhole camera, so rotation and tilt give real
perspective, and then the condition is applied: blur, noise, dim light, low
contrast, glare, a small code, a dark-mode (inverted) code, or several phones
at once. Every frame is drawn from a seed, so a seed names the same frame on
every machine. Frames are BGR uint8, as OpenCV cameras deliver them.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import segno
from numpy.typing import NDArray

QUIET_ZONE_MODULES = 4
_MAX_PLACEMENT_TRIES = 200
_MAX_SHRINKS = 12

Gray = NDArray[np.float32]
Frame = NDArray[np.uint8]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


class Condition(enum.StrEnum):
    """What the door camera is up against in one frame."""

    CLEAN = "clean"
    ROTATED = "rotated"
    TILTED = "tilted"
    BLURRED = "blurred"
    NOISY = "noisy"
    DIM = "dim"
    LOW_CONTRAST = "low_contrast"
    GLARE = "glare"
    SMALL = "small"
    INVERTED = "inverted"
    MULTIPLE = "multiple"


@dataclass(frozen=True, slots=True)
class PlacedCode:
    """A code drawn into a frame, and where its centre landed (pixels)."""

    text: str
    center: tuple[float, float]


@dataclass(frozen=True, slots=True)
class SynthFrame:
    """A synthetic frame and the ground truth of what it shows."""

    image: Frame
    condition: Condition
    codes: tuple[PlacedCode, ...]

    @property
    def expected(self) -> str | None:
        """The text a scanner should pick: the code nearest the frame centre."""
        if not self.codes:
            return None
        height, width = self.image.shape[:2]
        return min(
            self.codes,
            key=lambda code: math.dist(code.center, (width / 2, height / 2)),
        ).text


@functools.lru_cache(maxsize=64)
def qr_modules(text: str) -> NDArray[np.bool_]:
    """The QR matrix of `text` (True = dark), with a 4-module quiet zone, as the kiosk issues it."""
    qr = segno.make(text, error="m", boost_error=False)
    matrix = np.array([list(row) for row in qr.matrix], dtype=bool)
    padded = np.pad(matrix, QUIET_ZONE_MODULES, constant_values=False)
    padded.flags.writeable = False  # cached and shared between callers
    return padded


def render_qr(text: str, module_px: int = 8) -> Frame:
    """A flat black-on-white grayscale QR image, `module_px` pixels per module."""
    modules = qr_modules(text)
    image = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(image, np.ones((module_px, module_px), dtype=np.uint8))


def render_blank(*, width: int = 1280, height: int = 720, seed: int = 0) -> Frame:
    """A scene with no code in it: what the door camera sees most of the time."""
    rng = np.random.default_rng(seed)
    gray = _scene(rng, width, height)
    return _to_camera_frame(rng, gray, noise_sigma=rng.uniform(2.0, 4.0))


def render_frame(
    condition: Condition,
    payloads: Sequence[str],
    *,
    width: int = 1280,
    height: int = 720,
    seed: int = 0,
) -> SynthFrame:
    """Draw a frame of `condition` showing `payloads[0]` (MULTIPLE shows up to three payloads)."""
    if not payloads:
        raise ValueError("render_frame needs at least one payload")
    rng = np.random.default_rng(seed)
    gray = _scene(rng, width, height)
    texts = list(payloads[:3]) if condition is Condition.MULTIPLE else [payloads[0]]
    if condition is Condition.MULTIPLE and len(texts) < 2:
        raise ValueError("the MULTIPLE condition needs at least two payloads")

    placed: list[PlacedCode] = []
    boxes: list[Box] = []
    module_sizes: list[float] = []
    for text in texts:
        for attempt in range(_MAX_SHRINKS):
            # A code too big to fit turned (or beside the others) is drawn a little smaller.
            phone = _Phone.draw(rng, text, condition, width, shrink=0.85**attempt)
            placement = _place(rng, phone, condition, width, height, boxes)
            if placement is not None:
                break
        else:
            raise ValueError(f"cannot fit {len(texts)} codes in a {width}x{height} frame")
        homography, center, box = placement
        _composite(gray, phone, homography)
        placed.append(PlacedCode(text, center))
        boxes.append(box)
        module_sizes.append(phone.module_px_in_frame)

    gray = _apply_condition(rng, gray, condition, boxes[0], module_sizes[0])
    noise_sigma = rng.uniform(18.0, 30.0) if condition is Condition.NOISY else rng.uniform(2.0, 4.0)
    image = _to_camera_frame(rng, gray, noise_sigma=noise_sigma)
    return SynthFrame(image=image, condition=condition, codes=tuple(placed))


# --- the scene -----------------------------------------------------------------


def _f32(array: Any) -> Gray:
    return np.asarray(array, dtype=np.float32)


def _u8(array: Any) -> Frame:
    return np.asarray(array, dtype=np.uint8)


def _scene(rng: np.random.Generator, width: int, height: int) -> Gray:
    """An out-of-focus room: a lit gradient, a few blocks of colour, a door frame."""
    # Drawn at a quarter of the size and scaled up: it is out of focus anyway, and it is the
    # costliest part of a frame at full size.
    small_w, small_h = max(1, width // 4), max(1, height // 4)
    angle = rng.uniform(0, 2 * math.pi)
    slope = rng.uniform(-40, 40) / max(small_w, small_h)
    x = np.arange(small_w, dtype=np.float32) * np.float32(slope * math.cos(angle))
    y = np.arange(small_h, dtype=np.float32) * np.float32(slope * math.sin(angle))
    gray = np.float32(rng.uniform(70, 150)) + y[:, None] + x[None, :]
    for _ in range(int(rng.integers(4, 9))):
        corner = (int(rng.integers(0, small_w)), int(rng.integers(0, small_h)))
        size = (
            int(rng.integers(small_w // 10, small_w // 3)),
            int(rng.integers(small_h // 8, small_h)),
        )
        level = float(rng.uniform(30, 220))
        if rng.random() < 0.5:
            cv2.rectangle(gray, corner, (corner[0] + size[0], corner[1] + size[1]), level, -1)
        else:
            axes = (size[0] // 2, size[1] // 3)
            cv2.ellipse(gray, corner, axes, float(rng.uniform(0, 180)), 0, 360, level, -1)
    door_x = int(rng.integers(0, small_w))
    cv2.line(
        gray, (door_x, 0), (door_x, small_h), float(rng.uniform(20, 60)), max(1, small_w // 60)
    )
    gray = cv2.GaussianBlur(gray, (0, 0), rng.uniform(0.75, 2.0))
    return _f32(cv2.resize(gray, (width, height), interpolation=cv2.INTER_LINEAR))


@functools.lru_cache(maxsize=4)
def _noise_field(height: int, width: int) -> NDArray[np.float32]:
    """Unit Gaussian noise a little larger than a frame, made once: frames take shifted windows."""
    field = np.random.default_rng(0).standard_normal((height + 64, width + 64), dtype=np.float32)
    field.flags.writeable = False
    return field


def _to_camera_frame(rng: np.random.Generator, gray: Gray, *, noise_sigma: float) -> Frame:
    """Sensor noise, a slight colour cast (so BGR-to-gray matters), 8-bit quantisation."""
    height, width = gray.shape
    top, left = (int(v) for v in rng.integers(0, 64, size=2))
    noise = _noise_field(height, width)[top : top + height, left : left + width]
    # Clamp at 0 first: convertScaleAbs rounds and saturates at 255 but folds negatives up.
    noisy = np.maximum(_f32(cv2.scaleAdd(noise, noise_sigma, gray)), 0.0)
    gains = rng.uniform(0.9, 1.05, size=3)
    channels = [cv2.convertScaleAbs(noisy, alpha=float(gain)) for gain in gains]
    return _u8(cv2.merge(channels))


# --- the phone -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Phone:
    """A phone drawn flat in its own pixel space, with where its code sits in it."""

    image: Gray
    code_center: tuple[float, float]
    code_half_px: float  # half the symbol's side (without quiet zone), phone pixels
    scale: float  # frame pixels per phone pixel, before tilt
    module_px_in_frame: float

    @classmethod
    def draw(
        cls, rng: np.random.Generator, text: str, condition: Condition, width: int, shrink: float
    ) -> _Phone:
        """Draw a phone whose symbol will span the fraction of frame width the condition asks."""
        modules = qr_modules(text)
        symbol_modules = modules.shape[0] - 2 * QUIET_ZONE_MODULES
        if condition is Condition.SMALL:
            fraction = rng.uniform(0.10, 0.14)
        elif condition is Condition.MULTIPLE:
            fraction = rng.uniform(0.15, 0.22)
        else:
            fraction = rng.uniform(0.15, 0.40)
        module_px_in_frame = shrink * fraction * width / symbol_modules
        # Draw at about twice the final resolution, then low-pass before the warp: a camera
        # integrates light over each pixel, it does not sample module edges.
        module_px = max(2, math.ceil(2 * module_px_in_frame))

        if condition is Condition.INVERTED:
            screen, dark, light = rng.uniform(15, 45), rng.uniform(15, 45), rng.uniform(185, 235)
            background = dark
        elif condition is Condition.LOW_CONTRAST:
            light = rng.uniform(150, 180)
            dark = light - rng.uniform(35, 55)
            screen = background = light
        else:
            light, dark = rng.uniform(190, 250), rng.uniform(0, 40)
            screen = background = light
        code = np.where(modules, dark, light).astype(np.float32)
        if condition is Condition.INVERTED:
            code = np.where(modules, light, background).astype(np.float32)
        code = np.kron(code, np.ones((module_px, module_px), dtype=np.float32))

        side = code.shape[0]
        margin = int(rng.uniform(0.5, 2.0) * module_px)
        screen_w = side + 2 * margin
        screen_h = int(screen_w * rng.uniform(1.3, 1.8))
        bezel = max(2, int(screen_w * rng.uniform(0.03, 0.06)))
        phone = np.full(
            (screen_h + 2 * bezel, screen_w + 2 * bezel), rng.uniform(10, 45), dtype=np.float32
        )
        phone[bezel : bezel + screen_h, bezel : bezel + screen_w] = screen
        top = bezel + int((screen_h - side) * rng.uniform(0.25, 0.5))
        left = bezel + margin
        phone[top : top + side, left : left + side] = code
        phone = _f32(cv2.GaussianBlur(phone, (0, 0), 0.4 * module_px / module_px_in_frame))
        half = symbol_modules * module_px / 2
        return cls(
            image=phone,
            code_center=(left + side / 2, top + side / 2),
            code_half_px=half,
            scale=module_px_in_frame / module_px,
            module_px_in_frame=module_px_in_frame,
        )


def _rotation(axis: NDArray[np.float64], angle: float) -> NDArray[np.float64]:
    """Rodrigues: the 3-D rotation by `angle` about the unit vector `axis`."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation: NDArray[np.float64] = (
        np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)
    )
    return rotation


def _project(
    phone: _Phone, points: NDArray[np.float64], rotation: NDArray[np.float64], focal: float
) -> NDArray[np.float64]:
    """Project phone-pixel points through a pinhole camera looking at the phone's code."""
    centred = (points - np.array(phone.code_center)) * phone.scale
    world = np.c_[centred, np.zeros(len(points))] @ rotation.T + np.array([0.0, 0.0, focal])
    projected: NDArray[np.float64] = focal * world[:, :2] / world[:, 2:3]
    return projected


def _place(
    rng: np.random.Generator,
    phone: _Phone,
    condition: Condition,
    width: int,
    height: int,
    taken: Sequence[Box],
) -> tuple[NDArray[np.float64], tuple[float, float], Box] | None:
    """Pose the phone and find a spot where its code is wholly in frame and overlaps no other."""
    if condition is Condition.ROTATED:
        roll = rng.uniform(0, 2 * math.pi)
    else:
        roll = math.radians(rng.uniform(-12, 12))
    tilt = math.radians(
        rng.uniform(30, 50) if condition is Condition.TILTED else rng.uniform(0, 15)
    )
    tilt_direction = rng.uniform(0, 2 * math.pi)
    axis = np.array([math.cos(tilt_direction), math.sin(tilt_direction), 0.0])
    rotation = _rotation(np.array([0.0, 0.0, 1.0]), roll) @ _rotation(axis, tilt)

    h, w = phone.image.shape
    cx, cy = phone.code_center
    half = phone.code_half_px
    phone_corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    code_corners = np.array(
        [
            [cx - half, cy - half],
            [cx + half, cy - half],
            [cx + half, cy + half],
            [cx - half, cy + half],
        ]
    )
    focal = float(width)
    projected_phone = _project(phone, phone_corners, rotation, focal)
    projected_code = _project(phone, code_corners, rotation, focal)
    low, high = projected_code.min(axis=0), projected_code.max(axis=0)
    margin = 0.02 * width
    # Shifts that keep the whole symbol inside the frame.
    shift_low = np.array([margin, margin]) - low
    shift_high = np.array([width - margin, height - margin]) - high
    if np.any(shift_low > shift_high):
        return None
    middle = np.array([width / 2, height / 2])

    if not taken:
        # Door staff aim the camera: the (first) code lands in the middle 60 % of the frame
        # when it fits there.
        aim_low = np.maximum(shift_low, middle * 0.4)
        aim_high = np.minimum(shift_high, middle * 1.6)
        if np.all(aim_low <= aim_high):
            shift_low, shift_high = aim_low, aim_high
        shift = rng.uniform(shift_low, shift_high)
    else:
        # Other phones are clearly further from the centre than the first, and (drawn on
        # top) cover no code already in the frame.
        first_distance = math.dist(_box_centre(taken[0]), middle)
        phone_low, phone_high = projected_phone.min(axis=0), projected_phone.max(axis=0)
        for _ in range(_MAX_PLACEMENT_TRIES):
            shift = rng.uniform(shift_low, shift_high)
            box = _box(low + shift, high + shift)
            phone_box = _box(phone_low + shift, phone_high + shift)
            further = math.dist(_box_centre(box), middle) > first_distance + 0.08 * width
            if further and not any(_overlaps(phone_box, other, margin) for other in taken):
                break
        else:
            return None
    box = _box(low + shift, high + shift)
    homography = np.asarray(
        cv2.getPerspectiveTransform(
            phone_corners.astype(np.float32), (projected_phone + shift).astype(np.float32)
        ),
        dtype=np.float64,
    )
    center = _project(phone, np.array([phone.code_center]), rotation, focal)[0] + shift
    return homography, (float(center[0]), float(center[1])), box


def _box(low: NDArray[np.float64], high: NDArray[np.float64]) -> Box:
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def _box_centre(box: Box) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _overlaps(a: Box, b: Box, margin: float) -> bool:
    return not (
        a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1]
    )


def _composite(gray: Gray, phone: _Phone, homography: NDArray[np.float64]) -> None:
    """Warp the phone into the frame in place (phones are opaque)."""
    size = (gray.shape[1], gray.shape[0])
    warped = cv2.warpPerspective(phone.image, homography, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones_like(phone.image), homography, size, flags=cv2.INTER_LINEAR)
    gray *= 1 - mask
    gray += warped * mask


# --- conditions ----------------------------------------------------------------


def _apply_condition(
    rng: np.random.Generator,
    gray: Gray,
    condition: Condition,
    box: Box,
    module_px: float,
) -> Gray:
    """Lens and light effects on the whole composed frame."""
    if condition is Condition.BLURRED:
        if rng.random() < 0.5:
            # Out of focus.
            return _f32(cv2.GaussianBlur(gray, (0, 0), rng.uniform(0.2, 0.4) * module_px))
        # The phone moving while the shutter is open.
        length = max(2, round(rng.uniform(0.7, 1.5) * module_px))
        kernel = np.zeros((length, length), dtype=np.float32)
        kernel[length // 2, :] = 1.0
        turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
        kernel = _f32(cv2.warpAffine(kernel, turn, (length, length)))
        return _f32(cv2.filter2D(gray, -1, kernel / kernel.sum()))
    blurred = _f32(cv2.GaussianBlur(gray, (0, 0), 0.5))  # every lens is a little soft
    if condition is Condition.DIM:
        return blurred * rng.uniform(0.12, 0.25)
    if condition is Condition.GLARE:
        x0, y0, x1, y1 = box
        side = min(x1 - x0, y1 - y0)
        gx = rng.uniform(x0 + 0.2 * side, x1 - 0.2 * side)
        gy = rng.uniform(y0 + 0.2 * side, y1 - 0.2 * side)
        sigma = rng.uniform(0.10, 0.18) * side
        x = np.arange(gray.shape[1], dtype=np.float32)
        y = np.arange(gray.shape[0], dtype=np.float32)
        blob = np.outer(
            np.exp(-((y - gy) ** 2) / (2 * sigma**2)), np.exp(-((x - gx) ** 2) / (2 * sigma**2))
        )
        veil = rng.uniform(10, 30)
        return np.minimum(blurred + veil + rng.uniform(90, 160) * blob, 255.0)
    return blurred
