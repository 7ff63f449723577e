"""The kiosk's exceptions: one base class with a machine code and a human message.

    KioskError                 code "kiosk_error"
    ├── CameraNotFound         code "camera_not_found"     no camera device or video file to open
    ├── UnreadableImage        code "unreadable_image"     a file that is missing or not an image
    └── DecoderUnavailable     code "decoder_unavailable"  a QR backend whose library cannot load

Library errors (OpenCV, pyzbar, OS errors) are translated into these at the
adapter that calls the library (`raise ... from exc`), so callers catch one
tree and show `message` to a person and `code` to a machine.
"""

from __future__ import annotations

from typing import ClassVar


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""

    code: ClassVar[str] = "kiosk_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CameraNotFound(KioskError):
    """No camera at the given device index, or no readable video at the given path."""

    code: ClassVar[str] = "camera_not_found"


class UnreadableImage(KioskError):
    """An image file that cannot be read or is not an image."""

    code: ClassVar[str] = "unreadable_image"


class DecoderUnavailable(KioskError):
    """A QR decoder backend whose library is missing or unknown."""

    code: ClassVar[str] = "decoder_unavailable"
