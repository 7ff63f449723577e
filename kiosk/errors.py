"""The kiosk's exceptions: one base class with a machine code and a human message.

    KioskError              code "kiosk_error"
    ├── CameraNotFound      code "camera_not_found"     no camera device or video file to open
    ├── UnreadableImage     code "unreadable_image"     a file that is missing or not an image
    ├── DecoderUnavailable  code "decoder_unavailable"  a QR backend whose library cannot load
    ├── SettingsError       code "settings_error"       a flag or SOCA_KIOSK_* value is invalid
    ├── ConfigError         code "config_error"         the device config file is corrupt
    ├── NotPaired           code "not_paired"           the command needs a paired device
    ├── WrongMode           code "wrong_mode"           a mode this device's role cannot run
    ├── NotAPairingCode     code "not_a_pairing_code"   a scanned QR that is not a pairing QR
    ├── PinError            code "pin_error"            a PIN too short, or not confirmed
    ├── StoreError          code "store_error"          a kiosk database cannot be used safely
    └── SyncError           code "sync_error"           talking to the server failed
        ├── ServerUnavailable  "server_unavailable"  network error, 5xx or 429 on every retry
        ├── DeviceRevoked      "device_revoked"      the server answered 401: pair again
        ├── RequestRefused     "request_refused"     any other 4xx (e.g. a used pairing code)
        └── BadResponse        "bad_response"        a body that does not match the contract

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


class CameraProblem(KioskError):
    """The camera failed while scanning (it broke, or its feed could not be decoded)."""

    code: ClassVar[str] = "camera_problem"


class UnreadableImage(KioskError):
    """An image file that cannot be read or is not an image."""

    code: ClassVar[str] = "unreadable_image"


class DecoderUnavailable(KioskError):
    """A QR decoder backend whose library is missing or unknown."""

    code: ClassVar[str] = "decoder_unavailable"


class SettingsError(KioskError):
    """A kiosk setting, from a flag or a SOCA_KIOSK_* environment variable, is invalid."""

    code: ClassVar[str] = "settings_error"


class ConfigError(KioskError):
    """The device config file (pairing) is unreadable or corrupt; the message names the file."""

    code: ClassVar[str] = "config_error"


class NotPaired(KioskError):
    """The command needs a paired device and this data folder has none."""

    code: ClassVar[str] = "not_paired"


class WrongMode(KioskError):
    """A mode (door, prize) that this device's role or scope cannot run."""

    code: ClassVar[str] = "wrong_mode"


class StoreError(KioskError):
    """A kiosk database cannot be opened with the settings it requires (WAL, fsync, ...)."""

    code: ClassVar[str] = "store_error"


class SyncError(KioskError):
    """Talking to the sync server failed."""

    code: ClassVar[str] = "sync_error"


class ServerUnavailable(SyncError):
    """No usable answer on any attempt within the deadline: network error, 5xx or 429."""

    code: ClassVar[str] = "server_unavailable"


class DeviceRevoked(SyncError):
    """The server answered 401: this device's token is revoked or unknown; pair again."""

    code: ClassVar[str] = "device_revoked"


class RequestRefused(SyncError):
    """The server refused a request for good (a 4xx other than 401 and 429); not retried."""

    code: ClassVar[str] = "request_refused"

    def __init__(self, message: str, *, status: int, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail or message  # the server's own sentence


class BadResponse(SyncError):
    """The server's response does not match the contract (status, JSON or model)."""

    code: ClassVar[str] = "bad_response"


class NotAPairingCode(KioskError):
    """A scanned QR code that is not a Soca Passport pairing QR."""

    code: ClassVar[str] = "not_a_pairing_code"


class PinError(KioskError):
    """A kiosk-mode PIN that cannot be set: too short, too long, or the two entries differ."""

    code: ClassVar[str] = "pin_error"
