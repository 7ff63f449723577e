"""Reconcile pushed outbox ops (push/), serve pull pages (pull.py), HQ views (views.py).

The HTTP layer calls exactly these:

- `push.push(session, *, device, request, now, settings, between_steps) -> PushResponse`
  (`between_steps` is the request's commit: see `push.push`)
- `push.confirm_prize(session, *, offer, customer_id, device, user_id, now, settings)
  -> LoyaltyPass` (a prize confirmed online, decided on the card's ledger with the
  tablets' claims)
- `pull.pull_json(session, *, device, cursor, limit, now) -> str` (the page as JSON text;
  `pull.pull` gives the same page as a `PullResponse`)
- `views.get_op(session, *, op_id) -> dict`
- `views.list_conflicts(session) -> list[dict]`
- `views.device_report(session, *, now) -> list[dict]`
"""
