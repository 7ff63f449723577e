"""The kiosk's local storage: the outbox file, the downloaded cache file, the device config.

`Outbox` (ops and their local effects, never wiped) and `Cache` (pulled rows,
safe to wipe) are separate SQLite files so that re-downloading or deleting
the cache can never lose an unsent op. Each class wraps one connection owned
by one thread; see their modules for the transaction contracts.
"""

from kiosk.store.cache import Cache
from kiosk.store.config import DeviceConfig, load_config, save_config
from kiosk.store.outbox import Outbox

__all__ = ["Cache", "DeviceConfig", "Outbox", "load_config", "save_config"]
