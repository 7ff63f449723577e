"""`UNSET`: "leave this field as it is" in the services' `update` functions."""

from __future__ import annotations

import enum
from typing import Final


class Unset(enum.Enum):
    """The type of `UNSET`; None stays free to mean "clear this optional field"."""

    UNSET = enum.auto()


UNSET: Final = Unset.UNSET
