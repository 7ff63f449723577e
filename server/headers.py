"""Security headers and caching rules on every response: one ASGI middleware.

Every response gets a Content-Security-Policy that admits only this site's
own files (`script-src 'self'`, no inline script: a page's script lives in a
file under `/static`; inline `style=""` attributes are allowed, `<style>`
blocks are not), may not be framed (`frame-ancestors 'none'` and
`X-Frame-Options: DENY`), is not sniffed (`X-Content-Type-Options:
nosniff`) and sends the referrer only to this site (`Referrer-Policy:
same-origin`). Over https (directly, or through a trusted proxy's
X-Forwarded-Proto) it also gets `Strict-Transport-Security`.

Every response but `/static` files is `Cache-Control: no-store`: pages carry
a per-visitor CSRF token and the signed-in user's name, and API responses
hold tokens or personal data. A route that knows its answer is public may
set its own Cache-Control, which is kept. The API documents (`/docs`,
`/redoc`) load FastAPI's viewer from its CDN with an inline script, so they
get only `frame-ancestors 'none'` in their policy.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DOCS_POLICY: Final = "frame-ancestors 'none'"
HSTS: Final = "max-age=31536000"
_DOCS: Final = ("/docs", "/redoc")
_ALWAYS: Final = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)


def headers_for(path: str, *, https: bool) -> list[tuple[str, str]]:
    """The headers a response to `path` gets (unless it set them itself)."""
    docs = any(path == prefix or path.startswith(prefix + "/") for prefix in _DOCS)
    found = [("content-security-policy", DOCS_POLICY if docs else CONTENT_SECURITY_POLICY)]
    found.extend(_ALWAYS)
    if not path.startswith("/static/"):
        found.append(("cache-control", "no-store"))
    if https:
        found.append(("strict-transport-security", HSTS))
    return found


class SecurityHeaders:
    """Add `headers_for` to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"], https=scope.get("scheme") == "https")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
