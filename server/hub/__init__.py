"""The venue hub: `soca-server hub` run on a laptop at the venue, between its doors and HQ.

HQ's side: `replica` pages a HUB device's scope as whole rows with the ops
behind them, and `relay` decides the ops a hub forwards, each as its own
device's push. The hub's side: `mirror` writes those pages into the hub's
SQLite and picks the ops to forward, `link` runs the pull and relay threads,
`serve` builds the app and `advertise` announces it on the local network.
"""
