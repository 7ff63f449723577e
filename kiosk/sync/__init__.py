"""Talking to the server: the HTTP client, one sync cycle, and the background loop.

`SyncClient` (pair, pull, push; retries, deadlines, error translation),
`Synchronizer` (push pending ops in batches, mark each from its result, pull
every page) and `SyncLoop` (cycles on their own thread, beside scanning).
"""
