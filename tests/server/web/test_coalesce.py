"""A signed-in browser's concurrent reloads of a crowd page share one answer; nothing else does."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from starlette.types import Message, Receive, Scope, Send

from server.web.auth import SESSION_COOKIE
from server.web.coalesce import MAX_SHARED_BYTES, Coalesce
from tests.server.web.conftest import browser, login
from tests.server.web.world import WebWorld

SIGNED_IN = f"{SESSION_COOKIE}=abc".encode()


class SlowPage:
    """A page that takes until `release` is set, counting how often it runs."""

    def __init__(self, body: bytes = b"page", fail: bool = False) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.body = body
        self.fail = fail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait for the release, then answer (or fail)."""
        self.runs += 1
        run = self.runs
        await self.release.wait()
        if self.fail and run == 1:
            raise RuntimeError("the leader failed")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-run", b"1")]})
        await send({"type": "http.response.body", "body": self.body})


def _scope(path: str = "/passport", cookie: bytes = SIGNED_IN, method: str = "GET") -> Scope:
    headers = [(b"cookie", cookie)] if cookie else []
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": headers,
    }


async def _call(app: Coalesce, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def _together(page: SlowPage, *scopes: Scope) -> list[list[Message]]:
    """Run requests at once; let the page answer once they all arrived."""
    app = Coalesce(page, session_cookie=SESSION_COOKIE, paths={"/passport"}, prefixes=("/e/",))
    calls = [asyncio.ensure_future(_call(app, scope)) for scope in scopes]
    await asyncio.sleep(0.01)
    page.release.set()
    return await asyncio.gather(*calls)


def test_reloads_by_one_browser_run_the_page_once_and_each_gets_the_answer() -> None:
    page = SlowPage()
    answers = asyncio.run(_together(page, *[_scope() for _ in range(5)]))
    assert page.runs == 1
    assert all(answer[-1]["body"] == b"page" for answer in answers)
    assert all(answer[0]["headers"] == [(b"x-run", b"1")] for answer in answers)
    assert answers[1][0] is not answers[2][0]  # each copy may be changed on its way out


def test_other_browsers_signed_out_visitors_posts_and_other_pages_run_on_their_own() -> None:
    page = SlowPage()
    scopes = [
        _scope(),
        _scope(cookie=f"{SESSION_COOKIE}=other".encode()),
        _scope(cookie=b""),
        _scope(cookie=b""),
        _scope(cookie=b"soca_visitor=v"),
        _scope(method="POST"),
        _scope(path="/promoter"),
    ]
    asyncio.run(_together(page, *scopes))
    assert page.runs == len(scopes)


def test_a_prefix_page_is_joined_and_the_query_string_tells_pages_apart() -> None:
    page = SlowPage()
    joined, other = _scope(path="/e/1"), _scope(path="/e/1")
    other["query_string"] = b"tab=2"
    asyncio.run(_together(page, _scope(path="/e/1"), joined, other))
    assert page.runs == 2


def test_a_reload_after_the_answer_runs_again_nothing_is_cached() -> None:
    page = SlowPage()
    page.release.set()
    app = Coalesce(page, session_cookie=SESSION_COOKIE, paths={"/passport"})

    async def twice() -> None:
        await _call(app, _scope())
        await _call(app, _scope())

    asyncio.run(twice())
    assert page.runs == 2


def test_when_the_leader_fails_its_followers_run_on_their_own() -> None:
    page = SlowPage(fail=True)
    app = Coalesce(page, session_cookie=SESSION_COOKIE, paths={"/passport"})

    async def crowd() -> list[Any]:
        calls = [asyncio.ensure_future(_call(app, _scope())) for _ in range(3)]
        await asyncio.sleep(0.01)
        page.release.set()
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(crowd())
    assert isinstance(results[0], RuntimeError)
    assert [answer[-1]["body"] for answer in results[1:]] == [b"page", b"page"]
    assert page.runs == 3


def test_an_answer_too_large_to_copy_is_run_again_for_each_follower() -> None:
    page = SlowPage(body=b"x" * (MAX_SHARED_BYTES + 1))
    answers = asyncio.run(_together(page, _scope(), _scope(), _scope()))
    assert page.runs == 3
    assert all(len(answer[-1]["body"]) == MAX_SHARED_BYTES + 1 for answer in answers)


def test_passport_reloaded_five_times_at_once_reads_the_database_once(
    app: FastAPI, world: WebWorld
) -> None:
    """Over the whole app: one token check for five reloads, each answer whole and with the
    security headers once; another person's reload at the same time gets their own page."""
    cookies = []
    for name in ("attendee", "owner"):
        with browser(app) as client:
            login(client, world.emails[name])
            cookies.append(client.cookies[SESSION_COOKIE])
    token_reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "FROM api_tokens" in statement:
            token_reads.append(statement)

    async def crowd() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        clients = [
            httpx.AsyncClient(
                transport=transport, base_url="http://test", cookies={SESSION_COOKIE: cookie}
            )
            for cookie in cookies
        ]
        try:
            return await asyncio.gather(
                *(clients[0].get("/passport") for _ in range(5)), clients[1].get("/passport")
            )
        finally:
            for client in clients:
                await client.aclose()

    event.listen(app.state.engine, "before_cursor_execute", count)
    try:
        answers = asyncio.run(crowd())
    finally:
        event.remove(app.state.engine, "before_cursor_execute", count)
    assert [answer.status_code for answer in answers] == [200] * 6
    assert len(token_reads) == 2
    assert len({answer.text for answer in answers[:5]}) == 1
    assert answers[5].text != answers[0].text
    assert all(answer.headers.get_list("content-security-policy") for answer in answers)
    assert all(len(answer.headers.get_list("x-frame-options")) == 1 for answer in answers)
