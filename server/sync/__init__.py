"""Reconcile pushed outbox ops (push.py), serve pull pages (pull.py), HQ views (views.py).

The HTTP layer calls exactly these:

- `push.push(session, *, device, request, now, settings) -> PushResponse`
- `pull.pull(session, *, device, cursor, limit, now) -> PullResponse`
- `views.get_op(session, *, op_id) -> dict`
- `views.list_conflicts(session) -> list[dict]`
- `views.device_report(session, *, now) -> list[dict]`
"""
