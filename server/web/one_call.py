"""The crowd's pages, each served in one worker-thread call.

A sync page under FastAPI pays for its framework: its policy runs on one
worker thread and the page on another, the commit of a unit of work left
open takes a third, and the admission slot and the session are generator
dependencies entered and left through FastAPI's exit stack. For /passport
that path cost about 1 ms of CPU on this host, a quarter of the request
(README, "Event-end web load"), and a crowd at the end of a fête pays it
for every attendee at once.

So the pages a crowd reloads together (`server.web.pages.CROWD_PAGES`) take
one `PageCall` instead: an async dependency that declares the page's policy
and does no work itself. The endpoint, async too, hands its work to
`PageCall.serve`, which takes a slot of the app's admission gate and then,
in one worker-thread call, opens the unit of work, checks the policy, runs
the page and commits. The page's `render` still commits before its template
(`server.web.render.release_database`), so no pooled connection waits on
Jinja; an error rolls back and reaches the app's error pages as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.api.admission import Admission
from server.api.auth import Principal
from server.db.session import unit_of_work
from server.web.auth import SignedInPolicy, WebPolicy, WebPublicPolicy, WebRolePolicy

#: A page's work: the request, its unit of work and whom the policy let in, to a response.
PageWork = Callable[[Request, Session, Principal], Response]
#: The page policies `InOneCall` can check.
PagePolicy = WebPublicPolicy | SignedInPolicy | WebRolePolicy


class PageCall:
    """One request's page, to be served in one worker-thread call (`serve`).

    The call is the page's edge: its unit of work opens and ends inside it (the
    policy's read, the page's reads and writes, the commit), on one worker thread,
    while the admission slot is held around it on the event loop. The work gets the
    session and must not keep it, or anything loaded from it, past the call.
    """

    def __init__(self, policy: PagePolicy, request: Request) -> None:
        self._policy = policy
        self._request = request

    async def serve(self, work: PageWork) -> Response:
        """Take an admission slot (Busy when none frees up), then check the policy, run `work`
        and commit, all in one worker-thread call.

        The call is never abandoned: a client that leaves still lets it finish, so its
        connection goes back to the pool before the slot is freed."""
        admission: Admission = self._request.app.state.admission
        async with admission.slot():
            return await run_in_threadpool(self._run, work)

    def _run(self, work: PageWork) -> Response:
        request = self._request
        with unit_of_work(request.app.state.session_factory) as session:
            request.state.db_session = session  # for `render`, which commits before the template
            principal = self._policy(request, session)
            return work(request, session, principal)


class InOneCall(WebPolicy):
    """A page policy checked in the page's own worker-thread call (`PageCall.serve`), not
    before it in a call of its own."""

    def __init__(self, policy: PagePolicy) -> None:
        self.policy = policy
        self.names = policy.names

    async def __call__(self, request: Request) -> PageCall:
        """The page to serve under this policy."""
        return PageCall(self.policy, request)


#: A crowd page for anyone (a signed-in visitor is recognised).
VisitorPage = Annotated[PageCall, Depends(InOneCall(WebPublicPolicy()))]
#: A crowd page for any signed-in user (LoginRequired otherwise).
SignedInPage = Annotated[PageCall, Depends(InOneCall(SignedInPolicy()))]
